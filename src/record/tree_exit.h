// What `rrx record` does with the processes a recorded program leaves running
// when its main (first) process exits: daemons, double-forked children,
// orphans. By default it waits for the whole tree and, after a second, says
// once on stderr what it is waiting for; with a limit (--wait=main: none,
// --wait-timeout=S) it then ends the rest of the tree with SIGKILL. Used by
// the recorder's stop loop.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace rrx::record {

class TreeExit {
 public:
  using Clock = std::chrono::steady_clock;

  // `limit`: how long to wait for the rest of the tree once the main
  // process has exited; nullopt waits for ever.
  explicit TreeExit(std::optional<Clock::duration> limit) : limit_(limit) {}

  void main_exited(Clock::time_point now);
  bool main_has_exited() const { return main_exit_.has_value(); }
  // Whether the notice is due now; true at most once.
  bool notice_due(Clock::time_point now);
  // Whether the rest of the tree is to be ended now.
  bool end_due(Clock::time_point now) const;

  // The one-line notice: what is still running and how to end it.
  // `main` is the main process, `running` the processes still running.
  std::string notice(pid_t main, const std::vector<pid_t>& running) const;
  // The line said when rrx ends them.
  std::string ending(pid_t main, const std::vector<pid_t>& running) const;

 private:
  std::optional<Clock::duration> limit_;
  std::optional<Clock::time_point> main_exit_;
  bool noticed_ = false;
};

}  // namespace rrx::record
