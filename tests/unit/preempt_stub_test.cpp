// The replay's preemption stub (replay/preempt_stub.h) on a live loop: a
// forked child runs an assembly loop whose site (`inc rax`, 3 bytes, then
// `cmp` and `jne` back) puts an instruction start inside the jmp's
// displacement; the stub must stop it exactly at the wanted pass with the
// program's registers, leave the code and the address space as they were,
// and let it finish normally. A second stub is placed where a branch lands
// inside the patch: it must trap there (JumpedIn), not run garbage.
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/ptrace_task.h"
#include "core/remote_syscall.h"
#include "replay/preempt_stub.h"

extern "C" char rrx_preempt_test_site[];
extern "C" char rrx_preempt_test_inside[];
extern "C" char rrx_preempt_test_jmp[];
extern "C" char rrx_preempt_entered_site[];
extern "C" char rrx_preempt_entered_inside[];
extern "C" char rrx_preempt_call_site[];

// The callee of the call loop: checks that it returns to the program (a
// return address in the stub would be a ud2: SIGILL), counts in rax.
asm(".text\n"
    "rrx_preempt_test_callee:\n"
    "lea rrx_preempt_call_ret(%rip), %rdx\n"
    "cmp %rdx, (%rsp)\n"
    "jne 1f\n"
    "inc %rax\n"
    "ret\n"
    "1: ud2\n");

using rrx::replay::PreemptStub;

namespace {

// rax counts passes from 0 to rcx; rdx, rsi, rdi, r8 hold markers the test
// expects unchanged. The loop site's second instruction is also reached by
// the jump from the prologue (a branch into the patched range).
[[noreturn]] __attribute__((noinline)) void child_loop(uint64_t passes, uint64_t enter_inside) {
  asm volatile(
      "mov %0, %%rcx\n"
      "xor %%eax, %%eax\n"
      "mov $0x1111, %%edx\n"
      "mov $0x2222, %%esi\n"
      "mov $0x3333, %%edi\n"
      "mov $0x4444, %%r8d\n"
      "test %1, %1\n"
      "jz 1f\n"
      "inc %%rax\n"
      ".globl rrx_preempt_test_jmp\n"
      "rrx_preempt_test_jmp:\n"
      "jmp rrx_preempt_test_inside\n"
      "1:\n"
      ".globl rrx_preempt_test_site\n"
      "rrx_preempt_test_site:\n"
      "inc %%rax\n"
      ".globl rrx_preempt_test_inside\n"
      "rrx_preempt_test_inside:\n"
      "cmp %%rcx, %%rax\n"
      "jne rrx_preempt_test_site\n"
      :
      : "r"(passes), "r"(enter_inside)
      : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "cc", "memory");
  _exit(0);
}

// A loop entered in its middle at every outer pass (gdb's name comparator
// has this shape): `inc rax` (3 bytes), then the entry `dec edx`, reached
// by the outer pass's jmp; three passes of the site per outer pass. rax
// counts the passes of the site, up to rcx; rsi, rdi, r8 hold markers.
[[noreturn]] __attribute__((noinline)) void child_entered_loop(uint64_t passes) {
  asm volatile(
      "mov %0, %%rcx\n"
      "xor %%eax, %%eax\n"
      "mov $0x2222, %%esi\n"
      "mov $0x3333, %%edi\n"
      "mov $0x4444, %%r8d\n"
      "1:\n"
      "mov $4, %%edx\n"
      "jmp rrx_preempt_entered_inside\n"
      ".globl rrx_preempt_entered_site\n"
      "rrx_preempt_entered_site:\n"
      "inc %%rax\n"
      ".globl rrx_preempt_entered_inside\n"
      "rrx_preempt_entered_inside:\n"
      "dec %%edx\n"
      "jnz rrx_preempt_entered_site\n"
      "cmp %%rcx, %%rax\n"
      "jb 1b\n"
      :
      : "r"(passes)
      : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "cc", "memory");
  _exit(0);
}

// A loop whose every pass is a direct call (the site: 5 bytes, the whole patch).
[[noreturn]] __attribute__((noinline)) void child_call_loop(uint64_t passes) {
  asm volatile(
      "mov %0, %%rcx\n"
      "xor %%eax, %%eax\n"
      "mov $0x3333, %%edi\n"
      "1:\n"
      ".globl rrx_preempt_call_site\n"
      "rrx_preempt_call_site:\n"
      "call rrx_preempt_test_callee\n"
      "rrx_preempt_call_ret:\n"
      "cmp %%rcx, %%rax\n"
      "jb 1b\n"
      :
      : "r"(passes)
      : "rax", "rcx", "rdx", "rdi", "cc", "memory");
  _exit(0);
}

std::string maps_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Child {
  pid_t pid;
  rrx::Task task;
  explicit Child(uint64_t passes, bool enter_inside, bool entered = false) : pid(fork()), task(pid) {
    if (pid == 0) {
      ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
      raise(SIGSTOP);
      if (entered && enter_inside) child_call_loop(passes);
      if (entered) child_entered_loop(passes);
      child_loop(passes, enter_inside ? 1 : 0);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSTOPPED(status));
    task.set_options(PTRACE_O_TRACESYSGOOD);  // remote_syscall tells syscall stops apart
  }
  ~Child() {
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  // Single-steps to the first arrival at `addr`.
  user_regs_struct step_to(uint64_t addr) {
    for (int i = 0; i < 1000000; ++i) {
      user_regs_struct r = task.regs();
      if (r.rip == addr) return r;
      task.resume_singlestep(0);
      rrx::WaitStatus w = task.wait();
      REQUIRE(w.kind == rrx::WaitStatus::Kind::SignalStop);
    }
    FAIL("never reached the site");
    return {};
  }
  // Lets it run to its next stop, which must be a SIGTRAP (the stub's trap).
  rrx::WaitStatus run_to_trap() {
    task.resume_cont(0);
    rrx::WaitStatus w = task.wait();
    REQUIRE(w.kind == rrx::WaitStatus::Kind::SignalStop);
    REQUIRE(w.sig == SIGTRAP);
    return w;
  }
  // Lets it run to its end, which must be exit 0.
  void run_to_exit() {
    task.resume_cont(0);
    rrx::WaitStatus w = task.wait();
    REQUIRE(w.kind == rrx::WaitStatus::Kind::Exited);
    CHECK(w.exit_code == 0);
  }
  PreemptStub::Inject inject(uint64_t scratch) {
    return [this, scratch](long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5) {
      return rrx::remote_syscall(task, scratch, nr, {a0, a1, a2, a3, a4, a5});
    };
  }
};

std::vector<uint8_t> bytes_at(rrx::Task& t, uint64_t addr, size_t n) {
  std::vector<uint8_t> b(n);
  REQUIRE(t.read_exact(addr, b.data(), n));
  return b;
}

}  // namespace

TEST_CASE("preempt stub: stops at the wanted pass of a hot loop and leaves no trace", "[preempt_stub]") {
  const uint64_t site = reinterpret_cast<uint64_t>(rrx_preempt_test_site);
  Child c(3000000, false);
  user_regs_struct first = c.step_to(site);
  REQUIRE(first.rax == 0);
  const std::string maps_before = maps_of(c.pid);
  const std::vector<uint8_t> code_before = bytes_at(c.task, site, 16);

  // The registers at pass k = 1,234,567: rax = k, the flags of `cmp` (k - passes).
  const uint64_t k = 1234567, passes = 3000000, diff = k - passes;
  user_regs_struct want = first;
  want.rax = k;
  want.eflags &= ~uint64_t{0x8d5};
  want.eflags |= 0x1 | 0x80;  // CF, SF (k < passes); ZF and OF clear
  if (__builtin_parity(static_cast<unsigned>(diff & 0xff)) == 0) want.eflags |= 0x4;
  if ((k ^ passes ^ diff) & 0x10) want.eflags |= 0x10;
  auto made = PreemptStub::install(c.task, c.pid, site, want, c.task.regs(), c.inject(site));
  if (auto* why = std::get_if<std::string>(&made)) FAIL("refused: " << *why);
  auto& stub = std::get<std::unique_ptr<PreemptStub>>(made);
  CHECK(bytes_at(c.task, site, 16) == code_before);  // not patched until armed
  stub->arm();
  CHECK(bytes_at(c.task, site, 1)[0] == 0xe9);
  // The start of `cmp` (3 bytes in) lies in the displacement: an int3 there.
  CHECK(bytes_at(c.task, site + 3, 1)[0] == 0xcc);

  c.run_to_trap();
  user_regs_struct r = c.task.regs();
  REQUIRE(stub->classify(r) == PreemptStub::Hit::Matched);
  user_regs_struct p = stub->program_regs(r);
  CHECK(p.rip == site);
  CHECK(p.rax == 1234567);
  CHECK(p.rsp == first.rsp);
  CHECK(p.rcx == first.rcx);
  CHECK(p.rdx == 0x1111);
  CHECK(p.rsi == 0x2222);
  CHECK(p.rdi == 0x3333);
  CHECK(p.r8 == 0x4444);
  CHECK((p.eflags & ~0x10100ull) == (want.eflags & ~0x10100ull));
  c.task.set_regs(p);
  stub->remove(true);
  CHECK(bytes_at(c.task, site, 16) == code_before);
  CHECK(maps_of(c.pid) == maps_before);

  // The program goes on to its end.
  c.run_to_exit();
}

TEST_CASE("preempt stub: a branch into the patched bytes traps", "[preempt_stub]") {
  const uint64_t site = reinterpret_cast<uint64_t>(rrx_preempt_test_site);
  const uint64_t inside = reinterpret_cast<uint64_t>(rrx_preempt_test_inside);
  Child c(1000, true);
  // Stopped before the prologue's jump into the loop's second instruction.
  user_regs_struct at_jmp = c.step_to(reinterpret_cast<uint64_t>(rrx_preempt_test_jmp));
  user_regs_struct want = at_jmp;
  want.rip = site;
  want.rax = 500;
  auto made = PreemptStub::install(c.task, c.pid, site, want, c.task.regs(), c.inject(site));
  if (auto* why = std::get_if<std::string>(&made)) FAIL("refused: " << *why);
  auto& stub = std::get<std::unique_ptr<PreemptStub>>(made);
  stub->arm();
  c.run_to_trap();
  user_regs_struct r = c.task.regs();
  REQUIRE(stub->classify(r) == PreemptStub::Hit::JumpedIn);
  user_regs_struct p = stub->program_regs(r);
  CHECK(p.rip == inside);
  CHECK(p.rax == 1);
  c.task.set_regs(p);
  stub->remove(true);
  c.run_to_exit();
}

TEST_CASE("preempt stub: counts the passes, and traps at a given pass", "[preempt_stub]") {
  // What reverse-step uses (Timeline::to_pass_before): count the passes up
  // to a position, then, from the same start again, trap at one pass before.
  const uint64_t site = reinterpret_cast<uint64_t>(rrx_preempt_test_site);
  const uint64_t passes = 3000000, k = 1234567;
  for (bool by_registers : {true, false}) {
    Child c(passes, false);
    user_regs_struct first = c.step_to(site);
    const std::vector<uint8_t> code_before = bytes_at(c.task, site, 16);
    const std::string maps_before = maps_of(c.pid);
    PreemptStub::Condition cond;
    user_regs_struct want = first;
    if (by_registers) {
      // Pass k, found by its registers (rax = k - 1 there), counting on the way.
      want.rax = k - 1;
      const uint64_t diff = (k - 1) - passes;
      want.eflags &= ~uint64_t{0x8d5};
      want.eflags |= 0x1 | 0x80;
      if (__builtin_parity(static_cast<unsigned>(diff & 0xff)) == 0) want.eflags |= 0x4;
      if (((k - 1) ^ passes ^ diff) & 0x10) want.eflags |= 0x10;
      cond.count = true;
    } else {
      cond.compare = false;
      cond.count = true;
      cond.trap_at_pass = k;
    }
    auto made = PreemptStub::install(c.task, c.pid, site, want, c.task.regs(), c.inject(site), cond);
    if (auto* why = std::get_if<std::string>(&made)) FAIL("refused: " << *why);
    auto& stub = std::get<std::unique_ptr<PreemptStub>>(made);
    stub->arm();
    c.run_to_trap();
    user_regs_struct r = c.task.regs();
    REQUIRE(stub->classify(r) == PreemptStub::Hit::Matched);
    user_regs_struct p = stub->program_regs(r);
    CHECK(p.rip == site);
    CHECK(p.rax == k - 1);  // the k-th arrival at the site
    CHECK(p.rsp == first.rsp);
    CHECK(p.rcx == first.rcx);
    CHECK(p.rdx == 0x1111);
    if (by_registers) CHECK((p.eflags & ~0x10100ull) == (want.eflags & ~0x10100ull));
    CHECK(stub->passes() == k);
    c.task.set_regs(p);
    stub->remove(true);
    CHECK(bytes_at(c.task, site, 16) == code_before);
    CHECK(maps_of(c.pid) == maps_before);
    c.run_to_exit();
  }
}

TEST_CASE("preempt stub: a routed branch into the patched bytes runs at native speed", "[preempt_stub]") {
  const uint64_t site = reinterpret_cast<uint64_t>(rrx_preempt_entered_site);
  const uint64_t inside = reinterpret_cast<uint64_t>(rrx_preempt_entered_inside);
  REQUIRE(inside == site + 3);
  const uint64_t passes = 3000000;
  Child c(passes, false, true);
  user_regs_struct first = c.step_to(site);  // rax 0, edx 3 (one dec), CF from the xor: clear
  REQUIRE(first.rax == 0);
  REQUIRE(first.rdx == 3);
  const std::string maps_before = maps_of(c.pid);
  const std::vector<uint8_t> code_before = bytes_at(c.task, site, 16);

  // The arrival at the site with rax = k: edx = 3 - k % 3, the flags of
  // `dec edx` (nonzero, positive, no overflow or borrow of bit 3; CF from
  // the last `cmp` with rcx: set), about k / 3 branches into the patch before it.
  const uint64_t k = 1234567;
  const uint32_t edx = static_cast<uint32_t>(3 - k % 3);
  user_regs_struct want = first;
  want.rax = k;
  want.rdx = edx;
  want.eflags &= ~uint64_t{0x8d5};
  want.eflags |= 0x1;
  if (__builtin_parity(edx & 0xff) == 0) want.eflags |= 0x4;
  auto made = PreemptStub::install(c.task, c.pid, site, want, c.task.regs(), c.inject(site), PreemptStub::Condition{},
                                   {inside});
  if (auto* why = std::get_if<std::string>(&made)) FAIL("refused: " << *why);
  auto& stub = std::get<std::unique_ptr<PreemptStub>>(made);
  stub->arm();
  CHECK(bytes_at(c.task, site, 1)[0] == 0xe9);
  CHECK(bytes_at(c.task, inside, 1)[0] == 0xe9);  // the entry's own jmp, punned on the displacement
  CHECK(stub->patched_end() >= inside + 5);

  // The first stop is the match: no branch to the entry trapped.
  c.run_to_trap();
  user_regs_struct r = c.task.regs();
  REQUIRE(stub->classify(r) == PreemptStub::Hit::Matched);
  user_regs_struct p = stub->program_regs(r);
  CHECK(p.rip == site);
  CHECK(p.rax == k);
  CHECK(p.rdx == edx);
  CHECK(p.rsp == first.rsp);
  CHECK(p.rsi == 0x2222);
  CHECK(p.rdi == 0x3333);
  CHECK(p.r8 == 0x4444);
  c.task.set_regs(p);
  stub->remove(true);
  CHECK(bytes_at(c.task, site, 16) == code_before);
  CHECK(maps_of(c.pid) == maps_before);

  c.run_to_exit();
}

TEST_CASE("preempt stub: a displaced call returns to the program", "[preempt_stub]") {
  const uint64_t site = reinterpret_cast<uint64_t>(rrx_preempt_call_site);
  Child c(3000000, true, true);
  c.step_to(site);
  c.task.resume_singlestep(0);  // into the callee and back: the second arrival has cmp's flags
  c.task.wait();
  for (int i = 0; i < 64 && c.task.regs().rip != site; ++i) {
    c.task.resume_singlestep(0);
    c.task.wait();
  }
  user_regs_struct second = c.task.regs();
  REQUIRE(second.rip == site);
  REQUIRE(second.rax == 1);
  const std::string maps_before = maps_of(c.pid);
  const uint64_t k = 2345678;
  user_regs_struct want = second;
  want.rax = k;
  // The flags of `cmp` (k - passes): CF, SF; PF and AF from the difference.
  const uint64_t passes = 3000000, diff = k - passes;
  want.eflags &= ~uint64_t{0x8d5};
  want.eflags |= 0x1 | 0x80;
  if (__builtin_parity(static_cast<unsigned>(diff & 0xff)) == 0) want.eflags |= 0x4;
  if ((k ^ passes ^ diff) & 0x10) want.eflags |= 0x10;
  auto made = PreemptStub::install(c.task, c.pid, site, want, c.task.regs(), c.inject(site));
  if (auto* why = std::get_if<std::string>(&made)) FAIL("refused: " << *why);
  auto& stub = std::get<std::unique_ptr<PreemptStub>>(made);
  stub->arm();
  c.run_to_trap();  // not the callee's SIGILL
  user_regs_struct r = c.task.regs();
  REQUIRE(stub->classify(r) == PreemptStub::Hit::Matched);
  user_regs_struct p = stub->program_regs(r);
  CHECK(p.rip == site);
  CHECK(p.rax == k);
  CHECK(p.rsp == second.rsp);
  c.task.set_regs(p);
  stub->remove(true);
  CHECK(maps_of(c.pid) == maps_before);
  c.run_to_exit();
}
