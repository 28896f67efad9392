#include "trace_format/trace_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <capnp/message.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/error.h"
#include "core/hash.h"
#include "trace_format/chunk_format.h"
#include "trace_format/format.h"

namespace rrx::trace {

namespace {

ZSTD_CCtx* cctx(void* p) { return static_cast<ZSTD_CCtx*>(p); }

size_t default_pending_words(const WriterOptions& o) { return o.chunk_bytes / sizeof(capnp::word) + 1024; }

int64_t unix_now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

TraceWriter::TraceWriter(const std::filesystem::path& dir, capnp::MessageBuilder& header,
                         WriterOptions options)
    : dir_(dir), options_(options) {
  if (options_.chunk_bytes == 0) options_.chunk_bytes = 1;
  if (options_.chunk_bytes > kMaxChunkBytes / 2) options_.chunk_bytes = kMaxChunkBytes / 2;
  std::string path = (dir_ / kTraceFileName).string();
  // An index left by an earlier trace in this directory would describe the
  // old file; it must not survive if this recording is cut off.
  ::unlink((dir_ / kIndexFileName).c_str());
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) throw_errno("cannot create " + path);
  // The trace holds the program's environment and every byte it read: 0600
  // whatever the umask (and for a file that existed already).
  if (::fchmod(fd_, 0600) != 0) {
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw_errno("cannot chmod " + path, err);
  }
  try {
    zstd_ctx_ = ZSTD_createCCtx();
    if (zstd_ctx_ == nullptr) throw Error("cannot create a zstd compression context");
    ZSTD_CCtx_setParameter(cctx(zstd_ctx_), ZSTD_c_compressionLevel, options_.zstd_level);
    ZSTD_CCtx_setParameter(cctx(zstd_ctx_), ZSTD_c_contentSizeFlag, 1);
    ZSTD_CCtx_setParameter(cctx(zstd_ctx_), ZSTD_c_checksumFlag, 0);  // the chunk has a CRC

    pending_ = std::vector<capnp::word>(default_pending_words(options_));

    unsigned char file_header[kFileHeaderSize] = {};
    std::memcpy(file_header, kFileMagic, 8);
    uint32_t version = kFormatVersion;
    std::memcpy(file_header + 8, &version, 4);
    if (!detail::write_all(fd_, file_header, sizeof file_header)) throw_errno("writing " + path);
    file_offset_ = kFileHeaderSize;

    auto root = header.getRoot<schema::Header>();
    if (root.getFormatVersion() == 0) root.setFormatVersion(kFormatVersion);
    add_message(header.getSegmentsForOutput());
    write_chunk(static_cast<uint8_t>(ChunkKind::Header), pending_.data(),
                pending_words_ * sizeof(capnp::word), 0, 1);
    pending_words_ = 0;
    last_flush_ = std::chrono::steady_clock::now();
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    if (zstd_ctx_ != nullptr) ZSTD_freeCCtx(cctx(zstd_ctx_));
    zstd_ctx_ = nullptr;
    throw;
  }
}

TraceWriter::~TraceWriter() {
  if (!closed_ && !broken_ && fd_ >= 0) {
    try {
      flush();
    } catch (...) {
      // Nothing to report from a destructor; the trace stays readable up to
      // its last whole chunk.
    }
  }
  if (fd_ >= 0) ::close(fd_);
  if (zstd_ctx_ != nullptr) ZSTD_freeCCtx(cctx(zstd_ctx_));
}

void TraceWriter::check_usable() const {
  if (closed_) throw Error("trace writer: the trace is already closed");
  if (broken_) throw Error("trace writer: an earlier write to " + (dir_ / kTraceFileName).string() + " failed");
}

void TraceWriter::reserve_pending(size_t words) {
  if (pending_words_ + words <= pending_.size()) return;
  size_t want = std::max(pending_.size() * 2, pending_words_ + words);
  std::vector<capnp::word> bigger(want);
  if (pending_words_ > 0) std::memcpy(bigger.data(), pending_.data(), pending_words_ * sizeof(capnp::word));
  pending_.swap(bigger);
}

void TraceWriter::add_message(kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments) {
  size_t nseg = segments.size();
  size_t table_words = nseg / 2 + 1;
  size_t total = table_words;
  for (const auto& seg : segments) total += seg.size();
  if (total * sizeof(capnp::word) > kMaxChunkBytes)
    throw Error("trace writer: a single event of " + std::to_string(total * sizeof(capnp::word)) +
                " bytes exceeds the chunk size limit of " + std::to_string(kMaxChunkBytes) + " bytes");
  if (pending_words_ > 0 && (pending_words_ + total) * sizeof(capnp::word) > kMaxChunkBytes) flush();
  reserve_pending(total);
  auto* base = reinterpret_cast<unsigned char*>(pending_.data() + pending_words_);
  // Segment table: u32 (segment count - 1), u32 size of each segment, padded to a word.
  uint32_t v = static_cast<uint32_t>(nseg - 1);
  std::memcpy(base, &v, 4);
  for (size_t i = 0; i < nseg; ++i) {
    v = static_cast<uint32_t>(segments[i].size());
    std::memcpy(base + 4 + 4 * i, &v, 4);
  }
  if (nseg % 2 == 0) std::memset(base + 4 + 4 * nseg, 0, 4);
  unsigned char* p = base + table_words * sizeof(capnp::word);
  for (const auto& seg : segments) {
    size_t bytes = seg.size() * sizeof(capnp::word);
    std::memcpy(p, seg.begin(), bytes);
    p += bytes;
  }
  pending_words_ += total;
}

uint64_t TraceWriter::append(capnp::MessageBuilder& event) {
  check_usable();
  // pending_first_ is event_count_ whenever nothing is pending (flush() resets
  // it), including when add_message() flushes to make room.
  add_message(event.getSegmentsForOutput());
  ++pending_count_;
  uint64_t number = event_count_++;
  if (pending_words_ * sizeof(capnp::word) >= options_.chunk_bytes) {
    flush();
  } else if ((number & 63) == 63 &&
             std::chrono::steady_clock::now() - last_flush_ >= options_.max_unflushed) {
    flush();
  }
  return number;
}

void TraceWriter::flush() {
  check_usable();
  if (pending_count_ > 0) {
    write_chunk(static_cast<uint8_t>(ChunkKind::Events), pending_.data(),
                pending_words_ * sizeof(capnp::word), pending_first_, pending_count_);
    pending_words_ = 0;
    pending_count_ = 0;
    // Give back the memory of an unusually large event.
    if (pending_.size() > 4 * default_pending_words(options_))
      pending_ = std::vector<capnp::word>(default_pending_words(options_));
  }
  pending_first_ = event_count_;
  last_flush_ = std::chrono::steady_clock::now();
}

void TraceWriter::close(int exit_status, const std::string& reason, const std::vector<SharedObjectEnd>& shared) {
  if (closed_) return;
  check_usable();
  flush();
  {
    capnp::MallocMessageBuilder end;
    auto root = end.initRoot<schema::End>();
    root.setEventCount(event_count_);
    root.setEndTimeUnixNs(unix_now_ns());
    root.setExitStatus(exit_status);
    root.setReason(reason);
    if (!shared.empty()) {
      auto list = root.initSharedObjects(static_cast<unsigned>(shared.size()));
      for (unsigned i = 0; i < shared.size(); ++i) {
        list[i].setObject(shared[i].object);
        list[i].setSize(shared[i].size);
        list[i].setContentHash(shared[i].content_hash);
        list[i].setPath(shared[i].path);
      }
    }
    add_message(end.getSegmentsForOutput());
    write_chunk(static_cast<uint8_t>(ChunkKind::End), pending_.data(),
                pending_words_ * sizeof(capnp::word), event_count_, 1);
    pending_words_ = 0;
  }
  // No fsync: the trace is complete for every reader once it is written (the
  // page cache holds it; a killed rrx or program loses nothing). Only a crash
  // of the machine itself within the kernel's writeback delay could cut it,
  // and a reader then reports the trace incomplete after its last whole
  // chunk. The two fsyncs cost 10-25 ms per recording here: as much as a
  // short program's whole run (bench/RESULTS-syscallbuf.md).
  // The index is derived data (readers rebuild it), so failing to write it
  // does not fail the recording.
  auto bytes = detail::encode_index(index_, file_offset_);
  detail::write_file_atomically((dir_ / kIndexFileName).string(), bytes.data(), bytes.size(), false);
  closed_ = true;
  ::close(fd_);
  fd_ = -1;
}

void TraceWriter::write_chunk(uint8_t kind, const std::vector<capnp::word>& payload, uint64_t first,
                              uint32_t count) {
  write_chunk(kind, payload.data(), payload.size() * sizeof(capnp::word), first, count);
}

void TraceWriter::write_chunk(uint8_t kind, const void* data, size_t bytes, uint64_t first,
                              uint32_t count) {
  size_t bound = ZSTD_compressBound(bytes);
  if (compress_buf_.size() < kChunkHeaderSize + bound) compress_buf_.resize(kChunkHeaderSize + bound);
  auto* out = reinterpret_cast<unsigned char*>(compress_buf_.data());
  size_t csize = ZSTD_compress2(cctx(zstd_ctx_), out + kChunkHeaderSize, bound, data, bytes);
  if (ZSTD_isError(csize)) throw Error(std::string("trace writer: zstd: ") + ZSTD_getErrorName(csize));

  detail::ChunkHeader h;
  h.kind = kind;
  h.compressed_size = static_cast<uint32_t>(csize);
  h.uncompressed_size = static_cast<uint32_t>(bytes);
  h.first_event = first;
  h.count = count;
  detail::encode_chunk_header(h, out);
  uint32_t crc = crc32c(out, kChunkHeaderSize - 4);
  crc = crc32c(out + kChunkHeaderSize, csize, crc);
  std::memcpy(out + kChunkHeaderSize - 4, &crc, 4);

  if (!detail::write_all(fd_, out, kChunkHeaderSize + csize)) {
    int err = errno;
    // Cut off the partial chunk so that the file stays a readable prefix.
    broken_ = true;
    if (::ftruncate(fd_, static_cast<off_t>(file_offset_)) == 0)
      ::lseek(fd_, static_cast<off_t>(file_offset_), SEEK_SET);
    throw_errno("writing " + (dir_ / kTraceFileName).string(), err);
  }
  index_.push_back(detail::IndexEntry{.offset = file_offset_,
                                      .first_event = first,
                                      .compressed_size = static_cast<uint32_t>(csize),
                                      .uncompressed_size = static_cast<uint32_t>(bytes),
                                      .count = count,
                                      .crc = crc,
                                      .kind = kind});
  file_offset_ += kChunkHeaderSize + csize;
}

void write_abort_reason(const std::filesystem::path& trace_dir, const std::string& reason) {
  std::string text = reason + "\n";
  (void)detail::write_file_atomically((trace_dir / kAbortedFileName).string(), text.data(), text.size(), false);
}

}  // namespace rrx::trace
