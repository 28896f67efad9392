// Where a replay's ptrace stops go: see replay_stats.h.
#include "replay/replay_stats.h"

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include <capnp/schema.h>

#include "core/syscall_table.h"
#include "trace_format/format.h"

namespace rrx::replay {

std::string stats_label(schema::Event::Reader ev) {
  if (ev.which() == schema::Event::SYSCALL) {
    auto sc = ev.getSyscall();
    return sys::syscall_name(sc.getNr()) + ((sc.getFlags() & trace::kSyscallBuffered) ? " (buffered)" : "");
  }
  if (ev.which() == schema::Event::SYSCALL_ENTRY) return sys::syscall_name(ev.getSyscallEntry().getNr()) + " entry";
  for (auto f : capnp::Schema::from<schema::Event>().getUnionFields()) {
    if (f.getProto().getDiscriminantValue() == static_cast<uint16_t>(ev.which())) return f.getProto().getName().cStr();
  }
  return "?";
}

void ReplayStats::event(const std::string& label) {
  if (free_ > 0) {
    --free_;
    ++kinds_[label + ", taken"].events;
    return;
  }
  Kind& k = kinds_[label];
  ++k.events;
  k.stops += pending_;
  pending_ = 0;
}

void ReplayStats::print(std::ostream& out, uint64_t events) const {
  out << "rrx: replay stats: " << events << " events, " << taken_ << " buffered calls taken without a stop, "
      << stops_ << " stops\n";
  // The replayed processes count once rrx has reaped them: all of them at the end of a replay.
  auto ms = [](const rusage& u) {
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
  };
  rusage self{}, children{};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  char cpu[160];
  std::snprintf(cpu, sizeof cpu, "rrx: CPU: rrx %.0f ms (%.0f ms feeding and taking buffers), replayed processes %.0f ms\n",
                ms(self), feed_ns_ / 1e6, ms(children));
  out << cpu;
  std::vector<std::pair<std::string, Kind>> kinds(kinds_.begin(), kinds_.end());
  std::sort(kinds.begin(), kinds.end(), [](const auto& a, const auto& b) {
    return a.second.stops != b.second.stops ? a.second.stops > b.second.stops : a.first < b.first;
  });
  for (const auto& [label, k] : kinds) {
    char line[160];
    std::snprintf(line, sizeof line, "rrx:   %-28s %8llu events %8llu stops %6.2f per event\n", label.c_str(),
                  static_cast<unsigned long long>(k.events), static_cast<unsigned long long>(k.stops),
                  k.events ? static_cast<double>(k.stops) / static_cast<double>(k.events) : 0.0);
    out << line;
  }
}

uint64_t stats_clock_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace rrx::replay
