// Whether prctl(PR_SET_TSC, PR_TSC_SIGSEGV) makes rdtsc fault on this
// machine. It does on bare metal and in most VMs (CR4.TSD), which is how rrx
// records rdtsc/rdtscp; some paravirtualised guests (PVM) accept the prctl,
// report the mode back, and run rdtsc natively anyway: there the recorder
// overwrites the instructions it finds with hlt instead (record/tsc_sites.h).
#pragma once

namespace rrx {

// Asks the CPU, once per process (the answer is kept): sets PR_TSC_SIGSEGV
// on the calling thread, runs rdtsc and rdtscp (where the CPU has it) under
// a temporary SIGSEGV handler, then puts back PR_TSC_ENABLE and the handler
// it found. Both must fault. Safe with other threads running: the mode is
// per thread, and a SIGSEGV of another thread meanwhile gets the action it
// would have had. RRX_TSC_PATCH=1 in the environment answers false (to use
// and test the patched sites where the trap works).
bool tsc_trap_works();

// The probe itself, uncached and without the environment override.
bool probe_tsc_trap();
// The same in a forked child (its answer is its exit status), so that a
// debugger or tracer of rrx never sees the probe's SIGSEGVs (gdb stops at
// them); in this process only where the child cannot run. tsc_trap_works()
// uses it and remembers the answer for this boot of the kernel (the
// "kernel-probes" cache, fact "tsc-trap").
bool probe_tsc_trap_in_child();

}  // namespace rrx
