// The recorder's model of a thread's signal state (record/signal_state.h):
// what the syscall buffer's records of rt_sigaction and rt_sigprocmask do to
// it when a flush applies them (core/syscallbuf_abi.h, "Signal state").
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "core/ptrace_task.h"
#include "core/syscall_table.h"
#include "record/signal_state.h"

using namespace rrx;
using rrx::record::ThreadSignals;

namespace {

std::vector<uint8_t> bytes_of(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  return std::vector<uint8_t>(b, b + n);
}

void sigaction_record(ThreadSignals& s, int sig, uint64_t act, uint64_t old, int64_t ret, std::vector<uint8_t> input,
                      std::vector<uint8_t> output) {
  const uint64_t args[6] = {static_cast<uint64_t>(sig), act, old, 8, 0, 0};
  s.after_buffered(*sys::lookup(SYS_rt_sigaction), args, ret, input, output);
}

void sigprocmask_record(ThreadSignals& s, int how, uint64_t set, uint64_t old, int64_t ret, std::vector<uint8_t> input,
                        std::vector<uint8_t> output) {
  const uint64_t args[6] = {static_cast<uint64_t>(how), set, old, 8, 0, 0};
  s.after_buffered(*sys::lookup(SYS_rt_sigprocmask), args, ret, input, output);
}

}  // namespace

TEST_CASE("signal state: buffered rt_sigaction records install their act, in order") {
  ThreadSignals s;
  KernelSigaction ign{kSigIgn, 0, 0, 0};
  KernelSigaction handler{0x401000, SA_RESTART | SA_RESETHAND, 0x402000, sig_bit(SIGUSR2) | sig_bit(SIGKILL)};
  sigaction_record(s, SIGSEGV, 0x1000, 0, 0, bytes_of(&ign, sizeof ign), {});
  CHECK(s.action(SIGSEGV).handler == kSigIgn);
  sigaction_record(s, SIGSEGV, 0x1000, 0x2000, 0, bytes_of(&handler, sizeof handler), bytes_of(&ign, sizeof ign));
  CHECK(s.action(SIGSEGV).handler == 0x401000);
  CHECK(s.action(SIGSEGV).flags == (SA_RESTART | SA_RESETHAND));
  CHECK(s.action(SIGSEGV).mask == sig_bit(SIGUSR2));  // SIGKILL cannot be blocked
  // A failure changed nothing (EINVAL), or says nothing by itself (EFAULT: a query follows).
  sigaction_record(s, SIGSEGV, 0x1000, 0, -EINVAL, {}, {});
  sigaction_record(s, SIGSEGV, 0x1000, 0x8, -EFAULT, {}, {});
  CHECK(s.action(SIGSEGV).handler == 0x401000);
  // A query's answer is the action in effect.
  sigaction_record(s, SIGSEGV, 0, 0x2000, 0, {}, bytes_of(&ign, sizeof ign));
  CHECK(s.action(SIGSEGV).handler == kSigIgn);
  // The undo of rdtsc's forced SIGSEGV reads it.
  CHECK(s.undo_trap_sigsegv().action.has_value());
  // Other signals untouched.
  CHECK(s.action(SIGUSR1).handler == kSigDfl);
}

TEST_CASE("signal state: buffered rt_sigprocmask records change the blocked mask as the kernel does") {
  ThreadSignals s;
  auto set = [](uint64_t m) { return bytes_of(&m, sizeof m); };
  sigprocmask_record(s, SIG_BLOCK, 0x1000, 0, 0, set(sig_bit(SIGSEGV) | sig_bit(SIGTERM) | sig_bit(SIGSTOP)), {});
  CHECK(s.blocked() == (sig_bit(SIGSEGV) | sig_bit(SIGTERM)));
  sigprocmask_record(s, SIG_UNBLOCK, 0x1000, 0x2000, 0, set(sig_bit(SIGTERM)), set(s.blocked()));
  CHECK(s.blocked() == sig_bit(SIGSEGV));
  sigprocmask_record(s, SIG_SETMASK, 0x1000, 0, 0, set(~uint64_t{0}), {});
  CHECK(s.blocked() == ~(sig_bit(SIGKILL) | sig_bit(SIGSTOP)));
  CHECK(s.undo_trap_sigsegv().mask.has_value());
  // A failure: nothing; a query (no set): its answer.
  sigprocmask_record(s, 7, 0x1000, 0, -EINVAL, {}, {});
  CHECK(s.blocked() == ~(sig_bit(SIGKILL) | sig_bit(SIGSTOP)));
  sigprocmask_record(s, SIG_BLOCK, 0, 0x2000, 0, {}, set(sig_bit(SIGINT)));
  CHECK(s.blocked() == sig_bit(SIGINT));
  CHECK_FALSE(s.undo_trap_sigsegv().mask.has_value());
}

TEST_CASE("signal state: ignores() says what signal_action reads from /proc, from the model") {
  // A live child with a handler, an ignored signal and defaults: the model
  // (its actions installed as the recorder sees them) against the kernel's view.
  pid_t child = ::fork();
  if (child == 0) {
    struct sigaction sa {};
    sa.sa_handler = [](int) {};
    ::sigaction(SIGCHLD, &sa, nullptr);  // caught: runs code
    ::signal(SIGUSR1, SIG_IGN);          // ignored
    ::signal(SIGWINCH, SIG_DFL);         // ignored by default
    ::raise(SIGSTOP);
    ::_exit(0);
  }
  REQUIRE(child > 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, WUNTRACED) == child);
  REQUIRE(WIFSTOPPED(status));
  ThreadSignals s;
  KernelSigaction handler{0x401000, 0, 0, 0}, ign{kSigIgn, 0, 0, 0};
  sigaction_record(s, SIGCHLD, 0x1000, 0, 0, bytes_of(&handler, sizeof handler), {});
  sigaction_record(s, SIGUSR1, 0x1000, 0, 0, bytes_of(&ign, sizeof ign), {});
  for (int sig : {SIGCHLD, SIGUSR1, SIGWINCH, SIGURG, SIGCONT, SIGTERM, SIGTSTP, SIGSEGV, SIGRTMIN + 1}) {
    INFO("signal " << sig);
    CHECK(s.ignores(sig) == (signal_action(child, sig) == SignalAction::Ignore));
    // A signal whose default does not terminate never terminates.
    if (default_signal_action(sig) != SignalAction::Terminate) CHECK(signal_action(child, sig) != SignalAction::Terminate);
    CHECK(signal_terminates(child, sig) == (signal_action(child, sig) == SignalAction::Terminate));
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, &status, 0);
}
