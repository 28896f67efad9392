// Namespaces inside a recording: the pids a recorded program sees (those of
// its own pid namespace, not the global ones rrx traces it by), and the file
// a path names in its mount namespace and root (the file store keeps what the
// program itself runs, whatever rrx's own view of that path holds).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace rrx::record {

// The pids of task `tid` (a pid in rrx's own view) in each pid namespace
// that sees it, outermost (rrx's) first, its own last: the kernel's NSpid
// line in /proc/TID/status. Empty when the task is gone.
std::vector<pid_t> ns_pids(pid_t tid);

// Task `tid`'s id as it sees itself (gettid in its own pid namespace; what
// CLONE_CHILD_SETTID writes): `tid` itself outside nested pid namespaces.
pid_t own_view_tid(pid_t tid);

// The task (rrx's pid) that `pid` names in the pid namespace of task
// `caller`, among `candidates` (rrx's pids of the recorded tree's tasks),
// or 0 when none of them is it. `pid` itself when the caller shares rrx's
// pid namespace.
pid_t task_seen_by(pid_t caller, pid_t pid, const std::vector<pid_t>& candidates);

// An fd (opened with `flags`: O_RDONLY, O_PATH...) of the file that `path`
// names for task `tid`: an absolute path in the task's root and mount
// namespace (/proc/TID/root, absolute symlinks resolved inside it too), a
// relative one from `relative_to` (its cwd, or a directory fd's
// /proc/TID/fd/N). -1 with errno set when it cannot be opened.
int open_as_seen_by(pid_t tid, const std::string& path, const std::string& relative_to, int flags = 0);

}  // namespace rrx::record
