// The trace file's write side under TraceWriter: see chunk_sink.h.
#include "trace_format/chunk_sink.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "core/cpu_binding.h"
#include "core/error.h"
#include "core/hash.h"
#include "trace_format/format.h"

namespace rrx::trace::detail {

namespace {

ZSTD_CCtx* cctx(void* p) { return static_cast<ZSTD_CCtx*>(p); }

constexpr size_t kStoredBlockBytes = 128 * 1024;  // the largest block a zstd frame may have
constexpr int kStoredRung = SinkStats::kRungs - 1;

void put_le32(unsigned char* p, uint32_t v) { std::memcpy(p, &v, 4); }

}  // namespace

int rung_level(int configured, int rung) {
  switch (rung) {
    case 0: return configured;
    case 1: return std::min(configured, 1);
    default: return std::min(configured, -5);  // zstd's "fast" levels: about 3x level 3's speed here
  }
}

std::string describe(const SinkStats& s) {
  std::string line = "rrx:   trace chunks written:";
  for (int rung = 0; rung < SinkStats::kRungs; ++rung) {
    line += rung == kStoredRung ? " stored " : " level " + std::to_string(rung_level(s.level, rung)) + " ";
    line += std::to_string(s.chunks[rung]);
  }
  char tail[160];
  std::snprintf(tail, sizeof tail, "; %.1f MB into %.1f MB; the recorder waited %.1f ms for the writer's thread\n",
                static_cast<double>(s.in_bytes) / 1e6, static_cast<double>(s.out_bytes) / 1e6,
                std::chrono::duration<double, std::milli>(s.waited).count());
  return line + tail;
}

size_t stored_frame_bound(size_t n) { return 4 + 1 + 4 + 3 * (n / kStoredBlockBytes + 1) + n; }

// The zstd frame format (RFC 8878): magic, a frame header descriptor with a
// 4-byte content size and Single_Segment (no window descriptor), then raw
// blocks of at most 128 KiB, the last one flagged; no checksum (the chunk
// has its CRC).
size_t write_stored_frame(unsigned char* out, const void* data, size_t n) {
  unsigned char* p = out;
  put_le32(p, 0xFD2FB528u);
  p += 4;
  *p++ = 0xA0;  // Frame_Content_Size_flag 2 (4 bytes), Single_Segment_flag
  put_le32(p, static_cast<uint32_t>(n));
  p += 4;
  const auto* src = static_cast<const unsigned char*>(data);
  size_t left = n;
  do {
    size_t b = std::min(left, kStoredBlockBytes);
    uint32_t block_header = static_cast<uint32_t>(b << 3) | (b == left ? 1u : 0u);  // Block_Type 0: raw
    p[0] = static_cast<unsigned char>(block_header);
    p[1] = static_cast<unsigned char>(block_header >> 8);
    p[2] = static_cast<unsigned char>(block_header >> 16);
    p += 3;
    if (b > 0) std::memcpy(p, src, b);
    p += b;
    src += b;
    left -= b;
  } while (left > 0);
  return static_cast<size_t>(p - out);
}

ChunkSink::ChunkSink(int fd, std::string path, uint64_t offset, int level, size_t max_queued, size_t spare_words,
                     int first_rung)
    : fd_(fd), path_(std::move(path)), level_(level), max_queued_(std::max<size_t>(max_queued, 1)),
      spare_words_(spare_words), first_rung_(std::clamp(first_rung, 0, kStoredRung)), file_offset_(offset) {
  stats_.level = level;
  zstd_ctx_ = ZSTD_createCCtx();
  if (zstd_ctx_ == nullptr) throw Error("cannot create a zstd compression context");
  ZSTD_CCtx_setParameter(cctx(zstd_ctx_), ZSTD_c_compressionLevel, level_);
  ZSTD_CCtx_setParameter(cctx(zstd_ctx_), ZSTD_c_contentSizeFlag, 1);
  ZSTD_CCtx_setParameter(cctx(zstd_ctx_), ZSTD_c_checksumFlag, 0);  // the chunk has a CRC
}

ChunkSink::~ChunkSink() {
  stop_thread();
  ZSTD_freeCCtx(cctx(zstd_ctx_));
}

int ChunkSink::rung_for(size_t backlog) const {
  // The chunks waiting behind this one, as a share of the queue: a quarter
  // or less keeps the configured level; the last quarter is stored.
  int rung = kStoredRung;
  if (4 * backlog < max_queued_) rung = 0;
  else if (2 * backlog < max_queued_) rung = 1;
  else if (4 * backlog < 3 * max_queued_) rung = 2;
  return std::max(rung, first_rung_);
}

void ChunkSink::write_now(ChunkJob& job) {
  RRX_ASSERT(!thread_.joinable());
  const int rung = rung_for(0);
  if (!write_chunk(job, rung)) {
    failed_ = true;
    throw_failure();
  }
  ++stats_.chunks[rung];
  stats_.in_bytes += job.words * sizeof(capnp::word);
  stats_.out_bytes += index_.back().compressed_size;
}

void ChunkSink::start() {
  // Every signal blocked: rrx's handlers (SIGINT, SIGTERM, SIGCHLD...) must
  // interrupt the recorder's waitpid, not land in this thread.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    thread_ = std::thread([this] {
      run_on_any_cpu();  // (rrx and the tree are bound to one CPU: compression runs beside them)
      run();
    });
  } catch (const std::system_error& e) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    throw Error(std::string("cannot start the trace writer's thread: ") + e.what());
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void ChunkSink::submit(ChunkJob&& job) {
  std::unique_lock<std::mutex> lk(mu_);
  if (failed_) throw_failure();
  RRX_ASSERT(!stopping_);
  if (!thread_.joinable()) start();
  if (queue_.size() + (busy_ ? 1 : 0) >= max_queued_) {
    auto since = std::chrono::steady_clock::now();
    progress_.wait(lk, [&] { return failed_ || queue_.size() + (busy_ ? 1 : 0) < max_queued_; });
    stats_.waited += std::chrono::steady_clock::now() - since;
    if (failed_) throw_failure();
  }
  queue_.push_back(std::move(job));
  lk.unlock();
  work_.notify_one();
}

void ChunkSink::write_or_submit(ChunkJob&& job) {
  std::unique_lock<std::mutex> lk(mu_);
  if (failed_) throw_failure();
  if (!queue_.empty() || busy_ || stopping_) {
    lk.unlock();
    submit(std::move(job));
    return;
  }
  // busy_ keeps the thread (if it runs) away from out_, the zstd context and
  // the index while this one is written; it takes only queued jobs anyway,
  // and the single producer queues none meanwhile.
  // (Compressed while the recording's end waits for it: zstd level 1, not
  // the configured level, ~2x faster for a ~10% larger last chunk. A short
  // recording's whole trace is that chunk.)
  const bool ok = write_counted(lk, job, std::max(1, rung_for(0)));
  progress_.notify_all();
  if (!ok) throw_failure();
}

WordBuffer ChunkSink::spare() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!spares_.empty()) {
      WordBuffer v = std::move(spares_.back());
      spares_.pop_back();
      return v;
    }
  }
  return WordBuffer(spare_words_);
}

void ChunkSink::check() {
  if (!failed_.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> lk(mu_);
  throw_failure();
}

void ChunkSink::drain() {
  std::unique_lock<std::mutex> lk(mu_);
  progress_.wait(lk, [&] { return failed_ || (queue_.empty() && !busy_); });
  if (failed_) throw_failure();
}

void ChunkSink::finish() {
  try {
    drain();
  } catch (...) {
    stop_thread();
    throw;
  }
  stop_thread();
}

void ChunkSink::stop_thread() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  if (thread_.joinable()) thread_.join();
}

SinkStats ChunkSink::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  return stats_;
}

void ChunkSink::throw_failure() const {
  if (err_ != 0) throw_errno(err_what_, err_);
  throw Error(err_what_);
}

bool ChunkSink::write_counted(std::unique_lock<std::mutex>& lk, const ChunkJob& job, int wanted_rung) {
  busy_ = true;
  // Faster at once when chunks queue up; slower again one rung per chunk,
  // so that a queue that just emptied does not start a slow chunk while
  // the producer is still fast.
  const int rung = std::max(wanted_rung, last_rung_ - 1);
  last_rung_ = rung;
  lk.unlock();
  const bool ok = write_chunk(job, rung);
  lk.lock();
  busy_ = false;
  if (ok) {
    ++stats_.chunks[rung];
    stats_.in_bytes += job.words * sizeof(capnp::word);
    stats_.out_bytes += index_.back().compressed_size;
  } else {
    failed_ = true;
  }
  return ok;
}

void ChunkSink::run() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    work_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything is written
    ChunkJob job = std::move(queue_.front());
    queue_.pop_front();
    if (failed_) {
      // A chunk after a failed one would leave a gap in the events: the file
      // ends with the last chunk written.
      progress_.notify_all();
      continue;
    }
    if (!write_counted(lk, job, rung_for(queue_.size()))) queue_.clear();
    if (job.payload.size() == spare_words_ && spares_.size() < max_queued_) spares_.push_back(std::move(job.payload));
    progress_.notify_all();
  }
}

bool ChunkSink::write_chunk(const ChunkJob& job, int rung) {
  const size_t bytes = job.words * sizeof(capnp::word);
  const size_t bound = std::max(ZSTD_compressBound(bytes), stored_frame_bound(bytes));
  if (out_size_ < kChunkHeaderSize + bound) {
    out_size_ = kChunkHeaderSize + bound;
    out_.reset(new unsigned char[out_size_]);  // nothing to keep: a chunk at a time
  }
  unsigned char* out = out_.get();
  size_t csize;
  if (rung == kStoredRung) {
    csize = write_stored_frame(out + kChunkHeaderSize, job.payload.data(), bytes);
  } else {
    ZSTD_CCtx_setParameter(cctx(zstd_ctx_), ZSTD_c_compressionLevel, rung_level(level_, rung));
    csize = ZSTD_compress2(cctx(zstd_ctx_), out + kChunkHeaderSize, bound, job.payload.data(), bytes);
    if (ZSTD_isError(csize)) {
      err_ = 0;
      err_what_ = std::string("trace writer: zstd: ") + ZSTD_getErrorName(csize);
      return false;
    }
  }

  ChunkHeader h;
  h.kind = job.kind;
  h.compressed_size = static_cast<uint32_t>(csize);
  h.uncompressed_size = static_cast<uint32_t>(bytes);
  h.first_event = job.first_event;
  h.count = job.count;
  encode_chunk_header(h, out);
  uint32_t crc = crc32c(out, kChunkHeaderSize - 4);
  crc = crc32c(out + kChunkHeaderSize, csize, crc);
  std::memcpy(out + kChunkHeaderSize - 4, &crc, 4);

  if (!write_all(fd_, out, kChunkHeaderSize + csize)) {
    err_ = errno;
    err_what_ = "writing " + path_;
    // Cut off the partial chunk so that the file stays a readable prefix.
    if (::ftruncate(fd_, static_cast<off_t>(file_offset_)) == 0)
      ::lseek(fd_, static_cast<off_t>(file_offset_), SEEK_SET);
    return false;
  }
  index_.push_back(IndexEntry{.offset = file_offset_,
                              .first_event = job.first_event,
                              .compressed_size = static_cast<uint32_t>(csize),
                              .uncompressed_size = static_cast<uint32_t>(bytes),
                              .count = job.count,
                              .crc = crc,
                              .kind = job.kind});
  file_offset_ += kChunkHeaderSize + csize;
  return true;
}

}  // namespace rrx::trace::detail
