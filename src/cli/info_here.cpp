// `rrx info --here`: what a recording on this machine would use, without a
// trace: the fast path's way of keeping buffered calls that may block from
// blocking the tree (the desched event's start-up probe, record/desched.h),
// and how rdtsc would be recorded (core/tsc_trap.h).
// `rrx info TRACE` says what a recording did use. Also whether the debug
// registers fire here (gdb's watchpoints during a replay: core/debug_regs_probe.h).
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/trace_commands.h"
#include "core/debug_regs_probe.h"
#include "core/tsc_trap.h"
#include "record/desched.h"

namespace rrx::cli {

int info_here(bool json_output) {
  // The probe runs either way: where desched is not asked for, it says
  // whether RRX_DESCHED=1 would work here.
  const bool wanted = record::desched_wanted();
  const record::DeschedProbe p = record::probe_desched_event();
  const bool desched = wanted && p == record::DeschedProbe::Counts;
  const char* why_not =
      "desched is opt-in (RRX_DESCHED=1): it measured more ptrace stops than the checked mode on "
      "blocking-heavy programs (pipe ping-pong 32k vs 20.7k, futex ring 30.8k vs 26.4k) and the same on "
      "make and python";
  const bool tsc_probe = probe_tsc_trap_in_child();
  const bool tsc_trap = tsc_trap_works();
  if (json_output) {
    nlohmann::json j;
    j["tsc_recording"] = tsc_trap ? "trap" : "patched-sites";
    j["tsc_trap_works"] = tsc_probe;
    j["blocking_calls"] = desched ? "desched" : "checked";
    j["desched_asked"] = wanted;
    j["desched_probe"] = record::describe(p);
    j["debug_registers"] = debug_registers_fire();
    j["debug_registers_probe"] = describe(probe_debug_registers());
    std::cout << j.dump() << "\n";
    return 0;
  }
  std::cout << "rrx record --syscallbuf here would use:\n";
  if (desched) {
    std::cout << "blocking calls: desched event (RRX_DESCHED=1): calls that may block are buffered, and taken over "
                 "when they block\n";
  } else if (wanted) {
    std::cout << "blocking calls: none: RRX_DESCHED=1, but the desched event cannot be used here (rrx record "
                 "fails)\n";
  } else {
    std::cout << "blocking calls: checked: reads and writes are buffered where they cannot block\n"
              << "  (" << why_not << ")\n";
  }
  std::cout << "  (the probe: " << record::describe(p) << ")\n";
  if (tsc_trap) {
    std::cout << "rdtsc:          trapped (prctl PR_SET_TSC, PR_TSC_SIGSEGV faults here)\n";
  } else {
    std::cout << "rdtsc:          patched sites: " << (tsc_probe ? "RRX_TSC_PATCH is set" : "the rdtsc trap does not work here (prctl PR_SET_TSC is accepted, rdtsc does not fault)")
              << ": every rdtsc/rdtscp found in the code the processes map is overwritten by hlt, which faults; "
                 "rdtsc in code made at run time (JIT) is not recorded\n";
  }
  std::cout << "rrx replay's gdb watchpoints here: "
            << (debug_registers_fire()
                    ? "the debug registers (write, read and access watchpoints, hardware breakpoints)"
                    : "single-steps comparing the watched bytes (write watchpoints; read and access watchpoints "
                      "refused; hardware breakpoints as int3)")
            << "\n  (debug registers: " << describe(probe_debug_registers()) << ")\n";
  return 0;
}

}  // namespace rrx::cli
