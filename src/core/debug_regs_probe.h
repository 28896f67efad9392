// Whether the x86 debug registers fire on this machine. Some virtual
// machines (a PVM paravirtualised guest) accept PTRACE_POKEUSER of
// u_debugreg and read the values back, but never raise the debug
// exception: a watchpoint or execution breakpoint put there silently never
// stops. The replay then watches by single-stepping and comparing
// (replay/soft_watch.cpp), and runs to a preemption point the slow way with
// an int3 instead of a debug-register breakpoint.
#pragma once

#include <string>

namespace rrx {

enum class DebugRegsProbe {
  Fire,         // a write watchpoint in DR0 stopped the child's write
  Silent,       // accepted, but the child's write ran without a trap
  Refused,      // PTRACE_POKEUSER of DR0 or DR7 failed
  Failed,       // the probe could not run (fork, ptrace refused)
  ForcedOff,    // RRX_DEBUG_REGS=0 in the environment
};

// Probes once per process, on a forked child (a few ms), and caches the
// answer. RRX_DEBUG_REGS=0 says they do not fire without probing (to run
// the software paths on a machine where they do).
DebugRegsProbe probe_debug_registers();
// probe_debug_registers() == Fire.
bool debug_registers_fire();
const char* describe(DebugRegsProbe p);

}  // namespace rrx
