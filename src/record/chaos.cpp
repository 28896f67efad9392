// The chaos scheduler's draws (chaos.h).
#include "record/chaos.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace rrx::record {

namespace {
constexpr int kPriorities = 2;             // as rr's chaos mode: high and low
constexpr unsigned kRedrawOneIn = 16;      // picks between priority redraws, on average
constexpr unsigned kStarveOneIn = 40;      // picks between starvations, on average
constexpr int kStarveMinMs = 5, kStarveMaxMs = 60;
constexpr unsigned kBoundarySwitchOneIn = 8;
constexpr unsigned kInversionOneIn = 4;    // a slice's end hands the CPU to a lower priority anyway
}  // namespace

ChaosScheduler::ChaosScheduler(uint64_t seed) : seed_(seed), rng_(seed) {}

uint64_t random_chaos_seed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32 | rd()) % 1000000000000ull;
}

// Half of the slices are short (under kShortSlice), so that a computation
// of a few milliseconds is cut, usually more than once; the others long,
// so that a thread also gets to run a while undisturbed. Log-uniform in
// each half: every order of magnitude is as likely as the next.
ChaosScheduler::Clock::duration ChaosScheduler::next_slice() {
  const bool short_one = rng_() % 2 == 0;
  const double lo = static_cast<double>((short_one ? kMinSlice : kShortSlice).count());
  const double hi = static_cast<double>((short_one ? kShortSlice : kMaxSlice).count());
  std::uniform_real_distribution<double> u(std::log(lo), std::log(hi));
  return std::chrono::microseconds(static_cast<int64_t>(std::exp(u(rng_))));
}

int ChaosScheduler::priority(pid_t tid) {
  auto it = priority_.find(tid);
  if (it != priority_.end()) return it->second;
  int p = static_cast<int>(rng_() % kPriorities);
  priority_[tid] = p;
  return p;
}

bool ChaosScheduler::starved(pid_t tid) const { return tid == starved_ && Clock::now() < starved_until_; }

size_t ChaosScheduler::pick(const std::deque<pid_t>& waiting) {
  // A task that was just made to give way does not get the CPU straight back.
  const pid_t gave_way = gave_way_;
  gave_way_ = 0;
  if (rng_() % kRedrawOneIn == 0) priority_.clear();
  if (gave_way == 0 && waiting.size() > 1 && !starved(starved_) && rng_() % kStarveOneIn == 0) {
    starved_ = waiting[rng_() % waiting.size()];
    std::uniform_int_distribution<int> ms(kStarveMinMs, kStarveMaxMs);
    starved_until_ = Clock::now() + std::chrono::milliseconds(ms(rng_));
  }
  // Candidates: those not starved (all, if that is none), less the one that
  // gave way (unless it is alone).
  std::vector<size_t> candidates;
  for (size_t i = 0; i < waiting.size(); ++i)
    if (!starved(waiting[i])) candidates.push_back(i);
  if (candidates.empty())
    for (size_t i = 0; i < waiting.size(); ++i) candidates.push_back(i);
  if (std::any_of(candidates.begin(), candidates.end(), [&](size_t i) { return waiting[i] != gave_way; }))
    candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                    [&](size_t i) { return waiting[i] == gave_way; }),
                     candidates.end());
  // The highest priority among them; ties broken at random.
  std::vector<size_t> best;
  int best_priority = -1;
  for (size_t i : candidates) {
    int p = priority(waiting[i]);
    if (p > best_priority) {
      best.clear();
      best_priority = p;
    }
    if (p == best_priority) best.push_back(i);
  }
  return best[rng_() % best.size()];
}

bool ChaosScheduler::should_preempt(pid_t current, const std::deque<pid_t>& waiting) {
  bool give_way = starved(current);
  bool others = false;  // a waiting task that may run now
  int mine = priority(current);
  for (pid_t tid : waiting) {
    if (tid == current || starved(tid)) continue;
    others = true;
    if (priority(tid) >= mine) give_way = true;
  }
  // Everyone else has a lower priority: now and then it gives way anyway
  // (a preemption at a point a strict priority order would never show).
  if (!give_way && others) give_way = rng_() % kInversionOneIn == 0;
  if (give_way) gave_way_ = current;
  return give_way;
}

bool ChaosScheduler::switch_at_boundary() { return rng_() % kBoundarySwitchOneIn == 0; }

}  // namespace rrx::record
