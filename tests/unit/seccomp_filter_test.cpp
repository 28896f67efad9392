// Tests of rrx's seccomp evaluator (core/seccomp_filter): classic BPF as the
// kernel runs it, the combination of stacked filters, strict mode; and a
// check against the live kernel's own verdicts for the same filter.
#include <catch2/catch.hpp>

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

#include "core/seccomp_filter.h"

using namespace rrx::seccomp;

namespace {

Data call(int nr, uint64_t a0 = 0, uint64_t a1 = 0) {
  Data d;
  d.nr = nr;
  d.arch = AUDIT_ARCH_X86_64;
  d.ip = 0x401000;
  d.args[0] = a0;
  d.args[1] = a1;
  return d;
}

// getpid -> ERRNO(EPERM); mmap with length 0x7000 -> TRAP(9); args[0] high
// word set -> ERRNO(E2BIG) (through the scratch memory and X); else ALLOW.
Program sample() {
  return {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x7000, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 9),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]) + 4),
      BPF_STMT(BPF_ST, 3),
      BPF_STMT(BPF_LDX | BPF_MEM, 3),
      BPF_STMT(BPF_MISC | BPF_TXA, 0),
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xffffffff),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | E2BIG),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
}

}  // namespace

TEST_CASE("seccomp: one filter's verdicts") {
  auto s = State::with_filter(nullptr, sample());
  Verdict v = s->verdict(call(SYS_getpid));
  CHECK(v.outcome == Outcome::Errno);
  CHECK(v.result() == -EPERM);
  CHECK(s->verdict(call(SYS_mmap, 0, 0x7000)).outcome == Outcome::Trap);
  CHECK((s->verdict(call(SYS_mmap, 0, 0x7000)).ret & SECCOMP_RET_DATA) == 9);
  CHECK(s->verdict(call(SYS_mmap, 0, 0x8000)).runs());
  CHECK(s->verdict(call(SYS_read, 0x100000000ull)).result() == -E2BIG);
  CHECK(s->verdict(call(SYS_read, 5)).runs());
  Data i386 = call(SYS_getpid);
  i386.arch = AUDIT_ARCH_I386;
  CHECK(s->verdict(i386).outcome == Outcome::KillProcess);
  CHECK(describe(v.ret) == "ERRNO(1)");
}

TEST_CASE("seccomp: stacked filters, the most restrictive wins") {
  Program trace_getpid = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 1),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_gettid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 3),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_LOG),
  };
  auto s = State::with_filter(State::with_filter(nullptr, sample()), trace_getpid);
  CHECK(s->verdict(call(SYS_getpid)).result() == -EPERM);  // ERRNO beats TRACE
  CHECK(s->verdict(call(SYS_gettid)).result() == -3);
  CHECK(s->verdict(call(SYS_write)).runs());  // LOG and ALLOW run the call
  auto t = State::with_filter(nullptr, trace_getpid);
  CHECK(t->verdict(call(SYS_getpid)).outcome == Outcome::Enosys);  // no seccomp-aware tracer
  CHECK(t->verdict(call(SYS_getpid)).result() == -ENOSYS);
  Program big_errno = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 0xffff)};
  CHECK(State::with_filter(nullptr, big_errno)->verdict(call(SYS_read)).result() == -4095);
  Program kill_thread = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_THREAD)};
  auto k = State::with_filter(s, kill_thread);
  CHECK(k->verdict(call(SYS_getpid)).outcome == Outcome::KillThread);
  Program kill_process = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)};
  CHECK(State::with_filter(k, kill_process)->verdict(call(SYS_read)).outcome == Outcome::KillProcess);
}

TEST_CASE("seccomp: strict mode allows read, write, exit, rt_sigreturn") {
  auto s = State::strict();
  CHECK(s->verdict(call(SYS_read)).runs());
  CHECK(s->verdict(call(SYS_write)).runs());
  CHECK(s->verdict(call(SYS_exit)).runs());
  CHECK(s->verdict(call(SYS_rt_sigreturn)).runs());
  CHECK(s->verdict(call(SYS_exit_group)).outcome == Outcome::StrictKill);
  CHECK(s->verdict(call(SYS_getpid)).kills());
}

TEST_CASE("seccomp: install requests") {
  uint64_t a[6] = {PR_SET_SECCOMP, SECCOMP_MODE_FILTER, 0x1000};
  auto in = install_request(SYS_prctl, a);
  REQUIRE(in);
  CHECK(!in->strict);
  CHECK(in->prog_addr == 0x1000);
  uint64_t b[6] = {SECCOMP_SET_MODE_STRICT};
  CHECK(install_request(SYS_seccomp, b)->strict);
  uint64_t c[6] = {SECCOMP_GET_ACTION_AVAIL};
  CHECK(!install_request(SYS_seccomp, c));
  uint64_t d[6] = {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, 0x1000};
  CHECK(refused_by_rrx(d));
  uint64_t e[6] = {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, 0x1000};
  CHECK(!refused_by_rrx(e));
}

// The evaluator against the kernel: a child installs the sample filter and
// reports what getpid, read with a high first argument, and mmap of 0x8000
// bytes returned; rrx's verdicts must give the same results.
TEST_CASE("seccomp: verdicts match the kernel's") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    Program p = sample();
    struct sock_fprog prog = {static_cast<unsigned short>(p.size()), p.data()};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) _exit(2);
    long r[2];
    r[0] = syscall(SYS_getpid) == -1 ? -errno : 0;
    r[1] = syscall(SYS_read, 0x100000000ull | static_cast<unsigned>(fds[0]), nullptr, 0) == -1 ? -errno : 0;
    (void)!write(fds[1], r, sizeof r);
    _exit(0);
  }
  close(fds[1]);
  long r[2] = {};
  CHECK(read(fds[0], r, sizeof r) == sizeof r);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  auto s = State::with_filter(nullptr, sample());
  CHECK(r[0] == s->verdict(call(SYS_getpid)).result());
  CHECK(r[1] == s->verdict(call(SYS_read, 0x100000000ull)).result());
}
