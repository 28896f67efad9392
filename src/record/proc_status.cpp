// TracerPid in /proc/PID/status as the recorded program would see it
// without rrx (proc_status.h).
#include "record/proc_status.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "core/ptrace_task.h"
#include "core/remote_syscall.h"

namespace rrx::record {

namespace {

// Reads longer than this are not a status file's (about 1.5 KiB): left alone
// without a look.
constexpr int64_t kLongestStatus = 16384;

std::optional<pid_t> number_after(std::string_view data, std::string_view key) {
  size_t at = data.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  size_t i = at + key.size(), end = data.find('\n', i);
  if (end == std::string_view::npos || end == i) return std::nullopt;
  pid_t v = 0;
  for (; i < end; ++i) {
    if (data[i] < '0' || data[i] > '9') return std::nullopt;
    v = v * 10 + (data[i] - '0');
  }
  return v;
}

// "/proc/P/status" or "/proc/P/task/T/status" (what /proc/TID/fd/FD names): T, else P.
pid_t pid_in_path(const std::string& path) {
  const char* s = path.c_str();
  if (std::strncmp(s, "/proc/", 6) != 0) return 0;
  std::string rest = path.substr(6);
  size_t task = rest.find("/task/");
  if (task != std::string::npos) rest = rest.substr(task + 6);
  if (rest.size() < 8 || rest.compare(rest.size() - 7, 7, "/status") != 0) return 0;
  rest.resize(rest.size() - 7);
  if (rest.empty() || rest.find_first_not_of("0123456789") != std::string::npos) return 0;
  return static_cast<pid_t>(std::stol(rest));
}

}  // namespace

std::optional<std::string> tracer_pid_view(std::string_view data, pid_t rrx_pid,
                                           const std::function<pid_t(pid_t)>& tracer_of,
                                           const std::function<pid_t()>& pid_of_file) {
  const std::string line = "\nTracerPid:\t" + std::to_string(rrx_pid) + "\n";
  size_t at = data.find(line);
  if (at == std::string_view::npos) return std::nullopt;
  pid_t pid = number_after(data.substr(0, at + 1), "\nPid:\t").value_or(0);
  if (pid == 0) pid = pid_of_file();
  if (pid == 0) return std::nullopt;
  std::string out(data.substr(0, at));
  out += "\nTracerPid:\t" + std::to_string(tracer_of(pid)) + "\n";
  out += data.substr(at + line.size());
  return out;
}

std::optional<int64_t> show_emulated_tracer(Task& task, bool positional, int fd, uint64_t buf, uint64_t count,
                                            int64_t ret, const std::function<pid_t(pid_t)>& tracer_of) {
  if (ret <= 0 || ret > kLongestStatus) return std::nullopt;
  std::string data(static_cast<size_t>(ret), '\0');
  if (task.read_mem(buf, data.data(), data.size()) != data.size()) return std::nullopt;
  auto pid_of_file = [&]() -> pid_t {
    char target[256];
    std::string link = "/proc/" + std::to_string(task.tid()) + "/fd/" + std::to_string(fd);
    ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    return n > 0 ? pid_in_path(std::string(target, static_cast<size_t>(n))) : 0;
  };
  std::optional<std::string> view = tracer_pid_view(data, ::getpid(), tracer_of, pid_of_file);
  if (!view) return std::nullopt;
  size_t n = std::min<size_t>(view->size(), count);
  if (!task.write_mem(buf, view->data(), n)) return std::nullopt;
  if (n < view->size() && !positional) {
    // The line grew past the reader's buffer: the bytes left out (the
    // file's last ones here) are read again by its next read.
    const user_regs_struct r = task.regs();
    remote_syscall(task, r.rip - 2, SYS_lseek,
                   {static_cast<uint64_t>(fd), static_cast<uint64_t>(-static_cast<int64_t>(view->size() - n)),
                    SEEK_CUR});
  }
  return static_cast<int64_t>(n);
}

}  // namespace rrx::record
