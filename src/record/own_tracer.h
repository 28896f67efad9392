// Whether rrx record is itself traced by a tracer that follows its forks
// (rrx record, strace -f): the program would then be that tracer's tracee
// before it could be rrx's, so rrx refuses to start, naming the tracer.
// Used by the recorder before it starts anything.
#pragma once

#include <optional>
#include <string>

namespace rrx::record {

// "PID 123 (NAME)" of the process tracing rrx, if any.
std::optional<std::string> own_tracer();

// Throws rrx::Error when rrx's tracer also traces the children rrx forks.
// A tracer that leaves children alone (gdb by default) is fine.
void refuse_fork_following_tracer();

// The message of that refusal, for `tracer` (as own_tracer() gives it).
std::string under_tracer_message(const std::string& tracer);

}  // namespace rrx::record
