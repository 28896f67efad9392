// Where a recording's ptrace stops and the recorder's time go
// (RRX_RECORD_STATS=1 rrx record ...): every stop the recorder handles is
// counted by what it was (a traced syscall by name, cpuid, rdtsc, exec,
// clone, ...) with the recorder's wall time handling it; buffer flushes and
// site patches are counted apart (their time is part of the stop's); and
// what became of the desched signals (core/syscallbuf_abi.h, "Desched").
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>

namespace rrx::record {

class RecordStats {
 public:
  using Clock = std::chrono::steady_clock;

  // Null unless RRX_RECORD_STATS is set in rrx's environment.
  static bool wanted();

  // A stop is being handled; `label` names it until a handler says better.
  void begin_stop(std::string label);
  void name_stop(std::string label) { label_ = std::move(label); }
  void end_stop();
  // A flush that took `records` buffered calls, and its time.
  void flush(uint64_t records, Clock::duration took);
  void site_patch(bool patched, Clock::duration took);
  // Sites patched ahead of their first call (known from earlier processes).
  void known_sites_patched(size_t n, Clock::duration took) {
    known_patched_ += n;
    patch_time_ += took;
  }
  void exec() { ++execs_; }
  // A traced call resumed with no exit stop (return_slot.h); one whose
  // thread stopped next inside the return stub (a signal at its return).
  void completed_at_seccomp_stop() { ++at_seccomp_stop_; }
  void stopped_in_return_stub() { ++in_return_stub_; }
  // A call rrx skips and answers itself (refused, or one of rrx's own
  // calls), completed at its seccomp stop: the kernel returns the rax set there.
  void answered_at_seccomp_stop() { ++answered_; }
  // Time in waitpid (the tracees running, or waiting for the CPU).
  void waited(Clock::duration d) { wait_ += d; }
  // Desched signals: the call had blocked (given back), had completed (a
  // spurious deschedule: the thread was only preempted), had not been made
  // yet (resumed to its entry), or came after the window closed; and a call
  // skipped at its entry and given back (the thread was traced fully).
  enum class Desched { GivenBack, Spurious, BeforeCall, Late, GivenBackAtEntry };
  void desched(Desched what) { ++desched_[static_cast<int>(what)]; }
  // The summary, to rrx's stderr at the end of the recording.
  void print(std::ostream& out) const;

 private:
  struct Kind {
    uint64_t stops = 0;
    Clock::duration time{};
  };
  std::map<std::string, Kind> kinds_;
  std::string label_;
  Clock::time_point since_{};
  bool open_ = false;
  uint64_t stops_ = 0;
  uint64_t flushes_ = 0, records_ = 0, patched_ = 0, refused_ = 0, execs_ = 0;
  uint64_t known_patched_ = 0;
  uint64_t at_seccomp_stop_ = 0, in_return_stub_ = 0, answered_ = 0;
  Clock::duration flush_time_{}, patch_time_{}, wait_{};
  Clock::time_point start_ = Clock::now();
  uint64_t desched_[5] = {};
};

}  // namespace rrx::record
