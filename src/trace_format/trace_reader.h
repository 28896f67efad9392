// Reads a trace sequentially, or from an event number through the index.
// Every failure is a TraceError naming the file and the offset.
#pragma once

#include <capnp/serialize.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "trace_format/chunk_format.h"
#include "trace_format/chunk_prefetch.h"
#include "trace_format/trace.capnp.h"
#include "trace_format/trace_writer.h"
#include "trace_format/trace_error.h"

namespace rrx::trace {

// One decoded message; keeps the chunk bytes it points into alive.
class Message {
 public:
  Message(std::shared_ptr<const std::vector<capnp::word>> chunk, kj::ArrayPtr<const capnp::word> words);
  template <typename T>
  typename T::Reader as() { return reader_.getRoot<T>(); }
  // The root as an Event, found once (set_event) and kept: the replay looks
  // at an event many times, and getRoot checks the root pointer each time.
  // A reader points into this Message, which never moves (held by pointer).
  void set_event() { event_ = reader_.getRoot<schema::Event>(); }
  schema::Event::Reader event() const { return event_; }

 private:
  std::shared_ptr<const std::vector<capnp::word>> chunk_;
  capnp::FlatArrayMessageReader reader_;
  schema::Event::Reader event_;
};

struct EventRecord {
  uint64_t number;  // 0-based position in the global order
  std::shared_ptr<Message> message;
  schema::Event::Reader get() const { return message->event(); }
};

struct EndInfo {
  uint64_t event_count;
  int64_t end_time_unix_ns;
  int exit_status;
  std::string reason;
  std::vector<SharedObjectEnd> shared_objects;
};

class TraceReader {
 public:
  // Opens DIR (a trace directory). Reads and checks the file header and the
  // Header message; throws TraceError for a trace it cannot read.
  explicit TraceReader(const std::filesystem::path& dir);
  ~TraceReader();

  const std::filesystem::path& dir() const { return dir_; }
  schema::Header::Reader header() const;

  // The next event, or nullopt at the end of what is readable.
  std::optional<EventRecord> next();
  // Positions the reader so that next() returns event `number`.
  void seek(uint64_t number);

  // Complete: an End record was found. Determined by scanning the chunk
  // headers at open time (cheap: no decompression).
  bool complete() const { return end_.has_value(); }
  const std::optional<EndInfo>& end() const { return end_; }
  // For an incomplete trace: why, with the file and the offset where the
  // readable part ends (e.g. "the last chunk, at offset N, is truncated...").
  const std::string& incomplete_reason() const { return incomplete_reason_; }
  // Incomplete because rrx gave up recording (the trace's `aborted` file
  // says why: no room for a file's copy, --strict...). Replay refuses it.
  bool aborted() const { return aborted_; }
  // Reads every chunk and checks its CRC-32C (no decompression): opening
  // checks only the chunk headers, and a chunk's payload is checked when it is
  // loaded. Throws TraceError naming the first corrupted chunk and its offset.
  void verify_checksums() const;
  // Number of events readable (from the index).
  uint64_t event_count() const { return readable_events_; }
  uint64_t trace_bytes() const { return file_size_; }
  // The number of the event the next call to next() returns.
  uint64_t position() const { return cur_number_; }

 private:
  // Where a chunk is and what it holds, as the index records it.
  using ChunkInfo = detail::IndexEntry;
  // Throws TraceError unless chunk `i` of the list may follow the ones before
  // it (magic, codec, sizes, kind order, event numbering).
  void check_chunk(const ChunkInfo& c, size_t i, uint64_t expected_first) const;
  // For a chunk that claims more bytes than the file has: throws TraceError
  // unless what is there is a prefix of its zstd frame (a cut-off file rather
  // than a corrupted size field).
  void check_cut_off_chunk(const ChunkInfo& c) const;
  void finish_open();
  void scan_chunks();
  bool load_index();
  void save_index() const;
  // Reads chunk `c` (header and payload) into `raw`; throws TraceError unless
  // its header matches `c` and its CRC-32C matches the bytes.
  void read_checked_chunk(const ChunkInfo& c, std::vector<unsigned char>& raw) const;
  std::shared_ptr<const std::vector<capnp::word>> load_chunk(const ChunkInfo& c) const {
    return load_chunk(c, raw_, zstd_dctx_);
  }
  // The same with the read buffer and zstd context given (the prefetch
  // thread has its own; `zstd` is created when null).
  std::shared_ptr<const std::vector<capnp::word>> load_chunk(const ChunkInfo& c, std::vector<unsigned char>& raw,
                                                             void*& zstd) const;
  // Events chunk `i` loaded, its messages found and quick-checked; throws
  // TraceError for a bad chunk.
  LoadedChunk load_events_chunk(size_t i, std::vector<unsigned char>& raw, void*& zstd) const;
  void open_chunk(size_t i);

  std::filesystem::path dir_;
  std::string trace_path_;
  int fd_ = -1;
  uint64_t file_size_ = 0;
  std::vector<ChunkInfo> chunks_;
  std::shared_ptr<Message> header_;
  std::optional<EndInfo> end_;
  std::string abort_reason() const;
  std::string incomplete_reason_;
  bool aborted_ = false;
  uint64_t readable_events_ = 0;

  // Sequential cursor.
  size_t cur_chunk_ = 0;  // index into chunks_ of the chunk being read
  std::shared_ptr<const std::vector<capnp::word>> cur_words_;
  size_t cur_pos_ = 0;      // word offset into cur_words_
  uint64_t cur_number_ = 0; // number of the next event
  uint32_t cur_left_ = 0;   // messages left in the current chunk
  std::vector<uint32_t> cur_offsets_;  // word offsets of the chunk's messages, then its end
  uint32_t cur_checked_ = 0;           // its first messages that passed the quick check already
  size_t loaded_chunk_ = SIZE_MAX;     // chunk that cur_words_/cur_offsets_ hold
  size_t chunks_opened_ = 0;           // the prefetch starts with the second
  uint64_t valid_end_ = 0;             // end of the last whole chunk
  mutable void* zstd_dctx_ = nullptr;
  // Buffers of chunks loaded before, reused when no Message holds them any
  // more (no allocation and no zeroing per chunk).
  // (Shared with the prefetch thread: pool_mu_ guards it.)
  mutable std::vector<std::shared_ptr<std::vector<capnp::word>>> chunk_pool_;
  mutable std::mutex pool_mu_;
  mutable std::vector<unsigned char> raw_;  // load_chunk's compressed bytes
  // Loads the next events chunk ahead (chunk_prefetch.h); null until the
  // second chunk is opened, or with RRX_TRACE_PREFETCH=0. Last: it goes
  // first, while what its thread uses is still there.
  std::unique_ptr<ChunkPrefetch> prefetch_;
};

// Convenience: an Event builder's MessageBuilder type used by writers.
}  // namespace rrx::trace
