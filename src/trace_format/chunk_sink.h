// The trace file's write side under TraceWriter: whole chunk payloads go in,
// in order; a thread of its own compresses each (zstd) and appends it with its
// chunk header to the file, so that the recorder hands a full chunk over and
// goes on instead of waiting for zstd. While a backlog builds up the chunks
// are compressed at faster levels, down to stored (uncompressed) zstd frames.
#pragma once

#include <capnp/common.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "trace_format/chunk_format.h"

namespace rrx::trace::detail {

// Words for a chunk's payload, not cleared when allocated: only the words
// written into them are ever read, and clearing a chunk's 256 KiB (and
// faulting its pages in) at each new buffer showed in short recordings.
class WordBuffer {
 public:
  WordBuffer() = default;
  explicit WordBuffer(size_t words) : words_(new capnp::word[words]), size_(words) {}
  capnp::word* data() { return words_.get(); }
  const capnp::word* data() const { return words_.get(); }
  size_t size() const { return size_; }
  void swap(WordBuffer& other) noexcept {
    words_.swap(other.words_);
    std::swap(size_, other.size_);
  }
  WordBuffer(WordBuffer&& other) noexcept { swap(other); }
  WordBuffer& operator=(WordBuffer&& other) noexcept {
    WordBuffer gone(std::move(other));
    swap(gone);
    return *this;
  }

 private:
  std::unique_ptr<capnp::word[]> words_;
  size_t size_ = 0;
};

struct ChunkJob {
  uint8_t kind = 0;    // ChunkKind
  WordBuffer payload;  // the first `words` words are the chunk's messages
  size_t words = 0;
  uint64_t first_event = 0;
  uint32_t count = 0;
};

// How the chunks were written: per rung of the level ladder (0: the
// configured level, then faster ones, last: stored), and how long the
// producer waited for room in the queue.
struct SinkStats {
  static constexpr int kRungs = 4;
  int level = 0;  // the configured level (rung 0)
  uint64_t chunks[kRungs] = {};
  uint64_t in_bytes = 0, out_bytes = 0;  // payload bytes, zstd frame bytes
  std::chrono::steady_clock::duration waited{};
};

// One line for RRX_RECORD_STATS: the chunks per rung, the bytes in and out,
// the time the producer waited.
std::string describe(const SinkStats& stats);

// The zstd level of each rung for a configured level (rung 0); the last rung
// writes stored frames (no level).
int rung_level(int configured, int rung);

// A zstd frame holding `n` bytes of `data` uncompressed (raw blocks) into
// `out`, which has room for stored_frame_bound(n) bytes; returns its size.
size_t stored_frame_bound(size_t n);
size_t write_stored_frame(unsigned char* out, const void* data, size_t n);

class ChunkSink {
 public:
  // Appends chunks to `fd` (named `path` in errors) from `offset` on, at zstd
  // `level` when there is no backlog. At most `max_queued` chunks wait (the
  // one being written counted). Payload buffers of `spare_words` words are
  // handed back by spare() once written. No chunk is written below
  // `first_rung` (tests).
  ChunkSink(int fd, std::string path, uint64_t offset, int level, size_t max_queued, size_t spare_words,
            int first_rung = 0);
  // Writes what is queued (unless a write failed) and ends the thread.
  ~ChunkSink();
  ChunkSink(const ChunkSink&) = delete;
  ChunkSink& operator=(const ChunkSink&) = delete;

  // Compresses and writes `job` in the calling thread, before any submit():
  // for the header, which must be in the file when the writer is made.
  void write_now(ChunkJob& job);
  // Queues `job` (its payload is taken), waiting while the queue is full;
  // starts the thread on first use. Throws rrx::Error with the failure of an
  // earlier chunk's write (that chunk and every later one are not written).
  void submit(ChunkJob&& job);
  // For a producer that waits for `job` to be written anyway (the last
  // chunks, at close): writes it in the calling thread when nothing is
  // queued before it (the thread then need not start, or wake up), else
  // queues it as submit() does.
  void write_or_submit(ChunkJob&& job);
  // A payload buffer of spare_words words for the next chunk: one the
  // thread is done with, or a new one.
  WordBuffer spare();
  // Throws rrx::Error when a write has failed.
  void check();
  // Returns once every submitted chunk is in the file; throws as check().
  void drain();
  // drain(), then ends the thread (when drain throws, the thread is still ended).
  void finish();

  // The chunks written so far and the file's size (complete after drain()).
  const std::vector<IndexEntry>& index() const { return index_; }
  uint64_t file_offset() const { return file_offset_; }
  SinkStats stats() const;

 private:
  void run();
  void start();
  void stop_thread();
  // Compresses and writes one chunk at `rung`; on failure returns false with err_/err_what_ set.
  bool write_chunk(const ChunkJob& job, int rung);
  // With mu_ held in `lk` (released during the write): busy_ set, the rung
  // chosen from `wanted_rung` and the last one, write_chunk, then its
  // statistics or failed_. True when written.
  bool write_counted(std::unique_lock<std::mutex>& lk, const ChunkJob& job, int wanted_rung);
  [[noreturn]] void throw_failure() const;
  int rung_for(size_t backlog) const;

  const int fd_;
  const std::string path_;
  const int level_;
  const size_t max_queued_;
  const size_t spare_words_;
  const int first_rung_;
  void* zstd_ctx_ = nullptr;
  std::unique_ptr<unsigned char[]> out_;  // chunk header + frame, the thread's (not cleared)
  size_t out_size_ = 0;
  int last_rung_ = 0;               // the last chunk's rung (under mu_)
  // Owned by the thread while it runs; read by the producer after drain().
  uint64_t file_offset_;
  std::vector<IndexEntry> index_;

  mutable std::mutex mu_;
  std::condition_variable work_;     // the thread waits for jobs or stopping_
  std::condition_variable progress_; // the producer waits for room, or for the queue to empty
  std::deque<ChunkJob> queue_;       // the front is being written while busy_
  bool busy_ = false;
  bool stopping_ = false;
  std::atomic<bool> failed_{false};
  int err_ = 0;               // errno of the failed write (0: err_what_ says it all)
  std::string err_what_;
  std::vector<WordBuffer> spares_;
  SinkStats stats_;
  std::thread thread_;
};

}  // namespace rrx::trace::detail
