/* The preload library's buffered-call rules and its transaction
 * (buffered_calls.c), and the two ways of making a syscall that preload.c
 * provides. Hidden symbols: nothing here is part of the program's view. */
#ifndef RRX_PRELOAD_BUFFERED_CALLS_H
#define RRX_PRELOAD_BUFFERED_CALLS_H

#include "core/syscallbuf_abi.h"

#define RRX_HIDDEN __attribute__((visibility("hidden")))

/* preload.c: a call from the rrx page's traced / untraced instruction. */
RRX_HIDDEN long rrx_traced_syscall(long nr, const uint64_t args[6]);
RRX_HIDDEN long rrx_untraced_syscall(long nr, const uint64_t args[6]);

/* The rule for `nr` with `args` (core/syscallbuf_abi.h: the first of its rules
 * whose argument test holds), or null: not buffered with these arguments. */
RRX_HIDDEN const struct rrx_buffered_call* rrx_buffered_rule(long nr, const uint64_t args[6]);
/* 1 when this call may be made untraced now (its rule's condition holds and it
 * cannot block), with *flags the record's RRX_RECORD_* flags; may record calls
 * of its own (fstat, fcntl, ioctl, stat). */
RRX_HIDDEN int rrx_may_buffer(struct rrx_buffer_header* h, const struct rrx_buffered_call* c, const uint64_t args[6],
                              uint8_t* flags);
/* Makes the call untraced and records it (with `flags`) and the memory it
 * wrote; traced instead when the record would not fit (then empties the
 * buffer). Returns rax. */
RRX_HIDDEN long rrx_record_call(struct rrx_buffer_header* h, const struct rrx_buffered_call* c, const uint64_t args[6],
                                uint8_t flags);
/* After the call, buffered or not: what the library's own state learns (close). */
RRX_HIDDEN void rrx_after_call(const struct rrx_buffered_call* c, const uint64_t args[6]);

#endif
