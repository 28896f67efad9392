// The recorder's policy for processes that outlive the main process (see
// tree_exit.h).
#include "record/tree_exit.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace rrx::record {

namespace {

// How long rrx waits silently for the rest of the tree: short-lived children
// that end soon after the main process are not worth a line.
constexpr std::chrono::seconds kNoticeAfter{1};

std::string command_name(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name.empty() ? "?" : name;
}

// "2 processes it left running: 12 (sleep), 14 (sh)"
std::string processes_left(const std::vector<pid_t>& running) {
  std::string list;
  for (pid_t pid : running) {
    if (!list.empty()) list += ", ";
    list += std::to_string(pid) + " (" + command_name(pid) + ")";
  }
  return std::to_string(running.size()) + (running.size() == 1 ? " process" : " processes") + " it left running: " +
         list;
}

std::string main_exited_line(pid_t main) {
  return "rrx: the main process (pid " + std::to_string(main) + ") has exited; ";
}

}  // namespace

void TreeExit::main_exited(Clock::time_point now) {
  if (!main_exit_) main_exit_ = now;
}

bool TreeExit::notice_due(Clock::time_point now) {
  if (!main_exit_ || noticed_ || now - *main_exit_ < kNoticeAfter) return false;
  noticed_ = true;
  return true;
}

bool TreeExit::end_due(Clock::time_point now) const {
  return main_exit_ && limit_ && now - *main_exit_ >= *limit_;
}

std::string TreeExit::notice(pid_t main, const std::vector<pid_t>& running) const {
  std::string pids;
  for (pid_t pid : running) pids += (pids.empty() ? "" : " ") + std::to_string(pid);
  std::string line = main_exited_line(main) + "rrx record waits for the " + processes_left(running) + ". ";
  if (limit_) {
    std::ostringstream s;
    s << std::chrono::duration<double>(*limit_).count();
    line += "It ends them with SIGKILL " + s.str() + " s after the main process exited (--wait-timeout)";
  } else {
    line += "To end the recording: kill " + pids + ", or kill -INT " + std::to_string(::getpid()) +
            " (rrx; the trace is kept); record with --wait=main to end it when the main process exits";
  }
  return line;
}

std::string TreeExit::ending(pid_t main, const std::vector<pid_t>& running) const {
  bool at_once = limit_ && *limit_ == Clock::duration::zero();
  return main_exited_line(main) + "ending with SIGKILL the " + processes_left(running) +
         (at_once ? " (--wait=main)" : " (--wait-timeout)");
}

}  // namespace rrx::record
