// Where a recording's stops and time go: see record_stats.h.
#include "record/record_stats.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace rrx::record {

namespace {

double ms(RecordStats::Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double cpu_ms(const timeval& t) { return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3; }

}  // namespace

bool RecordStats::wanted() {
  const char* v = std::getenv("RRX_RECORD_STATS");
  return v && *v && std::string(v) != "0";
}

void RecordStats::begin_stop(std::string label) {
  label_ = std::move(label);
  since_ = Clock::now();
  open_ = true;
}

void RecordStats::end_stop() {
  if (!open_) return;
  open_ = false;
  Kind& k = kinds_[label_];
  ++k.stops;
  ++stops_;
  k.time += Clock::now() - since_;
}

void RecordStats::flush(uint64_t records, Clock::duration took) {
  if (records == 0) return;
  ++flushes_;
  records_ += records;
  flush_time_ += took;
}

void RecordStats::site_patch(bool patched, Clock::duration took) {
  ++(patched ? patched_ : refused_);
  patch_time_ += took;
}

void RecordStats::print(std::ostream& out) const {
  rusage self{};
  ::getrusage(RUSAGE_SELF, &self);
  Clock::duration handled{};
  for (const auto& [label, k] : kinds_) handled += k.time;
  char line[200];
  std::snprintf(line, sizeof line,
                "rrx: record stats: %llu stops in %.1f ms of rrx's wall time (%.1f us each), %llu execs, "
                "%.1f ms in waitpid, %.1f ms in all; rrx's CPU %.1f ms user %.1f ms system\n",
                static_cast<unsigned long long>(stops_), ms(handled), stops_ ? ms(handled) * 1e3 / static_cast<double>(stops_) : 0.0,
                static_cast<unsigned long long>(execs_), ms(wait_), ms(Clock::now() - start_), cpu_ms(self.ru_utime),
                cpu_ms(self.ru_stime));
  out << line;
  std::snprintf(line, sizeof line,
                "rrx:   flushes %llu taking %llu buffered calls in %.1f ms (%.2f us a call); site patches %llu (+%llu "
                "refused; %llu more ahead of a first call) in %.1f ms\n",
                static_cast<unsigned long long>(flushes_), static_cast<unsigned long long>(records_), ms(flush_time_),
                records_ ? ms(flush_time_) * 1e3 / static_cast<double>(records_) : 0.0,
                static_cast<unsigned long long>(patched_), static_cast<unsigned long long>(refused_),
                static_cast<unsigned long long>(known_patched_), ms(patch_time_));
  out << line;
  if (at_seccomp_stop_ || answered_) {
    std::snprintf(line, sizeof line,
                  "rrx:   traced calls completed at their seccomp stop (no exit stop): %llu, %llu of them with the "
                  "next stop in the return stub; %llu calls skipped and answered there\n",
                  static_cast<unsigned long long>(at_seccomp_stop_), static_cast<unsigned long long>(in_return_stub_),
                  static_cast<unsigned long long>(answered_));
    out << line;
  }
  if (desched_[0] + desched_[1] + desched_[2] + desched_[3] + desched_[4]) {
    std::snprintf(line, sizeof line,
                  "rrx:   desched signals: %llu given back (blocked), %llu spurious (completed), %llu before the call, "
                  "%llu after the window; %llu given back at an entry\n",
                  static_cast<unsigned long long>(desched_[0]), static_cast<unsigned long long>(desched_[1]),
                  static_cast<unsigned long long>(desched_[2]), static_cast<unsigned long long>(desched_[3]),
                  static_cast<unsigned long long>(desched_[4]));
    out << line;
  }
  std::vector<std::pair<std::string, Kind>> kinds(kinds_.begin(), kinds_.end());
  std::sort(kinds.begin(), kinds.end(), [](const auto& a, const auto& b) {
    return a.second.stops != b.second.stops ? a.second.stops > b.second.stops : a.first < b.first;
  });
  for (const auto& [label, k] : kinds) {
    std::snprintf(line, sizeof line, "rrx:   %-36s %8llu stops %9.2f ms %7.1f us/stop %7.2f per exec\n", label.c_str(),
                  static_cast<unsigned long long>(k.stops), ms(k.time), ms(k.time) * 1e3 / static_cast<double>(k.stops),
                  execs_ ? static_cast<double>(k.stops) / static_cast<double>(execs_) : 0.0);
    out << line;
  }
}

}  // namespace rrx::record
