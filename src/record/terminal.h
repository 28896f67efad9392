// The terminal's foreground during `rrx record`: the recorded program runs in
// a process group of its own, and when rrx runs in the foreground of a
// terminal that group gets the foreground (Ctrl-C reaches the program, as it
// would natively) until rrx takes it back; Ctrl-Z stops rrx with the
// program. Used by the recorder's spawn, stop loop and end.
#pragma once

#include <sys/types.h>

namespace rrx::record {

class TerminalForeground {
 public:
  TerminalForeground() = default;
  TerminalForeground(const TerminalForeground&) = delete;
  TerminalForeground& operator=(const TerminalForeground&) = delete;
  ~TerminalForeground();

  // Gives the terminal's foreground to process group `pgid` if rrx's own
  // group has it now; otherwise (no terminal, rrx in the background) nothing.
  void hand_to(pid_t pgid);
  // Gives the foreground back to rrx's group if hand_to gave it away.
  // Idempotent.
  void take_back();
  // The program's group stopped at the terminal (Ctrl-Z, SIGTTIN, SIGTTOU):
  // as a shell's job would, rrx takes the terminal back and stops itself
  // (SIGTSTP), so that the shell above it gets the terminal; once continued
  // (fg), it hands the terminal to `pgid` again and sends it SIGCONT.
  // Nothing when the foreground was not handed off.
  void suspend_with(pid_t pgid);

 private:
  int tty_ = -1;  // the controlling terminal, open while its foreground is handed off
};

}  // namespace rrx::record
