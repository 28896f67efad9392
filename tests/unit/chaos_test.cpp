// The chaos scheduler's draws (record/chaos.h): reproducible from the seed,
// slices within their bounds and half of them short, a task that was made
// to give way not picked straight back, random order among equals.
#include <catch2/catch.hpp>

#include <deque>
#include <set>
#include <vector>

#include "record/chaos.h"

using rrx::record::ChaosScheduler;

TEST_CASE("chaos: the same seed draws the same slices and picks", "[chaos]") {
  ChaosScheduler a(42), b(42), c(43);
  std::deque<pid_t> waiting{10, 11, 12};
  bool differs = false;
  for (int i = 0; i < 200; ++i) {
    auto sa = a.next_slice();
    REQUIRE(sa == b.next_slice());
    REQUIRE(a.pick(waiting) == b.pick(waiting));
    differs |= sa != c.next_slice();
  }
  CHECK(differs);
}

TEST_CASE("chaos: slices lie in [min, max], about half under 1 ms", "[chaos]") {
  ChaosScheduler s(7);
  int short_ones = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    auto d = s.next_slice();
    REQUIRE(d >= ChaosScheduler::kMinSlice - std::chrono::microseconds(1));
    REQUIRE(d <= ChaosScheduler::kMaxSlice);
    short_ones += d < ChaosScheduler::kShortSlice;
  }
  CHECK(short_ones > n * 4 / 10);
  CHECK(short_ones < n * 6 / 10);
}

TEST_CASE("chaos: a task that gave way is not picked straight back", "[chaos]") {
  ChaosScheduler s(1);
  int gave_way = 0;
  for (int i = 0; i < 500; ++i) {
    // The recorder asks with the others waiting, then picks among them and it.
    if (!s.should_preempt(20, std::deque<pid_t>{21})) continue;
    ++gave_way;
    std::deque<pid_t> waiting{20, 21};
    REQUIRE(waiting[s.pick(waiting)] == 21);
  }
  CHECK(gave_way > 100);
  // Alone, it gets the CPU back.
  ChaosScheduler t(2);
  std::deque<pid_t> alone{30};
  for (int i = 0; i < 50; ++i) {
    t.should_preempt(30, alone);
    REQUIRE(t.pick(alone) == 0);
  }
}

TEST_CASE("chaos: tasks released together run in every order", "[chaos]") {
  ChaosScheduler s(99);
  std::set<pid_t> first;
  for (int i = 0; i < 400; ++i) {
    std::deque<pid_t> waiting{40, 41, 42, 43};
    first.insert(waiting[s.pick(waiting)]);
  }
  CHECK(first.size() == 4);
}
