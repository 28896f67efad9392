#include "trace_format/trace_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader (exported by the shared libzstd too)
#include <zstd.h>

#include <capnp/any.h>
#include <kj/exception.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/hash.h"
#include "trace_format/chunk_format.h"
#include "trace_format/format.h"
#include "trace_format/message_check.h"

namespace rrx::trace {

namespace {

// Large enough for the biggest message a chunk can hold to be read several
// times over, small enough to bound the work on a hostile message.
capnp::ReaderOptions reader_options() {
  capnp::ReaderOptions o;
  o.traversalLimitInWords = uint64_t{1} << 30;
  o.nestingLimit = 64;
  return o;
}

ZSTD_DCtx* dctx(void* p) { return static_cast<ZSTD_DCtx*>(p); }

// RRX_TRACE_PREFETCH=0: every chunk is loaded when it is reached (to
// measure the prefetch against, or to rule it out).
// Chunks read ahead at most: 2 MiB of events at the writer's chunk size.
constexpr size_t kPrefetchDepth = 8;

bool prefetch_wanted() {
  const char* v = std::getenv("RRX_TRACE_PREFETCH");
  return v == nullptr || std::string(v) != "0";
}

const char* kind_name(uint8_t kind) {
  switch (static_cast<ChunkKind>(kind)) {
    case ChunkKind::Header: return "header";
    case ChunkKind::Events: return "events";
    case ChunkKind::End: return "end";
  }
  return "unknown";
}

// Walks the flat messages of a decompressed chunk payload; returns the word
// offset of each message and then the end. Empty string on success, else why.
// `words`: the chunk's payload, `total` words (its buffer may be longer: a
// buffer of load_chunk's pool).
std::string message_offsets(const std::vector<capnp::word>& words, size_t total, uint32_t count,
                            std::vector<uint32_t>& offsets) {
  offsets.clear();
  offsets.reserve(static_cast<size_t>(count) + 1);
  const auto* base = reinterpret_cast<const unsigned char*>(words.data());
  size_t pos = 0;
  for (uint32_t m = 0; m < count; ++m) {
    offsets.push_back(static_cast<uint32_t>(pos));
    if (total - pos < 1) return "message " + std::to_string(m) + " starts past the end of the chunk";
    uint32_t first;
    std::memcpy(&first, base + pos * 8, 4);
    uint64_t nseg = uint64_t{first} + 1;
    if (nseg > 512) return "message " + std::to_string(m) + " has too many segments";
    uint64_t table = nseg / 2 + 1;
    if (table > total - pos) return "message " + std::to_string(m) + " has a truncated segment table";
    uint64_t size = table;
    for (uint64_t s = 0; s < nseg; ++s) {
      uint32_t seg;
      std::memcpy(&seg, base + pos * 8 + 4 + 4 * s, 4);
      size += seg;
    }
    if (size > total - pos) return "message " + std::to_string(m) + " runs past the end of the chunk";
    pos += size;
  }
  offsets.push_back(static_cast<uint32_t>(pos));
  if (pos != total)
    return std::to_string(total - pos) + " bytes after the last message of the chunk";
  return {};
}

// Walks every pointer of a message (capnp bounds-checks each one as it is
// followed) and rejects what no rrx writer produces and what would make a
// caller loop without end: lists of huge numbers of zero-sized elements,
// which take no bytes in the message, and capabilities.
constexpr unsigned kMaxZeroSizedElements = 1024;

void check_struct(capnp::AnyStruct::Reader s);

void check_pointer(capnp::AnyPointer::Reader p) {
  switch (p.getPointerType()) {
    case capnp::PointerType::NULL_:
      return;
    case capnp::PointerType::CAPABILITY:
      throw std::runtime_error("capability pointer in a trace message");
    case capnp::PointerType::STRUCT:
      check_struct(p.getAs<capnp::AnyStruct>());
      return;
    case capnp::PointerType::LIST: {
      auto list = p.getAs<capnp::AnyList>();
      switch (list.getElementSize()) {
        case capnp::ElementSize::VOID:
          if (list.size() > kMaxZeroSizedElements)
            throw std::runtime_error("list of " + std::to_string(list.size()) + " empty elements");
          return;
        case capnp::ElementSize::POINTER:
          for (auto e : list.as<capnp::List<capnp::AnyPointer>>()) check_pointer(e);
          return;
        case capnp::ElementSize::INLINE_COMPOSITE: {
          auto structs = list.as<capnp::List<capnp::AnyStruct>>();
          if (structs.size() > kMaxZeroSizedElements && structs[0].getDataSection().size() == 0 &&
              structs[0].getPointerSection().size() == 0)
            throw std::runtime_error("list of " + std::to_string(structs.size()) + " empty structs");
          for (auto e : structs) check_struct(e);
          return;
        }
        default:
          return;  // bits and bytes: bounds-checked by getAs()
      }
    }
  }
}

void check_struct(capnp::AnyStruct::Reader s) {
  for (auto p : s.getPointerSection()) check_pointer(p);
}

}  // namespace

Message::Message(std::shared_ptr<const std::vector<capnp::word>> chunk,
                 kj::ArrayPtr<const capnp::word> words)
    : chunk_(std::move(chunk)), reader_(words, reader_options()) {}

TraceReader::TraceReader(const std::filesystem::path& dir) : dir_(dir) {
  trace_path_ = (dir_ / kTraceFileName).string();
  fd_ = ::open(trace_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    int err = errno;
    if (err == ENOENT)
      throw TraceError(trace_path_, 0, "no such file: " + dir_.string() + " is not an rrx trace directory");
    throw TraceError(trace_path_, 0, std::string("cannot open: ") + std::strerror(err));
  }
  try {
    finish_open();
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    if (zstd_dctx_ != nullptr) ZSTD_freeDCtx(dctx(zstd_dctx_));
    zstd_dctx_ = nullptr;
    throw;
  }
}

TraceReader::~TraceReader() {
  prefetch_.reset();  // (its thread reads fd_ and the pool)
  if (fd_ >= 0) ::close(fd_);
  if (zstd_dctx_ != nullptr) ZSTD_freeDCtx(dctx(zstd_dctx_));
}

void TraceReader::finish_open() {
  struct stat st{};
  if (::fstat(fd_, &st) != 0) throw TraceError(trace_path_, 0, std::string("fstat: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw TraceError(trace_path_, 0, "not a regular file");
  file_size_ = static_cast<uint64_t>(st.st_size);

  // File header: magic, version, flags.
  unsigned char fh[kFileHeaderSize];
  long long got = detail::pread_full(fd_, fh, sizeof fh, 0);
  if (got < 0) throw TraceError(trace_path_, 0, std::string("read: ") + std::strerror(errno));
  size_t have = static_cast<size_t>(got);
  if (have == 0)
    throw TraceError(trace_path_, 0, "empty trace file (the recorder was killed before it wrote the header?)");
  if (std::memcmp(fh, kFileMagic, std::min<size_t>(have, 8)) != 0)
    throw TraceError(trace_path_, 0, "not an rrx trace (bad magic)");
  if (have < kFileHeaderSize)
    throw TraceError(trace_path_, have, "truncated trace: the file header is incomplete");
  uint32_t version, flags;
  std::memcpy(&version, fh + 8, 4);
  std::memcpy(&flags, fh + 12, 4);
  if (version > kFormatVersion)
    throw TraceError(trace_path_, 8,
                     "the trace format version " + std::to_string(version) +
                         " is newer than this rrx supports (" + std::to_string(kFormatVersion) +
                         "); upgrade rrx to read it");
  if (version == 0) throw TraceError(trace_path_, 8, "invalid trace format version 0");
  if (flags != 0) throw TraceError(trace_path_, 12, "unknown trace flags " + std::to_string(flags));

  zstd_dctx_ = ZSTD_createDCtx();
  if (zstd_dctx_ == nullptr) throw TraceError(trace_path_, 0, "cannot create a zstd decompression context");

  if (!load_index()) {
    scan_chunks();
    save_index();
  }

  readable_events_ = 0;
  for (const ChunkInfo& c : chunks_)
    if (c.kind == static_cast<uint8_t>(ChunkKind::Events)) readable_events_ += c.count;

  // The Header message.
  {
    const ChunkInfo& c = chunks_.front();
    auto words = load_chunk(c);
    std::vector<uint32_t> offsets;
    std::string why = message_offsets(*words, c.uncompressed_size / 8, c.count, offsets);
    if (!why.empty()) throw TraceError(trace_path_, c.offset, "header chunk: " + why);
    try {
      header_ = std::make_shared<Message>(
          words, kj::ArrayPtr<const capnp::word>(words->data() + offsets[0], offsets[1] - offsets[0]));
      check_pointer(header_->as<capnp::AnyPointer>());  // a malformed message throws here
      auto h = header_->as<schema::Header>();
      if (h.getFormatVersion() > kFormatVersion)
        throw TraceError(trace_path_, c.offset,
                         "the trace format version " + std::to_string(h.getFormatVersion()) +
                             " is newer than this rrx supports (" + std::to_string(kFormatVersion) +
                             "); upgrade rrx to read it");
      // The file header's version is outside every checksum: the header
      // message's (inside one) must say the same.
      if (h.getFormatVersion() != version)
        throw TraceError(trace_path_, 8,
                         "damaged trace: the file header says format version " + std::to_string(version) +
                             ", its header chunk says " + std::to_string(h.getFormatVersion()));
    } catch (const kj::Exception& e) {
      throw TraceError(trace_path_, c.offset, "malformed header message: " + std::string(e.getDescription().cStr()));
    } catch (const TraceError&) {
      throw;
    } catch (const std::exception& e) {
      throw TraceError(trace_path_, c.offset, std::string("malformed header message: ") + e.what());
    }
  }

  // The End message, when the recording was closed.
  const ChunkInfo& last = chunks_.back();
  if (last.kind == static_cast<uint8_t>(ChunkKind::End)) {
    auto words = load_chunk(last);
    std::vector<uint32_t> offsets;
    std::string why = message_offsets(*words, last.uncompressed_size / 8, last.count, offsets);
    if (!why.empty()) throw TraceError(trace_path_, last.offset, "end chunk: " + why);
    EndInfo info;
    try {
      capnp::FlatArrayMessageReader reader(
          kj::ArrayPtr<const capnp::word>(words->data() + offsets[0], offsets[1] - offsets[0]),
          reader_options());
      check_pointer(reader.getRoot<capnp::AnyPointer>());
      auto end = reader.getRoot<schema::End>();
      info.event_count = end.getEventCount();
      info.end_time_unix_ns = end.getEndTimeUnixNs();
      info.exit_status = end.getExitStatus();
      info.reason = end.getReason();
      for (auto o : end.getSharedObjects()) {
        info.shared_objects.push_back(
            SharedObjectEnd{o.getObject(), o.getSize(), o.getContentHash().cStr(), o.getPath().cStr(), o.getUnchanged()});
      }
    } catch (const kj::Exception& e) {
      throw TraceError(trace_path_, last.offset, "malformed end message: " + std::string(e.getDescription().cStr()));
    } catch (const std::exception& e) {
      throw TraceError(trace_path_, last.offset, std::string("malformed end message: ") + e.what());
    }
    if (info.event_count != readable_events_)
      throw TraceError(trace_path_, last.offset,
                       "the end record counts " + std::to_string(info.event_count) +
                           " events but the chunks hold " + std::to_string(readable_events_));
    end_ = std::move(info);
  } else if (std::string why = abort_reason(); !why.empty()) {
    aborted_ = true;
    incomplete_reason_ = "the recording was aborted: " + why;
  } else if (valid_end_ < file_size_) {
    incomplete_reason_ = trace_path_ + ": the last chunk, at offset " + std::to_string(valid_end_) +
                         ", is truncated: the file ends at offset " + std::to_string(file_size_) + ", " +
                         std::to_string(file_size_ - valid_end_) +
                         " bytes into it (recorder killed? file cut short?); the events before it are readable";
  } else {
    incomplete_reason_ = trace_path_ +
                         ": the recording was not closed (recorder killed?): no end record after the last "
                         "complete chunk, which ends at offset " +
                         std::to_string(valid_end_) + " of " + std::to_string(file_size_) + " bytes";
  }
}

// The reason in NAME-N/aborted (write_abort_reason), "" when there is none.
std::string TraceReader::abort_reason() const {
  int fd = ::open((dir_ / kAbortedFileName).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string text(64 * 1024, '\0');
  ssize_t n = ::read(fd, text.data(), text.size());
  ::close(fd);
  text.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text.empty() ? "(no reason given)" : text;
}

void TraceReader::verify_checksums() const {
  std::vector<unsigned char> raw;
  for (const ChunkInfo& c : chunks_) read_checked_chunk(c, raw);
}

schema::Header::Reader TraceReader::header() const { return header_->as<schema::Header>(); }

void TraceReader::check_chunk(const ChunkInfo& c, size_t i, uint64_t expected_first) const {
  auto fail = [&](const std::string& why) { throw TraceError(trace_path_, c.offset, why); };
  if (c.compressed_size == 0 || c.compressed_size > kMaxChunkBytes)
    fail("bad chunk: compressed size " + std::to_string(c.compressed_size) + " out of range");
  if (c.uncompressed_size == 0 || c.uncompressed_size > kMaxChunkBytes || c.uncompressed_size % 8 != 0)
    fail("bad chunk: uncompressed size " + std::to_string(c.uncompressed_size) + " out of range");
  if (c.count == 0 || c.count > c.uncompressed_size / 8)
    fail("bad chunk: message count " + std::to_string(c.count) + " does not fit its " +
         std::to_string(c.uncompressed_size) + " bytes");
  auto kind = static_cast<ChunkKind>(c.kind);
  if (kind != ChunkKind::Header && kind != ChunkKind::Events && kind != ChunkKind::End)
    fail("bad chunk: unknown kind " + std::to_string(c.kind));
  if (i == 0) {
    if (kind != ChunkKind::Header) fail(std::string("the first chunk is a ") + kind_name(c.kind) + " chunk, not the header");
    if (c.count != 1 || c.first_event != 0) fail("bad header chunk: it must hold exactly the header message");
    return;
  }
  if (kind == ChunkKind::Header) fail("a second header chunk");
  if (c.first_event != expected_first)
    fail("bad chunk: it starts at event " + std::to_string(c.first_event) + " but event " +
         std::to_string(expected_first) + " was expected (missing or corrupted chunk)");
  if (kind == ChunkKind::End && c.count != 1) fail("bad end chunk: it must hold exactly the end message");
}

void TraceReader::scan_chunks() {
  chunks_.clear();
  uint64_t off = kFileHeaderSize;
  uint64_t expected_first = 0;
  valid_end_ = off;
  while (off < file_size_) {
    uint64_t remaining = file_size_ - off;
    unsigned char raw[kChunkHeaderSize];
    size_t want = static_cast<size_t>(std::min<uint64_t>(remaining, kChunkHeaderSize));
    long long got = detail::pread_full(fd_, raw, want, off);
    if (got < 0) throw TraceError(trace_path_, off, std::string("read: ") + std::strerror(errno));
    if (static_cast<size_t>(got) < want) throw TraceError(trace_path_, off, "unexpected end of file (file shrank?)");
    uint32_t magic = 0;
    std::memcpy(&magic, raw, std::min<size_t>(want, 4));
    uint32_t mask = want >= 4 ? 0xffffffffu : ((1u << (8 * want)) - 1);
    if ((magic & mask) != (kChunkMagic & mask))
      throw TraceError(trace_path_, off, "bad chunk magic: not a chunk header (corrupted trace)");
    if (want < kChunkHeaderSize) {
      if (chunks_.empty()) throw TraceError(trace_path_, off, "truncated trace: the header chunk is incomplete");
      break;  // cut off inside a chunk header
    }
    detail::ChunkHeader h = detail::decode_chunk_header(raw);
    if (h.codec != kCodecZstd) throw TraceError(trace_path_, off, "bad chunk: unknown codec " + std::to_string(h.codec));
    if (h.reserved != 0) throw TraceError(trace_path_, off, "bad chunk: reserved field is not zero");
    ChunkInfo c{.offset = off,
                .first_event = h.first_event,
                .compressed_size = h.compressed_size,
                .uncompressed_size = h.uncompressed_size,
                .count = h.count,
                .crc = h.crc,
                .kind = h.kind};
    check_chunk(c, chunks_.size(), expected_first);
    if (kChunkHeaderSize + uint64_t{c.compressed_size} > remaining) {
      if (chunks_.empty()) throw TraceError(trace_path_, off, "truncated trace: the header chunk is incomplete");
      check_cut_off_chunk(c);
      break;  // cut off inside the payload
    }
    chunks_.push_back(c);
    if (c.kind == static_cast<uint8_t>(ChunkKind::Events)) expected_first += c.count;
    off += kChunkHeaderSize + c.compressed_size;
    valid_end_ = off;
    if (c.kind == static_cast<uint8_t>(ChunkKind::End)) {
      if (off != file_size_)
        throw TraceError(trace_path_, off,
                         std::to_string(file_size_ - off) + " bytes of unexpected data after the end chunk");
      break;
    }
  }
  if (chunks_.empty()) throw TraceError(trace_path_, off, "truncated trace: no header chunk");
}

void TraceReader::check_cut_off_chunk(const ChunkInfo& c) const {
  // A recorder killed mid-write leaves a prefix of a chunk: the start of a
  // zstd frame that is not complete. A corrupted (too large) size field looks
  // the same from the header, but its frame is complete before the claimed end.
  uint64_t start = c.offset + kChunkHeaderSize;
  if (start >= file_size_) return;
  std::vector<unsigned char> tail(static_cast<size_t>(file_size_ - start));  // < compressed_size
  long long got = detail::pread_full(fd_, tail.data(), tail.size(), start);
  if (got < 0 || static_cast<size_t>(got) != tail.size()) return;
  ZSTD_frameHeader fh{};
  size_t r = ZSTD_getFrameHeader(&fh, tail.data(), tail.size());
  if (ZSTD_isError(r) || (r == 0 && (fh.frameType != ZSTD_frame || fh.frameContentSize != c.uncompressed_size)))
    throw TraceError(trace_path_, c.offset, "bad chunk: its payload is not the zstd frame the header describes");
  size_t frame = ZSTD_findFrameCompressedSize(tail.data(), tail.size());
  if (!ZSTD_isError(frame))
    throw TraceError(trace_path_, c.offset,
                     "bad chunk: its size field claims " + std::to_string(c.compressed_size) +
                         " bytes but its zstd frame ends after " + std::to_string(frame) +
                         " (corrupted chunk header)");
}

bool TraceReader::load_index() {
  std::string path = (dir_ / kIndexFileName).string();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st{};
  bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  // At most one entry per chunk, and a chunk takes at least a header and a byte.
  uint64_t max_entries = file_size_ / (kChunkHeaderSize + 1) + 1;
  uint64_t max_size = detail::kIndexHeaderSize + max_entries * detail::kIndexEntrySize + 4;
  std::vector<unsigned char> data;
  if (ok && static_cast<uint64_t>(st.st_size) <= max_size) {
    data.resize(static_cast<size_t>(st.st_size));
    ok = detail::pread_full(fd, data.data(), data.size(), 0) == static_cast<long long>(data.size());
  } else {
    ok = false;
  }
  ::close(fd);
  if (!ok) return false;
  auto entries = detail::decode_index(data.data(), data.size(), file_size_);
  if (!entries || entries->empty()) return false;

  // The entries must obey the same rules as a scan, and describe this file.
  std::vector<ChunkInfo> chunks;
  chunks.reserve(entries->size());
  uint64_t off = kFileHeaderSize;
  uint64_t expected_first = 0;
  for (size_t i = 0; i < entries->size(); ++i) {
    const ChunkInfo& c = (*entries)[i];
    if (c.offset != off) return false;
    try {
      check_chunk(c, i, expected_first);
    } catch (const TraceError&) {
      return false;
    }
    if (off + kChunkHeaderSize + c.compressed_size > file_size_) return false;
    if (c.kind == static_cast<uint8_t>(ChunkKind::Events)) expected_first += c.count;
    off += kChunkHeaderSize + c.compressed_size;
    if (c.kind == static_cast<uint8_t>(ChunkKind::End) && i + 1 != entries->size()) return false;
    chunks.push_back(c);
  }
  bool ended = chunks.back().kind == static_cast<uint8_t>(ChunkKind::End);
  if (ended && off != file_size_) return false;
  // An incomplete trace may end with a partial chunk, never with a whole one.
  if (!ended && file_size_ - off >= kChunkHeaderSize) {
    unsigned char raw[kChunkHeaderSize];
    if (detail::pread_full(fd_, raw, sizeof raw, off) != static_cast<long long>(sizeof raw)) return false;
    detail::ChunkHeader h = detail::decode_chunk_header(raw);
    if (h.magic != kChunkMagic || off + kChunkHeaderSize + uint64_t{h.compressed_size} <= file_size_) return false;
  }
  // Spot-check that the first and last chunk headers on disk are the ones indexed.
  for (const ChunkInfo* c : {&chunks.front(), &chunks.back()}) {
    unsigned char raw[kChunkHeaderSize];
    if (detail::pread_full(fd_, raw, sizeof raw, c->offset) != static_cast<long long>(sizeof raw)) return false;
    detail::ChunkHeader h = detail::decode_chunk_header(raw);
    if (h.magic != kChunkMagic || h.codec != kCodecZstd || h.reserved != 0 || h.kind != c->kind ||
        h.compressed_size != c->compressed_size || h.uncompressed_size != c->uncompressed_size ||
        h.first_event != c->first_event || h.count != c->count || h.crc != c->crc)
      return false;
  }
  chunks_ = std::move(chunks);
  valid_end_ = off;
  return true;
}

void TraceReader::save_index() const {
  auto bytes = detail::encode_index(chunks_, file_size_);
  // Best effort: a read-only trace directory simply stays without an index.
  detail::write_file_atomically((dir_ / kIndexFileName).string(), bytes.data(), bytes.size(), false);
}

void TraceReader::read_checked_chunk(const ChunkInfo& c, std::vector<unsigned char>& raw) const {
  auto fail = [&](const std::string& why) -> void { throw TraceError(trace_path_, c.offset, why); };
  // Sizes were checked against kMaxChunkBytes and the file size before this.
  raw.resize(kChunkHeaderSize + size_t{c.compressed_size});
  long long got = detail::pread_full(fd_, raw.data(), raw.size(), c.offset);
  if (got < 0) fail(std::string("read: ") + std::strerror(errno));
  if (static_cast<size_t>(got) != raw.size()) fail("unexpected end of file (the trace was truncated while open?)");
  detail::ChunkHeader h = detail::decode_chunk_header(raw.data());
  if (h.magic != kChunkMagic || h.codec != kCodecZstd || h.kind != c.kind ||
      h.compressed_size != c.compressed_size || h.uncompressed_size != c.uncompressed_size ||
      h.first_event != c.first_event || h.count != c.count || h.crc != c.crc)
    fail("the chunk header differs from the index (stale " + std::string(kIndexFileName) +
         "? delete it to rebuild it)");
  uint32_t crc = crc32c(raw.data(), kChunkHeaderSize - 4);
  crc = crc32c(raw.data() + kChunkHeaderSize, c.compressed_size, crc);
  if (crc != h.crc) {
    std::string what = std::string(kind_name(c.kind)) + " chunk";
    if (c.kind == static_cast<uint8_t>(ChunkKind::Events))
      what += " (events " + std::to_string(c.first_event) + " to " + std::to_string(c.first_event + c.count - 1) + ")";
    fail("checksum mismatch: the " + what + " is corrupted");
  }
}

std::shared_ptr<const std::vector<capnp::word>> TraceReader::load_chunk(const ChunkInfo& c,
                                                                        std::vector<unsigned char>& raw,
                                                                        void*& zstd) const {
  auto fail = [&](const std::string& why) -> void { throw TraceError(trace_path_, c.offset, why); };
  read_checked_chunk(c, raw);

  const unsigned char* payload = raw.data() + kChunkHeaderSize;
  unsigned long long content = ZSTD_getFrameContentSize(payload, c.compressed_size);
  if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN)
    fail("bad zstd frame in the chunk");
  if (content != c.uncompressed_size)
    fail("the zstd frame holds " + std::to_string(content) + " bytes but the chunk header says " +
         std::to_string(c.uncompressed_size));
  size_t frame = ZSTD_findFrameCompressedSize(payload, c.compressed_size);
  if (ZSTD_isError(frame) || frame != c.compressed_size) fail("bad zstd frame in the chunk (trailing data)");

  // A buffer of the pool that no Message holds any more, else a new one.
  // (A chunk larger than the writer makes, for one large event, gets a
  // buffer of its own, not kept.)
  constexpr uint32_t kPooledMax = 8u << 20;
  std::shared_ptr<std::vector<capnp::word>> words;
  std::unique_lock<std::mutex> pool_lock(pool_mu_);
  // (A pooled buffer that no one else holds gets a new holder only here.)
  for (auto& b : chunk_pool_) {
    if (c.uncompressed_size <= kPooledMax && b.use_count() == 1) {
      words = b;
      break;
    }
  }
  if (!words) {
    words = std::make_shared<std::vector<capnp::word>>();
    // The header's, the chunk being read, those read ahead (kPrefetchDepth)
    // and those the replay's lookahead holds (a feed of a syscall buffer
    // reads a few MiB of events ahead).
    constexpr size_t kPoolSize = 32;
    if (c.uncompressed_size <= kPooledMax && chunk_pool_.size() < kPoolSize) chunk_pool_.push_back(words);
  }
  pool_lock.unlock();
  // A buffer only grows (zeroed when it does), a pooled one
  // with room to spare (chunks differ by a message or so in size): the
  // chunk is its first uncompressed_size bytes.
  const size_t need = c.uncompressed_size / sizeof(capnp::word);
  // (A new vector rather than resize: the old contents need no copy, and
  // capnp::word may not be copyable, as in the fuzz build.)
  if (words->size() < need) *words = std::vector<capnp::word>(c.uncompressed_size <= kPooledMax ? need + need / 4 : need);
  if (zstd == nullptr) zstd = ZSTD_createDCtx();
  if (zstd == nullptr) fail("cannot create a zstd decompression context");
  size_t n = ZSTD_decompressDCtx(dctx(zstd), words->data(), c.uncompressed_size, payload, c.compressed_size);
  if (ZSTD_isError(n)) fail(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != c.uncompressed_size)
    fail("the chunk decompresses to " + std::to_string(n) + " bytes, not " + std::to_string(c.uncompressed_size));
  return words;
}

LoadedChunk TraceReader::load_events_chunk(size_t i, std::vector<unsigned char>& raw, void*& zstd) const {
  const ChunkInfo& c = chunks_[i];
  LoadedChunk got;
  got.words = load_chunk(c, raw, zstd);
  std::string why = message_offsets(*got.words, c.uncompressed_size / 8, c.count, got.offsets);
  if (!why.empty()) throw TraceError(trace_path_, c.offset, "bad chunk: " + why);
  // The quick check of each message, up to the first that needs the full
  // one (next() gives it that, with the error it may throw).
  const capnp::word* base = got.words->data();
  while (got.checked < c.count &&
         message_certainly_fine(base + got.offsets[got.checked], got.offsets[got.checked + 1] - got.offsets[got.checked])) {
    ++got.checked;
  }
  return got;
}

void TraceReader::open_chunk(size_t i) {
  if (loaded_chunk_ != i) {
    loaded_chunk_ = SIZE_MAX;
    cur_words_.reset();  // its buffer may be reused, unless a Message still holds it
    std::optional<LoadedChunk> ahead = prefetch_ ? prefetch_->take(i) : std::nullopt;
    LoadedChunk got = ahead ? std::move(*ahead) : load_events_chunk(i, raw_, zstd_dctx_);
    if (got.error) std::rethrow_exception(got.error);
    cur_words_ = std::move(got.words);
    cur_offsets_ = std::move(got.offsets);
    cur_checked_ = got.checked;
    loaded_chunk_ = i;
    // Reading past the first chunk: the next ones are read ahead.
    if (!prefetch_ && ++chunks_opened_ >= 2 && prefetch_wanted()) {
      prefetch_ = std::make_unique<ChunkPrefetch>(
          [this](size_t n, ChunkPrefetch::Scratch& s) { return load_events_chunk(n, s.raw, s.zstd); },
          kPrefetchDepth);
    }
    if (prefetch_) {
      // (Events chunks are chunks_[1 .. k], then perhaps the End chunk.)
      size_t end = chunks_.size() - (chunks_.back().kind == static_cast<uint8_t>(ChunkKind::End) ? 1 : 0);
      prefetch_->reading(i, end);
    }
  }
  cur_chunk_ = i;
  cur_left_ = chunks_[i].count;
  cur_pos_ = 0;
  cur_number_ = chunks_[i].first_event;
}

std::optional<EventRecord> TraceReader::next() {
  while (cur_left_ == 0) {
    size_t n = cur_chunk_ + 1;
    if (n >= chunks_.size() || chunks_[n].kind != static_cast<uint8_t>(ChunkKind::Events)) {
      cur_chunk_ = chunks_.size();
      return std::nullopt;
    }
    open_chunk(n);
  }
  const ChunkInfo& c = chunks_[cur_chunk_];
  uint32_t m = c.count - cur_left_;
  uint32_t begin = cur_offsets_[m];
  uint32_t end = cur_offsets_[m + 1];
  std::shared_ptr<Message> msg;
  try {
    msg = std::make_shared<Message>(cur_words_,
                                    kj::ArrayPtr<const capnp::word>(cur_words_->data() + begin, end - begin));
    // A malformed message throws here (the quick walk answers for most).
    if (m >= cur_checked_ && !message_certainly_fine(cur_words_->data() + begin, end - begin)) {
      check_pointer(msg->as<capnp::AnyPointer>());
    }
    msg->set_event();
    (void)msg->event().which();
  } catch (const kj::Exception& e) {
    throw TraceError(trace_path_, c.offset,
                     "malformed event " + std::to_string(cur_number_) + " in the chunk: " + e.getDescription().cStr());
  } catch (const std::exception& e) {
    throw TraceError(trace_path_, c.offset,
                     "malformed event " + std::to_string(cur_number_) + " in the chunk: " + e.what());
  }
  cur_pos_ = end;
  --cur_left_;
  return EventRecord{cur_number_++, std::move(msg)};
}

void TraceReader::seek(uint64_t number) {
  if (number >= readable_events_) {
    cur_chunk_ = chunks_.size();
    cur_left_ = 0;
    cur_pos_ = 0;
    cur_number_ = readable_events_;
    return;
  }
  // Events chunks are chunks_[1 .. k], in order of first_event.
  size_t lo = 1, hi = chunks_.size();
  if (chunks_.back().kind == static_cast<uint8_t>(ChunkKind::End)) --hi;
  // Find the last chunk in [lo, hi) with first_event <= number.
  auto it = std::upper_bound(chunks_.begin() + static_cast<long>(lo), chunks_.begin() + static_cast<long>(hi),
                             number, [](uint64_t v, const ChunkInfo& c) { return v < c.first_event; });
  size_t i = static_cast<size_t>(it - chunks_.begin()) - 1;
  open_chunk(i);
  uint32_t skip = static_cast<uint32_t>(number - chunks_[i].first_event);
  cur_left_ = chunks_[i].count - skip;
  cur_pos_ = cur_offsets_[skip];
  cur_number_ = number;
}

}  // namespace rrx::trace
