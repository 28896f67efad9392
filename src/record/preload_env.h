// The fast path's LD_PRELOAD, out of the program's sight: at each exec of a
// dynamically linked image the recorder adds rrx's entry to envp on the new
// stack (its string outside the kernel's environment block), ld.so loads the
// library from it, and the library's constructor takes the entry out again.
#pragma once

#include <sys/user.h>

#include <string>

namespace rrx {
class Task;
}

namespace rrx::record {

// For a task stopped at PTRACE_EVENT_EXEC with registers `regs`: moves argc,
// argv, envp and auxv down the stack, adds "LD_PRELOAD=<library>[:<the
// program's own last LD_PRELOAD value>]" as the last entry of envp, its
// string (after RRX_ENV_MARKER) in the freed bytes between auxv and the
// kernel's strings, and sets the task's rsp (and regs.rsp). Argument and
// environment strings, auxv values and /proc/PID/environ stay as they are.
// Throws rrx::Error when the stack cannot be read or written.
void add_preload_entry(Task& task, user_regs_struct& regs, const std::string& library);

}  // namespace rrx::record
