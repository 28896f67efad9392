// LaterVouches: see later_vouches.h.
#include "trace_format/later_vouches.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "core/cpu_binding.h"
#include "core/error.h"
#include "trace_format/sparse_file.h"
#include "trace_format/verified_hashes.h"

namespace rrx::trace {

namespace {

struct Cancelled {};

}  // namespace

LaterVouches::~LaterVouches() {
  try {
    finish();
  } catch (...) {
  }
}

void LaterVouches::add(int fd, const std::string& hash) {
  int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) {
    ::close(own);
    return;
  }
  jobs_.push_back(std::make_unique<Job>(own, hash));
  queue_.push_back(jobs_.back().get());
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  cv_.notify_one();
}

void LaterVouches::run() {
  // Not on the CPU the recording is bound to: there it would run at every
  // ptrace stop's idle moment (java -version recorded 11% slower). No other
  // CPU: nothing is hashed.
  if (!run_beside_bound_cpu()) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.clear();
    return;
  }
  // Only on CPU time nothing else wants: the recording is what the user waits for.
  struct sched_param idle {};
  ::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &idle);
  for (;;) {
    Job* job = nullptr;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = queue_.front();
      queue_.pop_front();
    }
    struct timespec now {};
    struct ::stat before {}, after {};
    if (::clock_gettime(CLOCK_REALTIME, &now) != 0 || ::fstat(job->fd.get(), &before) != 0) continue;
    try {
      // content_hash_of_range(Pages), given up at finish().
      const uint64_t size = static_cast<uint64_t>(before.st_size);
      PageHasher h(size);
      for_each_data_block(job->fd.get(), 0, size, "a stored copy", [&](uint64_t off, const unsigned char* data, size_t n) {
        if (cancel_.load(std::memory_order_relaxed)) throw Cancelled{};
        h.add(off, data, n);
      });
      job->matched = h.hex() == job->hash && ::fstat(job->fd.get(), &after) == 0 && same_file_state(before, after) &&
                     ctime_settled(job->fd.get(), before, now);
      job->st = before;
    } catch (const Cancelled&) {
      return;
    } catch (const Error&) {
      // Unreadable: no vouch; the replay's check meets it.
    }
  }
}

size_t LaterVouches::finish(bool drain) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  // What is not hashed yet stays so: the recording does not wait for it.
  if (!drain) cancel_.store(true);
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  size_t vouched = 0;
  for (const auto& job : jobs_) {
    struct ::stat now {};
    if (!job->matched || ::fstat(job->fd.get(), &now) != 0 || !same_file_state(now, job->st)) continue;
    (hashes_ != nullptr ? *hashes_ : VerifiedHashes::shared()).vouch(job->fd.get(), FileHashKind::Pages, job->hash, &job->st);
    ++vouched;
  }
  jobs_.clear();
  return vouched;
}

}  // namespace rrx::trace
