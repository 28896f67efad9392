// rrx's binding to one CPU: record and replay run the tree one thread at a
// time, so nothing runs in parallel that a second CPU would help, and every
// ptrace stop is a hand-over between the tracee and rrx. On one CPU that is
// a context switch; across two it is a wake-up of the other CPU, which on a
// virtual machine costs an inter-processor interrupt through the
// hypervisor and often an idle CPU's exit (measured on a 2-CPU PVM guest:
// bash's git script recorded 3.2x native unbound, 1.5x bound). rr binds the
// same way. The binding is inherited by every process rrx spawns; rrx's
// helper threads (the trace writer) and the debugger it starts run
// anywhere (run_on_any_cpu). The programs' view of their affinity is kept
// by the recorder (record/cpu_affinity.h).
#pragma once

#include <sched.h>

#include <optional>
#include <string>

namespace rrx {

// Binds the calling thread (and so whatever it forks later) to one CPU of
// those it may run on: `preferred` when allowed and free, else the first
// CPU no other rrx holds (an abstract unix socket per CPU marks it held,
// released when rrx exits), starting from the one it runs on now; when all
// are held, the one it runs on. Returns the CPU, or nullopt (and binds
// nothing) when the affinity cannot be read or set, with `why`.
std::optional<int> bind_to_one_cpu(std::optional<int> preferred, std::string* why);

// The CPU bound_to_one_cpu chose (nullopt: unbound).
std::optional<int> bound_cpu();

// The calling thread's affinity as it was before the binding: for rrx's
// own threads and children that do not run the tree (no effect unbound).
void run_on_any_cpu();

// The calling thread's affinity as it was before the binding, less the CPU
// rrx and the tree are bound to: for background work that must not take
// that CPU from them (a thread allowed there runs whenever it idles for a
// moment, at every ptrace stop, and is preempted at the next wake-up).
// False, and nothing changed, when no other CPU is left (unbound: any CPU).
bool run_beside_bound_cpu();

// The affinity rrx had before binding (or has, unbound): what the recorded
// programs are shown as theirs.
const cpu_set_t& unbound_affinity();

// RRX_CPU_UNBOUND=1 in the environment: record and replay do not bind
// (as --cpu-unbound).
bool cpu_unbound_by_environment();

}  // namespace rrx
