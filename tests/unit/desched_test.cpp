// Desched (record/desched.h): the start-up probe that chooses between the
// context-switch event and the checked fallback, and the rule that remakes a
// call the thread was switched out in.
#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>

#include "core/syscallbuf_abi.h"
#include "record/desched.h"

using namespace rrx;

namespace {

int paranoid() {
  std::ifstream in("/proc/sys/kernel/perf_event_paranoid");
  int v = 2;
  in >> v;
  return v;
}

// The probe's answer in a child process that runs as user `uid` (root only).
record::DeschedProbe probe_as(uid_t uid) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    if (::setresgid(uid, uid, uid) != 0 || ::setresuid(uid, uid, uid) != 0) ::_exit(2);
    auto got = static_cast<char>(record::probe_desched_event());
    ::_exit(::write(fds[1], &got, 1) == 1 ? 0 : 3);
  }
  ::close(fds[1]);
  char got = -1;
  ssize_t n = ::read(fds[0], &got, 1);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(n == 1);
  return static_cast<record::DeschedProbe>(got);
}

}  // namespace

TEST_CASE("desched: the probe's answer follows the privilege, the mode is opt-in (RRX_DESCHED=1)") {
  ::unsetenv("RRX_DESCHED");
  auto p = record::probe_desched_event();
  if (::geteuid() == 0) {
    // Root may open the event whatever perf_event_paranoid says (checked on this machine).
    CHECK(p == record::DeschedProbe::Counts);
    if (paranoid() >= 2) {
      // An unprivileged user is refused, or gets an event that never counts: the checked fallback.
      auto as_nobody = probe_as(65534);
      CHECK(as_nobody != record::DeschedProbe::Counts);
      CHECK(as_nobody != record::DeschedProbe::TurnedOff);
    }
  } else if (paranoid() >= 2) {
    CHECK(p != record::DeschedProbe::Counts);
  }
  // Not asked for (unset, 0): the checked mode, even where the event counts.
  CHECK(record::probe_desched() == record::DeschedProbe::TurnedOff);
  ::setenv("RRX_DESCHED", "0", 1);
  CHECK(record::probe_desched() == record::DeschedProbe::TurnedOff);
  ::setenv("RRX_DESCHED", "1", 1);
  if (p == record::DeschedProbe::Counts) {
    CHECK(record::probe_desched() == record::DeschedProbe::Counts);
  } else {
    CHECK_THROWS(record::probe_desched());
  }
  ::unsetenv("RRX_DESCHED");
}

TEST_CASE("desched: a call interrupted at the untraced instruction blocked, one that returned or is still to be made did not") {
  user_regs_struct r{};
  r.orig_rax = 219;  // (restart_syscall: the kernel had restarted it once already)
  for (int64_t code : {-512, -513, -514, -516, -EINTR}) {
    r.rax = static_cast<uint64_t>(code);
    r.rip = RRX_UNTRACED_IP;
    CHECK(record::interrupted_at_untraced(r));
  }
  r.rip = RRX_UNTRACED_IP;
  r.rax = 5;
  CHECK_FALSE(record::interrupted_at_untraced(r));
  r.rax = static_cast<uint64_t>(-EAGAIN);
  CHECK_FALSE(record::interrupted_at_untraced(r));
  r.rip = RRX_RECORDING_ONLY_IP;  // at the arm's return: the call is still to be made
  r.rax = static_cast<uint64_t>(-512);
  CHECK_FALSE(record::interrupted_at_untraced(r));
  // No syscall returns what a given-back call returns.
  CHECK(RRX_DESCHED_GIVEN_BACK < -4095);
}
