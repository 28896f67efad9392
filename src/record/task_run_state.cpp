// Reads a task's scheduler state from /proc/TID/stat (see task_run_state.h).
#include "record/task_run_state.h"

#include <fstream>
#include <string>

namespace rrx::record {

KernelRunState kernel_run_state(pid_t tid) {
  std::ifstream stat("/proc/" + std::to_string(tid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return KernelRunState::Gone;
  // The command name is in parentheses and may hold any byte: the state
  // is the first field after the last ')'.
  size_t paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) return KernelRunState::Gone;
  switch (line[paren + 2]) {
    case 'R':
      return KernelRunState::Running;
    case 'S':
    case 'I':
      return KernelRunState::Sleeping;
    case 'D':
      return KernelRunState::DiskSleep;
    case 't':
    case 'T':
      return KernelRunState::Stopped;
    default:
      return KernelRunState::Gone;
  }
}

}  // namespace rrx::record
