// The fast path's LD_PRELOAD, out of the program's sight: at each exec of a
// dynamically linked image the recorder adds rrx's entry to envp on the new
// stack (its string outside the kernel's environment block), ld.so loads the
// library from it, and the library's constructor takes the entry out again.
#pragma once

#include <sys/user.h>

#include <string>
#include <vector>

namespace rrx {
class Task;
}

namespace rrx::record {

// The LD_PRELOAD value that loads `library`, followed by the program's own
// LD_PRELOAD (`user_preload`, ld.so's " :"-separated list). rrx's library
// comes first in the initial library list (it interposes the time functions
// on libc's), except after a runtime that must itself be the first and checks
// it (ASan's shared runtime dies otherwise): when the library a native run
// loads first (the first entry of `user_preload`, else the program's first
// DT_NEEDED, `needed`) is one, it stays first and rrx's comes second.
std::string preload_list(const std::string& library, const std::string& user_preload,
                         const std::vector<std::string>& needed);

// Whether the shared object named `name` (a path or a soname) is a runtime
// that requires to be the first in the initial library list: AddressSanitizer's
// (gcc's libasan.so.N, clang's libclang_rt.asan*.so), which reports "ASan
// runtime does not come first in initial library list" and exits otherwise.
bool must_load_first(const std::string& name);

// For a task stopped at PTRACE_EVENT_EXEC with registers `regs`, running a
// program whose DT_NEEDED list is `needed`: moves argc, argv, envp and auxv
// down the stack, adds "LD_PRELOAD=<preload_list(...)>" (the program's own
// last LD_PRELOAD value included) as the last entry of envp, its string
// (after RRX_ENV_MARKER) in the freed bytes between auxv and the kernel's
// strings, and sets the task's rsp (and regs.rsp). Argument and environment
// strings, auxv values and /proc/PID/environ stay as they are. Throws
// rrx::Error when the stack cannot be read or written.
void add_preload_entry(Task& task, user_regs_struct& regs, const std::string& library,
                       const std::vector<std::string>& needed);

}  // namespace rrx::record
