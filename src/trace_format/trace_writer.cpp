#include "trace_format/trace_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
    unsigned char file_header[kFileHeaderSize] = {};
    std::memcpy(file_header, kFileMagic, 8);
    uint32_t version = kFormatVersion;
    std::memcpy(file_header + 8, &version, 4);
    if (!detail::write_all(fd_, file_header, sizeof file_header)) throw_errno("writing " + path);
    sink_ = std::make_unique<detail::ChunkSink>(fd_, path, kFileHeaderSize, options_.zstd_level,
                                                options_.max_queued_chunks, default_pending_words(options_),
                                                options_.first_rung);

    auto root = header.getRoot<schema::Header>();
    if (root.getFormatVersion() == 0) root.setFormatVersion(kFormatVersion);
    add_message(header.getSegmentsForOutput());
    // In this thread: the header is in the file when the constructor returns
    // (and the writer's thread starts only with the first events, after the
    // recorder forked the program).
    detail::ChunkJob job = take_pending(static_cast<uint8_t>(ChunkKind::Header), 0, 1);
    sink_->write_now(job);
    last_flush_ = std::chrono::steady_clock::now();
  } catch (...) {
    sink_.reset();
    ::close(fd_);
    fd_ = -1;
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
  sink_.reset();  // ends the thread
  if (fd_ >= 0) ::close(fd_);
}

void TraceWriter::check_usable() const {
  if (closed_) throw Error("trace writer: the trace is already closed");
  if (broken_) throw Error("trace writer: an earlier write to " + (dir_ / kTraceFileName).string() + " failed");
}

template <typename F>
void TraceWriter::guarded(F&& f) {
  try {
    f();
  } catch (...) {
    broken_ = true;
    throw;
  }
}

WriterStats TraceWriter::stats() const { return sink_ ? sink_->stats() : WriterStats{}; }

void TraceWriter::reserve_pending(size_t words) {
  if (pending_.size() == 0) pending_ = sink_->spare();
  if (pending_words_ + words <= pending_.size()) return;
  size_t want = std::max(pending_.size() * 2, pending_words_ + words);
  detail::WordBuffer bigger(want);
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
  if (pending_words_ > 0 && (pending_words_ + total) * sizeof(capnp::word) > kMaxChunkBytes) hand_over();
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
  // A failed write is reported at the first append after it.
  guarded([&] { sink_->check(); });
  // pending_first_ is event_count_ whenever nothing is pending (hand_over()
  // resets it), including when add_message() hands over to make room.
  add_message(event.getSegmentsForOutput());
  ++pending_count_;
  uint64_t number = event_count_++;
  if (pending_words_ * sizeof(capnp::word) >= options_.chunk_bytes) {
    hand_over();
  } else if ((number & 63) == 63 &&
             std::chrono::steady_clock::now() - last_flush_ >= options_.max_unflushed) {
    hand_over();
  }
  return number;
}

detail::ChunkJob TraceWriter::take_pending(uint8_t kind, uint64_t first, uint32_t count) {
  detail::ChunkJob job;
  job.kind = kind;
  job.words = pending_words_;
  job.first_event = first;
  job.count = count;
  job.payload.swap(pending_);  // pending_ is left empty
  pending_words_ = 0;
  return job;
}

void TraceWriter::hand_over() {
  if (pending_count_ > 0) {
    detail::ChunkJob job = take_pending(static_cast<uint8_t>(ChunkKind::Events), pending_first_, pending_count_);
    pending_count_ = 0;
    guarded([&] { sink_->submit(std::move(job)); });
  }
  pending_first_ = event_count_;
  last_flush_ = std::chrono::steady_clock::now();
}

void TraceWriter::flush() {
  check_usable();
  hand_over();
  guarded([&] { sink_->drain(); });
}

void TraceWriter::close(int exit_status, const std::string& reason, const std::vector<SharedObjectEnd>& shared) {
  if (closed_) return;
  check_usable();
  // The last chunks are waited for here: written in this thread when the
  // writer's has nothing left (a short recording never starts it).
  if (pending_count_ > 0) {
    detail::ChunkJob job = take_pending(static_cast<uint8_t>(ChunkKind::Events), pending_first_, pending_count_);
    pending_count_ = 0;
    guarded([&] { sink_->write_or_submit(std::move(job)); });
  }
  pending_first_ = event_count_;
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
        list[i].setUnchanged(shared[i].unchanged);
      }
    }
    add_message(end.getSegmentsForOutput());
    detail::ChunkJob job = take_pending(static_cast<uint8_t>(ChunkKind::End), event_count_, 1);
    guarded([&] { sink_->write_or_submit(std::move(job)); });
  }
  // Every chunk is in the file once the thread has ended.
  guarded([&] { sink_->finish(); });
  // No fsync: the trace is complete for every reader once it is written (the
  // page cache holds it; a killed rrx or program loses nothing). Only a crash
  // of the machine itself within the kernel's writeback delay could cut it,
  // and a reader then reports the trace incomplete after its last whole
  // chunk. The two fsyncs cost 10-25 ms per recording here: as much as a
  // short program's whole run (bench/RESULTS-syscallbuf.md).
  // The index is derived data (readers rebuild it), so failing to write it
  // does not fail the recording.
  auto bytes = detail::encode_index(sink_->index(), sink_->file_offset());
  detail::write_file_atomically((dir_ / kIndexFileName).string(), bytes.data(), bytes.size(), false);
  closed_ = true;
  ::close(fd_);
  fd_ = -1;
}

void write_abort_reason(const std::filesystem::path& trace_dir, const std::string& reason) {
  std::string text = reason + "\n";
  (void)detail::write_file_atomically((trace_dir / kAbortedFileName).string(), text.data(), text.size(), false);
}

}  // namespace rrx::trace
