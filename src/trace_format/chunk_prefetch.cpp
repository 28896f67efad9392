// ChunkPrefetch: see chunk_prefetch.h.
#include "trace_format/chunk_prefetch.h"

#include <signal.h>
#include <zstd.h>

#include <system_error>

#include "core/cpu_binding.h"

namespace rrx::trace {

ChunkPrefetch::ChunkPrefetch(Load load, size_t depth) : load_(std::move(load)), depth_(depth < 2 ? 2 : depth) {}

ChunkPrefetch::~ChunkPrefetch() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ChunkPrefetch::reading(size_t at, size_t end) {
  std::unique_lock<std::mutex> lk(mu_);
  const bool same_place = at >= at_ && at <= next_ && end == end_;
  if (!same_place) {
    // A seek: what was held for the old place is of no use.
    ready_.clear();
    next_ = at + 1;
  }
  at_ = at;
  end_ = end;
  ready_.erase(ready_.begin(), ready_.lower_bound(at + 1));
  if (next_ < at + 1) next_ = at + 1;
  if (!thread_.joinable()) {
    if (!wanted()) return;
    // Every signal blocked: rrx's handlers (SIGINT, SIGCHLD, the timer...)
    // must interrupt the replay's own waits, not land in this thread.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
      thread_ = std::thread([this] { run(); });
    } catch (const std::system_error&) {
      end_ = 0;  // no thread: the reader loads every chunk itself
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return;
  }
  // Woken when half the window is free, or when the reader would wait.
  if (idle_ && wanted() && (!same_place || ready_.size() <= depth_ / 2)) {
    lk.unlock();
    work_.notify_one();
  }
}

std::optional<LoadedChunk> ChunkPrefetch::take(size_t chunk) {
  std::unique_lock<std::mutex> lk(mu_);
  done_.wait(lk, [&] { return ready_.count(chunk) != 0 || loading_ != chunk; });
  auto it = ready_.find(chunk);
  if (it == ready_.end()) return std::nullopt;
  LoadedChunk got = std::move(it->second);
  ready_.erase(it);
  return got;
}

void ChunkPrefetch::run() {
  run_on_any_cpu();  // (the replay binds rrx and the tree to one CPU: this runs beside them)
  Scratch scratch;
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    idle_ = true;
    work_.wait(lk, [&] { return stopping_ || wanted(); });
    idle_ = false;
    if (stopping_) break;
    const size_t chunk = next_++;
    loading_ = chunk;
    lk.unlock();
    LoadedChunk got;
    try {
      got = load_(chunk, scratch);
    } catch (...) {
      got = LoadedChunk{};
      got.error = std::current_exception();
    }
    lk.lock();
    loading_.reset();
    // (Dropped when the reader went elsewhere meanwhile.)
    if (chunk > at_ && chunk < next_) ready_[chunk] = std::move(got);
    lk.unlock();
    done_.notify_all();
    lk.lock();
  }
  if (scratch.zstd != nullptr) ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(scratch.zstd));
}

}  // namespace rrx::trace
