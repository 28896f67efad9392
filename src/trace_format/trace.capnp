# The rrx trace schema. One Header message, then one Event message per event
# in global order, then one End message when the recording closed cleanly.
# Fields are only ever appended (Cap'n Proto evolution rules); a change that
# readers of an older rrx cannot ignore bumps kFormatVersion in format.h.
@0xc5a7d1e2b3f40619;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("rrx::schema");

struct CpuidLeaf {
  leaf @0 :UInt32;
  subleaf @1 :UInt32;
  eax @2 :UInt32;
  ebx @3 :UInt32;
  ecx @4 :UInt32;
  edx @5 :UInt32;
}

struct CpuInfo {
  vendor @0 :Text;        # "GenuineIntel", "AuthenticAMD", ...
  family @1 :UInt32;
  model @2 :UInt32;
  stepping @3 :UInt32;
  leaves @4 :List(CpuidLeaf);   # the leaves glibc's cpu feature detection reads
}

struct KeyValue {
  key @0 :Text;
  value @1 :Text;
}

struct Header {
  formatVersion @0 :UInt32;
  rrxVersion @1 :Text;
  kernelRelease @2 :Text;
  cpu @3 :CpuInfo;
  argv @4 :List(Text);
  envp @5 :List(Text);
  cwd @6 :Text;
  exePath @7 :Text;          # the program as resolved when recording started
  startTimeUnixNs @8 :Int64;
  skipStrategy @9 :Text;     # best syscall-skip strategy of the recording kernel
  personality @10 :UInt32;   # personality(2) flags the tracees ran with
  options @11 :List(KeyValue);
  hostname @12 :Text;
  ignoredSignals @13 :UInt64;  # bit N-1: signal N was ignored (SIG_IGN) when the program started
  blockedSignals @14 :UInt64;  # bit N-1: signal N was blocked when the program started
  # Every recorded thread faulted on cpuid (CPUID faulting): each cpuid the
  # program ran is a `cpuid` event, and the replay traps cpuid too. False
  # (no CPUID faulting, or --no-cpuid-faulting): cpuid ran natively, and the
  # rdrand/rdseed instructions the recorder found are `randomInsns` events.
  cpuidFaulting @15 :Bool;
  # How files/HASH/ is named: stream (older traces) hashes every byte in
  # order; pages hashes the size and each 4 KiB page that is not all zeros
  # (sparse_file.h), so that a sparse file is hashed without reading its holes.
  fileHash @16 :FileHash;
  enum FileHash {
    stream @0;
    pages @1;
  }
  # How rdtsc/rdtscp were recorded (core/tsc_trap.h): trap (older traces),
  # each one faulted (prctl PR_SET_TSC, PR_TSC_SIGSEGV); patchedSites, the
  # trap does not work on the recording machine (some hypervisors), and the
  # instructions found in the code each process mapped were overwritten by
  # hlt (tscPatches events), which faults the same way.
  tscRecording @17 :TscRecording;
  enum TscRecording {
    trap @0;
    patchedSites @1;
  }
  # The CPU the recorder bound itself and the tree to (core/cpu_binding.h),
  # which the replay binds to as well where it may (cpuid answers the
  # program read natively name it); -1: unbound (--cpu-unbound, older traces).
  boundCpu @18 :Int32 = -1;
}

# struct user_regs_struct, field for field, in its order.
struct Registers {
  r15 @0 :UInt64;
  r14 @1 :UInt64;
  r13 @2 :UInt64;
  r12 @3 :UInt64;
  rbp @4 :UInt64;
  rbx @5 :UInt64;
  r11 @6 :UInt64;
  r10 @7 :UInt64;
  r9 @8 :UInt64;
  r8 @9 :UInt64;
  rax @10 :UInt64;
  rcx @11 :UInt64;
  rdx @12 :UInt64;
  rsi @13 :UInt64;
  rdi @14 :UInt64;
  origRax @15 :UInt64;
  rip @16 :UInt64;
  cs @17 :UInt64;
  eflags @18 :UInt64;
  rsp @19 :UInt64;
  ss @20 :UInt64;
  fsBase @21 :UInt64;
  gsBase @22 :UInt64;
  ds @23 :UInt64;
  es @24 :UInt64;
  fs @25 :UInt64;
  gs @26 :UInt64;
}

# Bytes the kernel (or rrx) wrote into tracee memory.
struct MemWrite {
  addr @0 :UInt64;
  data @1 :Data;
  # The task whose memory it is: another recorded process that the call
  # wrote into (process_vm_writev, a write to its /proc/P/mem; any thread of
  # that process). 0: the event's own task (every write in traces before it).
  tid @2 :Int32;
}

# A string argument (path, name) read at syscall entry, for dump and checks.
struct ArgString {
  arg @0 :UInt8;
  value @1 :Data;
}

# A file-backed mmap: where the bytes come from on replay.
struct FileMapping {
  contentHash @0 :Text;      # names files/HASH/BASENAME in the trace
  path @1 :Text;             # the path the recorder saw
  fileOffset @2 :UInt64;
  fileSize @3 :UInt64;       # size of the file when it was mapped
  # A shared object: a file, memfd, /dev/shm object or SysV segment that
  # some recorded process mapped MAP_SHARED (shared anonymous memory is
  # mapped for real on replay, and fork shares it). Numbered
  # from 1 in the order of their first shared mapping; 0: not one. Replay
  # backs each by one memfd of its own, so every process that maps it sees
  # every other's stores (and the memory writes and file writes of skipped
  # syscalls). contentHash is set at the object's first mapping only (empty:
  # zeros); later mappings of it reuse the replay's memfd.
  sharedObject @4 :UInt32;
  writable @5 :Bool;         # the fd allowed writing (a PROT_WRITE mprotect can succeed)
  # false (and in older traces): the copy is the whole file. true (private
  # maps only): the file held more data than `rrx record --max-file-data`,
  # and the copy holds only the file's bytes [rangeOffset, rangeOffset +
  # rangeLength) (the mapped range, page-aligned, cut at the end of the
  # file), from its position 0.
  rangeOnly @6 :Bool;
  rangeOffset @7 :UInt64;
  rangeLength @8 :UInt64;
}

# A syscall changed a shared object's bytes or size through a file
# descriptor (write, pwrite, ftruncate, fallocate, copy_file_range...):
# the file's bytes in [offset, offset + length) after the call (data, then
# zeros up to length) and its size after the call.
struct FileWrite {
  object @0 :UInt32;
  offset @1 :UInt64;
  length @2 :UInt64;
  data @3 :Data;
  size @4 :UInt64;
  # The bytes are the `length` the call sent (a buffered pwrite64's buffer,
  # argument 1), not in data: the event's data crc checks them on replay,
  # which takes them from the replayed call.
  sent @5 :Bool;
}

struct Syscall {
  nr @0 :Int64;
  args @1 :List(UInt64);     # the six argument registers at entry
  ret @2 :Int64;             # rax at exit: the result, or -errno
  isError @3 :Bool;
  ip @4 :UInt64;             # instruction pointer after the syscall instruction
  sp @5 :UInt64;
  memWrites @6 :List(MemWrite);
  strings @7 :List(ArgString);
  mapping @8 :FileMapping;   # set for a file-backed mmap
  flags @9 :UInt32;          # SyscallFlags in format.h
  # The bytes the call sent to its fd (write, writev, sendmsg...: the
  # syscall table's `sends` column), up to the result: their CRC-32C, which
  # replay compares with the replayed program's. hasDataCrc false (traces
  # from before it, failed calls): no checksum, nothing compared.
  dataCrc @10 :UInt32;
  hasDataCrc @11 :Bool;
  fileWrites @12 :List(FileWrite);
  # With flag kSyscallSeccomp: the program's own seccomp filters decided
  # the call (the kernel ran none of it); this is their result
  # (SECCOMP_RET_ERRNO|EPERM, SECCOMP_RET_TRAP|7, SECCOMP_RET_KILL_PROCESS...).
  # Replay emulates such a call whatever its table row says, and reproduces
  # a kill (see replay/seccomp_replay.cpp).
  seccompRet @13 :UInt32;
  # Where the thread went on after the call, when not at `ip`: it entered
  # the call at a syscall site that another thread's call patched meanwhile,
  # and came back to (or, for a restart, onto) the syscall inside the jump
  # now there; rrx moved it to the same place in the site's stub. 0: at ip.
  resumeIp @14 :UInt64;
}

# Entry of a syscall whose exit is a later event (a blocking syscall while
# other threads run). The matching `syscall` event carries the result.
struct SyscallEntry {
  nr @0 :Int64;
  args @1 :List(UInt64);
  ip @2 :UInt64;
  strings @3 :List(ArgString);
  exeHash @4 :Text;          # execve from a multi-threaded process: the file the recorder saw at the path
}

struct Signal {
  signo @0 :Int32;
  code @1 :Int32;
  errno @2 :Int32;
  siginfo @3 :Data;          # the raw 128-byte siginfo_t
  synchronous @4 :Bool;      # caused by the instruction at ip (fault, trap)
  ip @5 :UInt64;
  disposition @6 :Disposition;
  enum Disposition {
    delivered @0;            # passed to the program (handler or default action)
    suppressed @1;           # consumed by rrx (e.g. the rdtsc trap)
  }
}

struct Rdtsc {
  value @0 :UInt64;
  aux @1 :UInt32;            # TSC_AUX, for rdtscp
  isRdtscp @2 :Bool;
  ip @3 :UInt64;
  # The trap's SIGSEGV, suppressed by rrx, had unblocked SIGSEGV and reset
  # its action (the kernel's force_sig) where the program blocked or ignored
  # it: rrx put back this mask and this action (struct kernel_sigaction,
  # 32 bytes; empty: none), and replay does the same.
  restoreMask @4 :UInt64;
  hasRestoreMask @5 :Bool;
  restoreAction @6 :Data;
}

# A cpuid instruction the recorder trapped (CPUID faulting) and answered:
# the program saw these four registers (the host's answer with rdrand,
# rdseed, rtm and hle hidden). Replay traps the same instruction and injects them.
struct Cpuid {
  leaf @0 :UInt32;           # eax before the instruction
  subleaf @1 :UInt32;        # ecx before the instruction
  eax @2 :UInt32;
  ebx @3 :UInt32;
  ecx @4 :UInt32;
  edx @5 :UInt32;
  ip @6 :UInt64;
  # As for rdtsc: what rrx put back after the suppressed SIGSEGV of the trap.
  restoreMask @7 :UInt64;
  hasRestoreMask @8 :Bool;
  restoreAction @9 :Data;
}

# An instruction whose result the CPU makes up and rrx cannot record on a
# machine without CPUID faulting (rdrand, rdseed), found by decoding the
# executable sections of a file the process mapped.
struct RandomInsn {
  mnemonic @0 :Text;         # "rdrand" or "rdseed"
  object @1 :Text;           # the file, as the recorder saw its path
  objectAddr @2 :UInt64;     # its address in that ELF file (as objdump and addr2line show it)
  addr @3 :UInt64;           # its address in the process (the event's pid)
  inProgram @4 :Bool;        # in an executable exec'd, not in a shared library
}

struct Exec {
  exePath @0 :Text;          # what /proc/PID/exe named after the exec
  exeHash @1 :Text;
  interpPath @2 :Text;       # PT_INTERP, empty for a static program
  interpHash @3 :Text;
  argv @4 :List(Text);
  stack @5 :MemWrite;        # the initial stack from sp to its top, auxv edited
  atRandom @6 :Data;         # the 16 AT_RANDOM bytes
  auxv @7 :Data;             # the auxiliary vector as the program saw it
  formerTid @8 :Int32;       # a thread other than the main one exec'd: its tid before the kernel gave it the pid
  # The process's seccomp filters refuse arch_prctl(ARCH_SET_CPUID): rrx
  # leaves cpuid untrapped in it (a warning event says so), and replay too.
  cpuidUntrapped @9 :Bool;
}

struct Clone {
  childTid @0 :Int32;
  flags @1 :UInt64;
  kind @2 :Kind;
  enum Kind {
    thread @0;
    fork @1;
    vfork @2;
  }
  childOwnTid @3 :Int32;     # the child's tid in its own pid namespace (what CLONE_CHILD_SETTID
                             # writes, what gettid returns there) when not childTid; 0: childTid
}

struct Exit {
  status @0 :Int32;          # exit status, when exited normally
  signo @1 :Int32;           # killing signal, or 0
  coreDumped @2 :Bool;
  groupExit @3 :Bool;
}

struct Preemption {
  ip @0 :UInt64;             # replayed by running to ip until the registers match
}

# Job control: a task entered a group-stop (SIGSTOP, SIGTSTP, SIGTTIN,
# SIGTTOU took effect; the Signal event of the stop signal comes first in the
# thread that dequeued it, and every thread of the process stops), or it went
# on after one (SIGCONT, or SIGKILL). While stopped a task runs no code.
# Traces of rrx before this event never hold it; an older rrx reading a trace
# that does reports a divergence at it.
struct JobStop {
  signo @0 :Int32;           # the stop signal
  resumed @1 :Bool;          # false: it stopped; true: it went on
}
# The fast path patched the syscall instruction at `site` so that later calls
# from it enter the preload library (record/site_patch.h): written right after
# the syscall event of the call that stopped there, in its thread, which is
# still at that call's exit. Replay applies exactly the same: maps the stub
# arena when one is new, writes the bytes, moves the thread's ip.
struct SitePatch {
  site @0 :UInt64;           # the syscall instruction
  arenaAddr @1 :UInt64;      # a stub arena mapped now (r-x, private, anonymous); 0: none new
  arenaLen @2 :UInt64;
  writes @3 :List(MemWrite); # the stub, then the jump over the site (int3 fill)
  newIp @4 :UInt64;          # the thread goes on here (its place in the stub); 0: where it is
}

# The recorder's early set-up of the syscall buffer in a process whose
# loader has just mapped the preload library (core/syscallbuf_abi.h, "Early
# set-up"; record/preload_early.h), at the exit of that mmap: anonymous
# private memory mapped read-write at mapAddr (mapLen 0: none), its
# [codeAddr, + codeLen) then made r-x, the writes, and the thread's buffer (0:
# none). Also, with writes alone, the end of the early set-up where a thread
# starts before the library's constructor. Replay applies exactly the same
# at the same point (remote calls from injectAt, a code address of the
# library).
struct PreloadEarly {
  injectAt @0 :UInt64;
  mapAddr @1 :UInt64;
  mapLen @2 :UInt64;
  codeLen @3 :UInt64;
  writes @4 :List(MemWrite);
  buffer @5 :UInt64;
  codeAddr @6 :UInt64;
}

# The cpuid sites rrx patched so that they answer in the process, without a
# trap (record/cpuid_sites.h): at an exec's exit stop, the table of rrx's
# answers and the patches of the cpuid instructions of the interpreter and
# the program; after a trapped cpuid, that one site. Replay applies exactly
# the same at the same point: maps, writes the table, applies each patch as
# a SitePatch (site = the cpuid instruction).
# rdtsc/rdtscp instructions overwritten, in place, by `hlt` padded with
# nops (Header.tscRecording patchedSites): at an exec's exit stop, the
# program's and its interpreter's; after an mmap or mprotect that made file
# code executable, that mapping's. Each hlt faults like a trapped rdtsc, and
# gives an Rdtsc event. Replay writes the same bytes at the same event.
struct TscPatches {
  sites @0 :List(TscSite);
  # Byte pairs 0f 31 / 0f 01 f9 in the code mapped now that no decoding of a
  # known function confirmed as an instruction: left as they are (if one is
  # an rdtsc after all, its value is not recorded). `rrx info` lists them.
  unconfirmed @1 :List(UInt64);
}

struct TscSite {
  addr @0 :UInt64;           # the instruction's first byte (prefixes included)
  original @1 :Data;         # its bytes; the patch is f4 then 90s, as many
  isRdtscp @2 :Bool;
}

struct CpuidPatches {
  mapAddr @0 :UInt64;        # a mapping made now (r-x, private, anonymous) for the table and stubs; 0: none
  mapLen @1 :UInt64;
  tableAddr @2 :UInt64;      # where `table` is written (core/cpuid_table.h has its layout)
  table @3 :Data;
  patches @4 :List(SitePatch);
}

# Emulated ptrace (record/ptrace_emulation.h): a tracee stopped for its
# tracer inside the recorded tree at a point the replay cannot tell from the
# tracee's own events: the entry of its next syscall (before rrx handled it),
# the delivery of a signal, or the end of a single step. Replay runs the
# tracee there and holds it, so that what the tracer does meanwhile (memory
# writes, the TracerResume below) meets it at the same point. (Stops at a
# syscall's exit or an event stop need no event: the tracee stands where its
# last event left it.)
struct TracerStop {
  kind @0 :Kind;
  enum Kind {
    syscallEntry @0;
    signal @1;               # its signal-delivery stop for `signo`
    step @2;                 # the SIGTRAP that ends a PTRACE_SINGLESTEP (not over a syscall)
  }
  signo @1 :Int32;
  synchronous @2 :Bool;      # signal: caused by its own instruction (else rrx raises it, as for a Signal event)
  ip @3 :UInt64;             # where it stopped (checked on replay)
}

# The tracer let the tracee go (PTRACE_CONT, _SYSCALL, _DETACH...) after
# changing it: written where the tracer did something the replay must repeat
# on the tracee, which is held at the same stop on replay. Written for every
# signal-delivery stop (the signal delivered or suppressed), and for any stop
# where the tracer wrote registers or the signal mask.
struct TracerResume {
  signalStop @0 :Bool;       # from a signal-delivery stop (TracerStop signal)
  sig @1 :Int32;             # the signal delivered from it (0: suppressed); a Signal event follows when not 0
  changedRegs @2 :UInt32;    # bit i: user_regs_struct field i was written; the values are the event's regs
  xstate @3 :Data;           # the tracer wrote floating-point/vector registers: the whole XSAVE area after
  sigmask @4 :UInt64;        # PTRACE_SETSIGMASK: the mask after
  hasSigmask @5 :Bool;
}

struct Event {
  tid @0 :Int32;
  pid @1 :Int32;             # thread group id
  regs @2 :Registers;        # registers where needed (exec, preemption, signals)
  inexact @3 :Bool;          # position found by address + registers, not exactly
  union {
    syscall @4 :Syscall;
    syscallEntry @5 :SyscallEntry;
    signal @6 :Signal;
    rdtsc @7 :Rdtsc;
    exec @8 :Exec;
    clone @9 :Clone;
    exit @10 :Exit;
    preemption @11 :Preemption;
    warning @12 :Text;       # e.g. an unsupported syscall refused with ENOSYS
    jobStop @13 :JobStop;
    # (An older rrx reading a trace with the two below reports a divergence at them.)
    cpuid @14 :Cpuid;
    randomInsns @15 :List(RandomInsn);   # found in a mapping just made; replay skips these
    sitePatch @16 :SitePatch;            # the fast path patched a syscall site (record/site_patch.h)
    tracerStop @17 :TracerStop;          # a tracee stopped for its emulated tracer (record/ptrace_emulation.h)
    tracerResume @18 :TracerResume;      # ... and what its tracer changed before letting it go
    cpuidPatches @19 :CpuidPatches;      # cpuid sites answered in the process (record/cpuid_sites.h)
    tscPatches @20 :TscPatches;          # rdtsc sites made to fault (record/tsc_sites.h)
    preloadEarly @21 :PreloadEarly;      # the fast path's pages set up at the loader's mapping of its library
  }
}

struct End {
  eventCount @0 :UInt64;
  endTimeUnixNs @1 :Int64;
  exitStatus @2 :Int32;      # what `rrx record` exited with
  reason @3 :Text;           # "exited", "killed by SIGTERM to the recorder", ...
  # The shared objects' contents at the end of the recording, which replay
  # compares with its own: a difference means that something outside the
  # recorded tree wrote to one (the one thing rrx cannot replay).
  sharedObjects @4 :List(SharedObjectState);
}

struct SharedObjectState {
  object @0 :UInt32;
  size @1 :UInt64;
  contentHash @2 :Text;      # 16 hex digits, as FileStore names files; empty: not checked
  path @3 :Text;
  # No byte changed while recorded: no process of the tree wrote to it or
  # mapped it shared where it could write, and its size and times at the
  # end were those of its first mapping (no writer outside the tree). Its
  # bytes are then its stored copy's from start to end: replay maps that
  # copy (not checked at the end: contentHash empty). False in older traces.
  unchanged @4 :Bool;
}
