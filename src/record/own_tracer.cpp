// Detects a tracer of rrx record that follows its forks (see own_tracer.h).
#include "record/own_tracer.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>

#include "core/error.h"
#include "core/proc_status_file.h"
#include "core/syscallbuf_abi.h"

namespace rrx::record {

namespace {

pid_t tracer_pid_of(const std::string& proc_status) {
  return static_cast<pid_t>(ProcStatusFile(proc_status).int_field("TracerPid").value_or(0));
}

// "PID N (NAME)" of process `pid`.
std::string describe(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return "PID " + std::to_string(pid) + " (" + (name.empty() ? "?" : name) + ")";
}

// The rrx record that records this process, if any: it answers its own
// call (ENOSYS without it). Its tracing does not show in /proc: a recorded
// process sees only the tracers of the recording (record/proc_status.h).
pid_t recording_rrx() {
  long r = ::syscall(RRX_CALL_RECORDING);
  return r > 0 ? static_cast<pid_t>(r) : 0;
}

}  // namespace

std::optional<std::string> own_tracer() {
  if (pid_t rrx = recording_rrx()) return describe(rrx);
  pid_t tracer = tracer_pid_of("/proc/self/status");
  if (tracer <= 0) return std::nullopt;
  return describe(tracer);
}

std::string under_tracer_message(const std::string& tracer) {
  return "cannot record under a tracer: rrx record is itself traced by " + tracer +
         ", which also traces the processes rrx starts, so that the program cannot be traced by rrx. "
         "Run rrx record outside of that tracer (a debugger that does not follow forks, such as gdb by "
         "default, is fine)";
}

void refuse_fork_following_tracer() {
  std::optional<std::string> tracer = own_tracer();
  if (!tracer) return;
  if (recording_rrx() != 0) throw Error(under_tracer_message(*tracer));  // (it traces every process it records)
  // A child that waits for the pipe to close: a tracer following forks has
  // attached it by the time fork() returns here.
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw_errno("pipe2");
  pid_t child = ::fork();
  if (child < 0) throw_errno("fork");
  if (child == 0) {
    char c;
    ::close(pipefd[1]);
    (void)!::read(pipefd[0], &c, 1);
    _exit(0);
  }
  ::close(pipefd[0]);
  pid_t child_tracer = tracer_pid_of("/proc/" + std::to_string(child) + "/status");
  ::close(pipefd[1]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (child_tracer > 0) throw Error(under_tracer_message(*tracer));
}

}  // namespace rrx::record
