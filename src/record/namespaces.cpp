// Namespaces inside a recording: translating pids between rrx's view and a
// recorded task's pid namespace, and opening files as a task's root and mount
// namespace name them (see namespaces.h).
#include "record/namespaces.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "core/proc_status_file.h"
#include "core/unique_fd.h"

namespace rrx::record {

namespace {

std::string proc_of(pid_t tid) { return "/proc/" + std::to_string(tid); }

// The inode of the pid namespace `levels_up` levels above task `tid`'s own
// (0: its own), or 0 when it cannot be told.
ino_t pid_ns_above(pid_t tid, size_t levels_up) {
  int fd = ::open((proc_of(tid) + "/ns/pid").c_str(), O_RDONLY | O_CLOEXEC);
  for (size_t i = 0; fd >= 0 && i < levels_up; ++i) {
    int up = ::ioctl(fd, NS_GET_PARENT);
    ::close(fd);
    fd = up;
  }
  if (fd < 0) return 0;
  struct stat st {};
  bool ok = ::fstat(fd, &st) == 0;
  ::close(fd);
  return ok ? st.st_ino : 0;
}

}  // namespace

std::vector<pid_t> ns_pids(pid_t tid) {
  std::vector<pid_t> out;
  for (int64_t v : ProcStatusFile(proc_of(tid) + "/status").int_list("NSpid")) out.push_back(static_cast<pid_t>(v));
  return out;
}

pid_t own_view_tid(pid_t tid) {
  // In rrx's own pid namespace (nearly always: a stat instead of the status
  // file, at every new task) a task sees its tid as rrx does.
  static const std::optional<std::pair<dev_t, ino_t>> own = [] {
    struct stat st {};
    return ::stat("/proc/self/ns/pid", &st) == 0 ? std::optional(std::pair(st.st_dev, st.st_ino)) : std::nullopt;
  }();
  struct stat st {};
  if (own && ::stat((proc_of(tid) + "/ns/pid").c_str(), &st) == 0 && st.st_dev == own->first &&
      st.st_ino == own->second) {
    return tid;
  }
  std::vector<pid_t> chain = ns_pids(tid);
  return chain.empty() ? tid : chain.back();
}

pid_t task_seen_by(pid_t caller, pid_t pid, const std::vector<pid_t>& candidates) {
  std::vector<pid_t> mine = ns_pids(caller);
  if (mine.size() <= 1) return pid;  // rrx's own pid namespace (or gone: as named)
  const size_t level = mine.size() - 1;
  ino_t caller_ns = 0;
  for (pid_t c : candidates) {
    std::vector<pid_t> chain = ns_pids(c);
    if (chain.size() <= level || chain[level] != pid) continue;
    // The same number in a sibling namespace names another task: the
    // candidate's namespace at the caller's level must be the caller's.
    if (caller_ns == 0) caller_ns = pid_ns_above(caller, 0);
    if (caller_ns != 0 && pid_ns_above(c, chain.size() - 1 - level) == caller_ns) return c;
  }
  return 0;
}

int open_as_seen_by(pid_t tid, const std::string& path, const std::string& relative_to, int flags) {
  const bool absolute = !path.empty() && path[0] == '/';
  const std::string base = absolute ? proc_of(tid) + "/root" : relative_to;
  UniqueFd dir(::open(base.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return -1;
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  // RESOLVE_IN_ROOT: ".." and absolute symlinks stay inside the task's
  // root, as the kernel resolves them for the task.
  how.resolve = absolute ? RESOLVE_IN_ROOT : 0;
  const char* rel = absolute ? path.c_str() + 1 : path.c_str();
  if (*rel == '\0') rel = ".";
  long fd = ::syscall(SYS_openat2, dir.get(), rel, &how, sizeof how);
  if (fd < 0 && errno == ENOSYS) fd = ::openat(dir.get(), rel, flags | O_CLOEXEC);  // before Linux 5.6
  return static_cast<int>(fd);
}

}  // namespace rrx::record
