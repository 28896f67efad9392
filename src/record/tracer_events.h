// The trace events of emulated ptrace (ptrace_emulation.h): where a tracee
// stopped for its tracer (TracerStop) and what the tracer changed before it
// let the tracee go (TracerResume), so that replay repeats both on the tracee.
#pragma once

#include <sys/types.h>

#include "record/ptrace_emulation.h"

namespace rrx {
class Task;
namespace trace {
class TraceWriter;
}
}  // namespace rrx

namespace rrx::record {

// A stop at `at` (not AfterEvent): the tracee `task` of process `pid`.
void append_tracer_stop(trace::TraceWriter& w, Task& task, pid_t pid, StopPoint at, int signo, bool synchronous);

// Whether the release `how` needs a TracerResume event.
bool needs_tracer_resume(const EmuRelease& how);
// The event, from the tracee's registers (and XSAVE area) as they are now.
void append_tracer_resume(trace::TraceWriter& w, Task& task, pid_t pid, const EmuRelease& how);

}  // namespace rrx::record
