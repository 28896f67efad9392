// What /proc/PID/status tells a recorded program about ptrace. The kernel's
// TracerPid line names rrx, the real tracer of every recorded task; a read of
// the file shows instead what it would without rrx: the thread in the
// recorded tree that traces PID (emulated ptrace, ptrace_emulation.h), or 0.
// The recorder applies it at a read's exit stop, before the read's bytes go
// to the trace (replay injects them as read).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace rrx {
class Task;
}

namespace rrx::record {

// `data`, bytes a read returned, with a "TracerPid:\t<rrx_pid>\n" line in
// whole: the same bytes with that line naming `tracer_of(pid)` (0: none),
// where `pid` is the file's own "Pid:" line (or, not in `data`,
// `pid_of_file()`). nullopt: no such line.
std::optional<std::string> tracer_pid_view(std::string_view data, pid_t rrx_pid,
                                           const std::function<pid_t(pid_t)>& tracer_of,
                                           const std::function<pid_t()>& pid_of_file);

// At the exit stop of a read(fd, buf, count) or pread64 of `task` that
// returned `ret` > 0 bytes: rewrites them in the task's memory as
// tracer_pid_view says, and returns the new result (the same number, or
// fewer or more bytes, up to `count`; bytes that no longer fit are read
// again by its next read: the file offset goes back). nullopt: untouched.
std::optional<int64_t> show_emulated_tracer(Task& task, bool positional, int fd, uint64_t buf, uint64_t count,
                                            int64_t ret, const std::function<pid_t(pid_t)>& tracer_of);

}  // namespace rrx::record
