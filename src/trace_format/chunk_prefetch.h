// Reading a trace ahead: while the replay works through one chunk of events,
// a thread of the reader's own reads, checks and decompresses the next ones
// (their CRC-32C, the zstd frame, the message offsets and the quick check of
// each message: a dd bs=512 replay spent a third of rrx's CPU there, on the
// one CPU that the replay and the tree are bound to). The thread runs on any
// CPU (cpu_binding.h), up to `depth` chunks past where the reader is; a
// seek elsewhere drops what it held.
#pragma once

#include <capnp/common.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace rrx::trace {

// One chunk of events, loaded: its payload, the word offset of each message
// and then the end, and how many of its messages, from the first, passed
// the quick check (message_check.h); the others get the full check when
// they are read. `error` instead when the chunk could not be loaded (the
// reader rethrows it where it would have thrown it itself).
struct LoadedChunk {
  std::shared_ptr<const std::vector<capnp::word>> words;
  std::vector<uint32_t> offsets;
  uint32_t checked = 0;
  std::exception_ptr error;
};

class ChunkPrefetch {
 public:
  // `load` runs on the thread; it must not touch what the reader's own
  // thread uses unguarded (it gets a zstd context and a read buffer of its
  // own through `Scratch`).
  struct Scratch {
    std::vector<unsigned char> raw;
    void* zstd = nullptr;  // created by `load` when null, freed by the thread
  };
  using Load = std::function<LoadedChunk(size_t chunk, Scratch&)>;
  // At most `depth` chunks are held loaded ahead. The thread is woken only
  // when half of them have been taken: a wake-up of another CPU is dear on
  // a virtual machine (an inter-processor interrupt through the hypervisor,
  // cpu_binding.h), dearer than decompressing a small chunk.
  ChunkPrefetch(Load load, size_t depth);
  ~ChunkPrefetch();  // waits for the chunk being loaded
  ChunkPrefetch(const ChunkPrefetch&) = delete;
  ChunkPrefetch& operator=(const ChunkPrefetch&) = delete;

  // The reader is at chunk `at` and will read on from there, up to (not
  // including) chunk `end`: chunks after `at` are loaded ahead. Chunks held
  // or being loaded for another place are dropped.
  void reading(size_t at, size_t end);
  // Loaded `chunk` when it is held or being loaded (waits for it), else
  // nullopt: the caller loads it itself.
  std::optional<LoadedChunk> take(size_t chunk);

 private:
  void run();
  bool wanted() const { return next_ < end_ && next_ <= at_ + depth_; }

  Load load_;
  const size_t depth_;
  std::mutex mu_;
  std::condition_variable work_;  // the thread waits here
  std::condition_variable done_;  // take waits here
  bool stopping_ = false;
  bool idle_ = false;              // the thread waits for work
  size_t at_ = 0;                  // where the reader is
  size_t next_ = 0;                // the chunk the thread loads next
  size_t end_ = 0;                 // and the end of what it may load
  std::optional<size_t> loading_;  // being loaded by the thread now
  std::map<size_t, LoadedChunk> ready_;
  std::thread thread_;
};

}  // namespace rrx::trace
