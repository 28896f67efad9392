// `rrx record --chaos`: randomized scheduling of the serialized threads, so
// that races whose window holds no syscall show up under the recorder.
// The Recorder asks it who runs next, how long a slice lasts, and whether a
// running thread gives way; every draw comes from one seeded generator (the
// seed is in the trace header's options as chaos-seed).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>

namespace rrx::record {

struct ChaosOptions {
  bool enabled = false;
  std::optional<uint64_t> seed;  // --chaos-seed; drawn at random when absent
};

class ChaosScheduler {
 public:
  using Clock = std::chrono::steady_clock;
  // Slices are drawn for each switch: half log-uniformly in [kMinSlice,
  // kShortSlice], half in [kShortSlice, kMaxSlice].
  static constexpr std::chrono::microseconds kMinSlice{50};
  static constexpr std::chrono::microseconds kShortSlice{1000};
  static constexpr std::chrono::microseconds kMaxSlice{30000};

  explicit ChaosScheduler(uint64_t seed);
  uint64_t seed() const { return seed_; }

  // The slice of the task that starts running now.
  Clock::duration next_slice();
  // Which of `waiting` (not empty) runs next: the highest priority among
  // those not being starved, ties (e.g. threads woken by the same event)
  // broken at random; a task should_preempt just took the CPU from comes
  // last. Priorities are redrawn now and then, and one waiting
  // task is now and then starved for a while (it runs only when no other can).
  size_t pick(const std::deque<pid_t>& waiting);
  // At the end of `current`'s slice: does a waiting task get the CPU? Yes
  // when one has at least its priority; otherwise 1 time in 4 (else the
  // slice renews).
  bool should_preempt(pid_t current, const std::deque<pid_t>& waiting);
  // At a syscall boundary inside the slice: switch anyway (1 time in 8).
  bool switch_at_boundary();
  void forget(pid_t tid) { priority_.erase(tid); }

 private:
  int priority(pid_t tid);
  bool starved(pid_t tid) const;
  uint64_t seed_;
  std::mt19937_64 rng_;
  std::map<pid_t, int> priority_;
  pid_t starved_ = 0;
  pid_t gave_way_ = 0;  // should_preempt's last yes: the next pick passes it over
  Clock::time_point starved_until_{};
};

// A seed for --chaos without --chaos-seed.
uint64_t random_chaos_seed();

}  // namespace rrx::record
