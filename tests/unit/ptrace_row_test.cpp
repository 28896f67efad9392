// The ptrace row of the syscall table: the memory each emulated request
// writes (record/ptrace_emulation.h answers the requests; the row names
// their outputs for the trace and replay).
#include <catch2/catch.hpp>

#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>

#include "core/syscall_table.h"
#include "syscall_test_util.h"

TEST_CASE("ptrace row: emulated by the recorder, the request's outputs recorded") {
  const SyscallDesc* d = lookup(SYS_ptrace);
  REQUIRE(d != nullptr);
  CHECK(d->special == Special::Ptrace);
  CHECK(d->replay == Replay::Emulate);
  CHECK(lookup(SYS_wait4)->special == Special::Wait);
  CHECK(lookup(SYS_waitid)->special == Special::Wait);

  // PEEKDATA: the raw call stores the word at `data`.
  CHECK(ranges(SYS_ptrace, {PTRACE_PEEKDATA, 42, 0x1000, 0x7000}, 0) == Ranges{{0x7000, 8}});
  CHECK(ranges(SYS_ptrace, {PTRACE_GETREGS, 42, 0, 0x7000}, 0) == Ranges{{0x7000, sizeof(user_regs_struct)}});
  CHECK(ranges(SYS_ptrace, {PTRACE_GETFPREGS, 42, 0, 0x7000}, 0) == Ranges{{0x7000, sizeof(user_fpregs_struct)}});
  CHECK(ranges(SYS_ptrace, {PTRACE_GETSIGINFO, 42, 0, 0x7000}, 0) == Ranges{{0x7000, 128}});
  // POKEDATA writes into the tracee: a range of process 42.
  Ranges poke = ranges(SYS_ptrace, {PTRACE_POKEDATA, 42, 0x1000, 0xdeadbeef}, 0);
  REQUIRE(poke.size() == 1);
  CHECK(poke[0] == Range{0x1000, 8, 42});
  // GET_SYSCALL_INFO: min(size, the size the kernel has).
  CHECK(ranges(SYS_ptrace, {0x420e, 42, 88, 0x7000}, 80) == Ranges{{0x7000, 80}});
  CHECK(ranges(SYS_ptrace, {0x420e, 42, 16, 0x7000}, 80) == Ranges{{0x7000, 16}});
  // GETREGSET: the iovec (its length updated) and the buffer it names.
  FakeMem mem;
  uint64_t iov[2] = {0x9000, 216};
  mem.put(0x7000, iov, sizeof iov);
  CHECK(ranges(SYS_ptrace, {PTRACE_GETREGSET, 42, 1, 0x7000}, 0, mem) == Ranges{{0x7000, 16}, {0x9000, 216}});
  // Requests that write nothing; and nothing on failure.
  CHECK(ranges(SYS_ptrace, {PTRACE_CONT, 42, 0, 0}, 0).empty());
  CHECK(ranges(SYS_ptrace, {PTRACE_PEEKDATA, 42, 0x1000, 0x7000}, -5).empty());
}
