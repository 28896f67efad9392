// The recorder's return slot (record/return_slot.h) on a live child: the
// kernel rule it stands on (a call whose rip was moved at its entry stop
// returns there by iret, rcx still the program's return address and r11
// its flags, rax the result), the stub's store and jump, a signal pending
// at the call's return stopping the thread inside the stub with the result
// in rax, the loss of the slot to a call that reaches its page, and which
// rows may complete at their seccomp stop.
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdint>

#include "core/ptrace_task.h"
#include "core/syscall_table.h"
#include "core/vdso.h"
#include "record/return_slot.h"

using rrx::record::ReturnSlots;

namespace {

// getppid by hand; exits 0 when the program saw what a plain syscall
// leaves: rax the parent's pid, rcx the return address, r11 the flags.
[[noreturn]] __attribute__((noinline)) void child_call() {
  uint64_t rax = SYS_getppid, rcx = 0, r11 = 0, ret_addr = 0, flags = 0;
  asm volatile(
      "pushfq\n"
      "pop %[flags]\n"
      "syscall\n"
      "1:\n"
      "mov %%rcx, %[rcx]\n"
      "mov %%r11, %[r11]\n"
      "lea 1b(%%rip), %[ret]\n"
      : "+a"(rax), [rcx] "=&r"(rcx), [r11] "=&r"(r11), [ret] "=&r"(ret_addr), [flags] "=&r"(flags)
      :
      : "rcx", "r11", "memory");
  bool ok = static_cast<pid_t>(rax) == getppid() && rcx == ret_addr && (r11 & 0xcd5) == (flags & 0xcd5);
  raise(SIGSTOP);
  _exit(ok ? 0 : 1);
}

void scratch_function() { asm volatile("nop; nop; nop; nop"); }

struct Child {
  pid_t pid;
  rrx::Task task;
  Child() : pid(fork()), task(pid) {
    if (pid == 0) {
      ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
      raise(SIGSTOP);
      child_call();
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSTOPPED(status));
    task.set_options(PTRACE_O_TRACESYSGOOD);
  }
  ~Child() {
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  // Runs to the entry stop of getppid.
  void to_getppid_entry() {
    for (int i = 0; i < 100; ++i) {
      task.resume_syscall(0);
      rrx::WaitStatus w = task.wait();
      REQUIRE(w.kind == rrx::WaitStatus::Kind::SyscallStop);
      rrx::KernelSyscallInfo info = task.syscall_info();
      if (info.op == rrx::KernelSyscallInfo::kEntry && info.entry.nr == SYS_getppid) return;
    }
    FAIL("no getppid");
  }
};

ReturnSlots::Place set_up(Child& c, ReturnSlots& slots) {
  const uint64_t vdso = rrx::kernel_vdso(c.pid);
  REQUIRE(vdso != 0);
  slots.on_exec(c.task, c.pid, vdso, reinterpret_cast<uint64_t>(&scratch_function), nullptr);
  std::optional<ReturnSlots::Place> place = slots.usable(c.task, c.pid);
  REQUIRE(place.has_value());
  return *place;
}

// At getppid's entry stop, the thread's rip pointed at the stub, as the
// recorder does at a seccomp stop; returns the program's return address.
uint64_t enter_through_stub(Child& c, const ReturnSlots::Place& place) {
  c.to_getppid_entry();
  user_regs_struct r = c.task.regs();
  const uint64_t ret_ip = r.rip;
  r.rip = place.stub;
  c.task.set_regs(r);
  return ret_ip;
}

// Lets the child finish: it exits 0 when the program saw rax, rcx and r11
// as after any syscall.
void finish_child(Child& c) {
  c.task.resume_cont(0);
  int status = 0;
  REQUIRE(waitpid(c.pid, &status, 0) == c.pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

}  // namespace

TEST_CASE("return slot: the call returns through the stub, which stores rax and jumps back") {
  Child c;
  ReturnSlots slots;
  ReturnSlots::Place place = set_up(c, slots);
  enter_through_stub(c, place);
  c.task.resume_cont(0);  // no exit stop: the next stop is the program's SIGSTOP
  rrx::WaitStatus w = c.task.wait();
  REQUIRE(w.kind == rrx::WaitStatus::Kind::SignalStop);
  REQUIRE(w.sig == SIGSTOP);
  CHECK_FALSE(place.in_stub(c.task.regs().rip));
  int64_t slot = 0;
  REQUIRE(c.task.read_exact(place.slot, &slot, sizeof slot));
  CHECK(slot == getpid());
  finish_child(c);
}

TEST_CASE("return slot: a signal pending at the call's return stops the thread in the stub, result in rax") {
  Child c;
  ReturnSlots slots;
  ReturnSlots::Place place = set_up(c, slots);
  const uint64_t ret_ip = enter_through_stub(c, place);
  REQUIRE(kill(c.pid, SIGUSR1) == 0);  // pending while the call runs
  c.task.resume_cont(0);
  rrx::WaitStatus w = c.task.wait();
  REQUIRE(w.kind == rrx::WaitStatus::Kind::SignalStop);
  REQUIRE(w.sig == SIGUSR1);
  user_regs_struct r = c.task.regs();
  CHECK(r.rip == place.stub);
  CHECK(place.in_stub(r.rip));
  CHECK(static_cast<pid_t>(r.rax) == getpid());
  CHECK(r.rcx == ret_ip);
  // The recorder does the stub's work there; the signal is not delivered.
  r.rip = r.rcx;
  c.task.set_regs(r);
  c.task.resume_cont(0);
  w = c.task.wait();
  REQUIRE(w.kind == rrx::WaitStatus::Kind::SignalStop);
  REQUIRE(w.sig == SIGSTOP);
  finish_child(c);
}

TEST_CASE("return slot: a call that reaches the page or the stub loses them, others do not") {
  Child c;
  ReturnSlots slots;
  ReturnSlots::Place place = set_up(c, slots);
  const uint64_t page = place.slot - 8;
  uint64_t far[6] = {0x10000, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, static_cast<uint64_t>(-1), 0};
  slots.on_mapping_call(c.pid, SYS_mmap, far);
  uint64_t hint[6] = {page, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, static_cast<uint64_t>(-1), 0};
  slots.on_mapping_call(c.pid, SYS_mmap, hint);  // no MAP_FIXED: the kernel places it elsewhere
  uint64_t brk[6] = {page + 4096, 0, 0, 0, 0, 0};
  slots.on_mapping_call(c.pid, SYS_brk, brk);
  CHECK(slots.usable(c.task, c.pid).has_value());
  SECTION("munmap of a range holding the page") {
    uint64_t args[6] = {page - 8192, 3 * 4096, 0, 0, 0, 0};
    slots.on_mapping_call(c.pid, SYS_munmap, args);
    CHECK_FALSE(slots.usable(c.task, c.pid).has_value());
  }
  SECTION("mprotect of the page") {
    uint64_t args[6] = {page, 4096, PROT_READ, 0, 0, 0};
    slots.on_mapping_call(c.pid, SYS_mprotect, args);
    CHECK_FALSE(slots.usable(c.task, c.pid).has_value());
  }
  SECTION("MAP_FIXED over the vDSO") {
    uint64_t args[6] = {place.stub & ~uint64_t{4095}, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                        static_cast<uint64_t>(-1), 0};
    slots.on_mapping_call(c.pid, SYS_mmap, args);
    CHECK_FALSE(slots.usable(c.task, c.pid).has_value());
  }
  SECTION("mremap to the page") {
    uint64_t args[6] = {0x10000, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, page, 0};
    slots.on_mapping_call(c.pid, SYS_mremap, args);
    CHECK_FALSE(slots.usable(c.task, c.pid).has_value());
  }
  SECTION("a vfork child's calls reach its parent's page; after its exec, its own") {
    slots.on_fork(c.pid, 424243, true);
    CHECK(slots.usable(c.task, 424243).has_value());
    uint64_t args[6] = {page, 4096, 0, 0, 0, 0};
    slots.forget(424243);  // its exec
    slots.on_mapping_call(424243, SYS_munmap, args);
    CHECK(slots.usable(c.task, c.pid).has_value());
    slots.on_fork(c.pid, 424243, true);
    slots.on_mapping_call(424243, SYS_munmap, args);
    CHECK_FALSE(slots.usable(c.task, c.pid).has_value());
    CHECK_FALSE(slots.usable(c.task, 424243).has_value());
  }
  SECTION("a fork's copy is checked before its first use") {
    slots.on_fork(c.pid, 424242, false);
    REQUIRE(c.task.write_mem(page, "\0\0\0\0\0\0\0\0", 8));  // (as if its page were another's)
    // (Checked against the child's memory: a task of the copy's process.)
    CHECK_FALSE(slots.usable(c.task, 424242).has_value());
  }
}

TEST_CASE("return slot: which rows complete at their seccomp stop") {
  auto may = [](const char* name, std::initializer_list<uint64_t> list) {
    const rrx::sys::SyscallDesc* d = rrx::sys::lookup(rrx::sys::syscall_number(name));
    REQUIRE(d != nullptr);
    uint64_t args[6] = {};
    size_t i = 0;
    for (uint64_t a : list) args[i++] = a;
    return rrx::record::completes_at_seccomp_stop(*d, args, false);
  };
  // Only a result to take.
  CHECK(may("mmap", {0, 4096, PROT_READ, MAP_PRIVATE, 3, 0}));
  CHECK(may("mmap", {0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, static_cast<uint64_t>(-1), 0}));
  CHECK(may("mprotect", {0x1000, 4096, PROT_READ}));
  CHECK(may("munmap", {0x1000, 4096}));
  CHECK(may("close", {3}));
  CHECK(may("access", {0x1000, R_OK}));
  // A shared map (a shared object), code (rdtsc and cpuid sites are found at the exit).
  CHECK_FALSE(may("mmap", {0, 4096, PROT_READ, MAP_SHARED, 3, 0}));
  CHECK_FALSE(may("mmap", {0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, 3, 0}));
  CHECK_FALSE(may("mprotect", {0x1000, 4096, PROT_READ | PROT_EXEC}));
  CHECK(may("mremap", {0x1000, 4096, 8192, MREMAP_MAYMOVE, 0}));  // (its moves: on_mapping_call)
  // Code where no rdtsc site has to be patched before it runs.
  const rrx::sys::SyscallDesc* mmap = rrx::sys::lookup(SYS_mmap);
  uint64_t code[6] = {0x7f0000000000, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, 3, 0};
  CHECK(rrx::record::completes_at_seccomp_stop(*mmap, code, true));
  CHECK_FALSE(rrx::record::completes_at_seccomp_stop(*mmap, code, false));
  // Memory the kernel writes, bytes sent, a wait, signal state, a new task or image.
  CHECK_FALSE(may("read", {3, 0x1000, 10}));
  CHECK_FALSE(may("newfstatat", {3, 0x1000, 0x2000, 0}));
  CHECK_FALSE(may("write", {1, 0x1000, 10}));
  CHECK_FALSE(may("futex", {0x1000, 0, 1, 0}));
  CHECK_FALSE(may("wait4", {static_cast<uint64_t>(-1), 0, 0, 0}));
  CHECK_FALSE(may("rt_sigprocmask", {0, 0x1000, 0, 8}));
  CHECK_FALSE(may("rt_sigaction", {SIGUSR1, 0x1000, 0, 8}));
  CHECK_FALSE(may("clone", {SIGCHLD, 0, 0, 0, 0}));
  CHECK_FALSE(may("execve", {0x1000, 0x2000, 0x3000}));
  CHECK_FALSE(may("exit_group", {0}));
}
