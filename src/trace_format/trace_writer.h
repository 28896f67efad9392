// Writes a trace: the header, events in global order, and the End record.
// Full chunks are compressed and written by a thread of the writer's own
// (chunk_sink.h): append() returns without waiting for zstd; flush() and
// close() wait until the file holds everything appended.
#pragma once

#include <capnp/message.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "trace_format/chunk_format.h"
#include "trace_format/chunk_sink.h"
#include "trace_format/trace.capnp.h"

namespace rrx::trace {

// A shared object's state at the end of the recording (End.sharedObjects).
struct SharedObjectEnd {
  uint32_t object = 0;
  uint64_t size = 0;
  std::string content_hash;  // empty: not checked
  std::string path;
  bool unchanged = false;  // SharedObjectState.unchanged
};

struct WriterOptions {
  size_t chunk_bytes = 256 * 1024;     // uncompressed bytes per chunk before it is flushed
  int zstd_level = 3;  // while the writer's thread keeps up; faster levels while it falls behind
  std::chrono::milliseconds max_unflushed{1000};  // flush a partial chunk after this long
  size_t max_queued_chunks = 8;  // full chunks waiting for the writer's thread before append() waits
  int first_rung = 0;  // tests: the level ladder starts at this rung (SinkStats::kRungs - 1: all stored)
};

// How the chunks were written (per rung of the level ladder: rung_level()).
using WriterStats = detail::SinkStats;
// One line for RRX_RECORD_STATS.
inline std::string describe(const WriterStats& stats) { return detail::describe(stats); }

class TraceWriter {
 public:
  // Creates DIR/trace (DIR must exist). The header is written and flushed at once.
  TraceWriter(const std::filesystem::path& dir, capnp::MessageBuilder& header,
              WriterOptions options = {});
  ~TraceWriter();  // flushes, but does not write End: the trace stays incomplete
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Appends one Event message; returns its event number (0-based). A full
  // chunk (or one older than max_unflushed) goes to the writer's thread.
  // Throws rrx::Error when writing an earlier chunk failed (ENOSPC, EIO...).
  uint64_t append(capnp::MessageBuilder& event);
  uint64_t event_count() const { return event_count_; }

  // Writes the buffered events as a chunk now and returns once the file
  // holds every event appended (a killed rrx then loses none of them).
  void flush();
  // Writes the End record and the index, and ends the writer's thread: the
  // trace is complete (not fsynced).
  void close(int exit_status, const std::string& reason, const std::vector<SharedObjectEnd>& shared = {});
  bool closed() const { return closed_; }
  WriterStats stats() const;

 private:
  // Hands the pending events to the writer's thread (none pending: nothing).
  void hand_over();
  // Moves pending_ into a chunk job of `kind`.
  detail::ChunkJob take_pending(uint8_t kind, uint64_t first, uint32_t count);
  // Runs `f` (a call into the sink); when it throws, the writer is broken.
  template <typename F>
  void guarded(F&& f);
  // Appends one message, flat-array encoded, to pending_.
  void add_message(kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments);
  void reserve_pending(size_t words);
  void check_usable() const;
  std::filesystem::path dir_;
  WriterOptions options_;
  int fd_ = -1;
  // Pending chunk payload: none until the first message after a hand-over
  // (a spare from the sink, or a new one), replaced by a larger one when
  // needed; pending_words_ counts the words in use.
  detail::WordBuffer pending_;
  size_t pending_words_ = 0;
  bool broken_ = false;  // a write failed: the file ends with the last chunk written
  uint64_t pending_first_ = 0;
  uint32_t pending_count_ = 0;
  uint64_t event_count_ = 0;
  std::chrono::steady_clock::time_point last_flush_;
  std::unique_ptr<detail::ChunkSink> sink_;
  bool closed_ = false;
};

// A recording rrx had to abort (no room for a file's copy, --strict...)
// leaves its reason in NAME-N/aborted beside the trace, which has no End
// chunk: TraceReader reports the trace incomplete for that reason
// (aborted()), and replay refuses it. Best effort: without the file the
// trace is still incomplete.
void write_abort_reason(const std::filesystem::path& trace_dir, const std::string& reason);

}  // namespace rrx::trace
