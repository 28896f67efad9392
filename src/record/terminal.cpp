// Hands the controlling terminal's foreground to the recorded program's
// process group and back (see terminal.h).
#include "record/terminal.h"

#include <fcntl.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

namespace rrx::record {

namespace {

// tcsetpgrp from a background group raises SIGTTOU unless it is blocked.
bool set_foreground(int tty, pid_t pgid) {
  sigset_t ttou, old;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  ::sigprocmask(SIG_BLOCK, &ttou, &old);
  bool ok = ::tcsetpgrp(tty, pgid) == 0;
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  return ok;
}

}  // namespace

TerminalForeground::~TerminalForeground() { take_back(); }

void TerminalForeground::hand_to(pid_t pgid) {
  if (tty_ >= 0) return;
  int tty = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (tty < 0) return;  // no controlling terminal
  if (::tcgetpgrp(tty) != ::getpgrp() || !set_foreground(tty, pgid)) {
    ::close(tty);
    return;
  }
  tty_ = tty;
}

void TerminalForeground::take_back() {
  if (tty_ < 0) return;
  // The program may have moved the foreground itself (a shell recorded
  // with job control): rrx takes it back all the same, as a shell does
  // when a job ends.
  set_foreground(tty_, ::getpgrp());
  ::close(tty_);
  tty_ = -1;
}

void TerminalForeground::suspend_with(pid_t pgid) {
  if (tty_ < 0) return;
  struct sigaction tstp {};
  ::sigaction(SIGTSTP, nullptr, &tstp);
  if (tstp.sa_handler == SIG_IGN) return;  // rrx cannot stop: the program waits for a SIGCONT
  set_foreground(tty_, ::getpgrp());
  ::raise(SIGTSTP);  // returns once rrx is continued
  set_foreground(tty_, pgid);
  ::killpg(pgid, SIGCONT);
}

}  // namespace rrx::record
