// Where a replay's ptrace stops go (RRX_REPLAY_STATS=1 rrx replay
// --autopilot): each stop the replayer waits for is counted against the
// next event it replays, by the event's kind (a syscall by its name, a
// buffered one apart), so that the stops per event of each kind show;
// then the CPU time of rrx and of the replayed processes (getrusage), and
// the part of rrx's spent feeding buffers.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>

#include "trace_format/trace.capnp.h"

namespace rrx::replay {

// What an event counts as: a syscall's name ("read", "read (buffered)"), else its kind.
std::string stats_label(schema::Event::Reader ev);

class ReplayStats {
 public:
  void stop() { ++stops_; ++pending_; }
  // An event of kind `label` replayed: the stops since the last event go to it.
  void event(const std::string& label);
  // The next `n` events are buffered calls taken from the buffer: no stop
  // is theirs (the one since is the event's that follows them).
  void taken(uint64_t n) { taken_ += n; free_ += n; }
  uint64_t stops() const { return stops_; }
  // Time spent putting records into buffers and taking them back
  // (BufferFeed::feed and take, the session's part included).
  void feeding(uint64_t ns) { feed_ns_ += ns; }
  // The summary: totals, then the kinds by stops, most first.
  void print(std::ostream& out, uint64_t events) const;

 private:
  struct Kind {
    uint64_t events = 0;
    uint64_t stops = 0;
  };
  std::map<std::string, Kind> kinds_;
  uint64_t stops_ = 0;
  uint64_t pending_ = 0;
  uint64_t taken_ = 0;
  uint64_t free_ = 0;
  uint64_t feed_ns_ = 0;
};

// Nanoseconds of CLOCK_MONOTONIC, for the stats' spans.
uint64_t stats_clock_ns();

}  // namespace rrx::replay
