// Recorded syscalls as the syscall formatter wants them (dump, divergences).
#pragma once

#include <string>

#include "core/syscall_format.h"
#include "trace_format/trace.capnp.h"

namespace rrx::trace {

std::string data_string(capnp::Data::Reader data);
sys::RecordedCall recorded_call(schema::Syscall::Reader syscall, bool with_ret = true);

}  // namespace rrx::trace
