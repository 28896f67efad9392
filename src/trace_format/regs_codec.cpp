#include "trace_format/regs_codec.h"

namespace rrx::trace {

// One list of fields for both directions.
#define RRX_REGS_FIELDS(X)                                                                \
  X(r15, R15) X(r14, R14) X(r13, R13) X(r12, R12) X(rbp, Rbp) X(rbx, Rbx) X(r11, R11)    \
  X(r10, R10) X(r9, R9) X(r8, R8) X(rax, Rax) X(rcx, Rcx) X(rdx, Rdx) X(rsi, Rsi)         \
  X(rdi, Rdi) X(orig_rax, OrigRax) X(rip, Rip) X(cs, Cs) X(eflags, Eflags) X(rsp, Rsp)    \
  X(ss, Ss) X(fs_base, FsBase) X(gs_base, GsBase) X(ds, Ds) X(es, Es) X(fs, Fs) X(gs, Gs)

void regs_to_schema(const user_regs_struct& r, schema::Registers::Builder b) {
#define X(field, Name) b.set##Name(r.field);
  RRX_REGS_FIELDS(X)
#undef X
}

user_regs_struct regs_from_schema(schema::Registers::Reader s) {
  user_regs_struct r{};
#define X(field, Name) r.field = s.get##Name();
  RRX_REGS_FIELDS(X)
#undef X
  return r;
}

}  // namespace rrx::trace
