// user_regs_struct <-> schema::Registers.
#pragma once

#include <sys/user.h>

#include "trace_format/trace.capnp.h"

namespace rrx::trace {

void regs_to_schema(const user_regs_struct& r, schema::Registers::Builder b);
user_regs_struct regs_from_schema(schema::Registers::Reader r);

}  // namespace rrx::trace
