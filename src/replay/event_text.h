// How the replay names events and addresses in its messages (divergences,
// debug logs); shared by the replay's source files.
#pragma once

#include <cstdint>
#include <string>

#include "trace_format/trace_reader.h"

namespace rrx::replay {

// One line for a recorded event, strace-style for syscalls.
std::string describe_event(schema::Event::Reader ev);
// Lowercase hex without 0x.
std::string fmt_hex(uint64_t v);

}  // namespace rrx::replay
