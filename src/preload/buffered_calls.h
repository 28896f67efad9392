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

/* preload.c: the desched event's arm or disarm (fd, PERF_EVENT_IOC_REFRESH 1 or _DISABLE 0). */
RRX_HIDDEN void rrx_desched_ioctl(uint32_t fd, unsigned long request, unsigned long arg);

/* How a call may be made untraced: plainly (it cannot block), or as a desched
 * call (it could block: made with the thread's desched event armed,
 * core/syscallbuf_abi.h "Desched"); 0: traced. `desched` below: 1 + the fd of
 * the thread's event, 0: none (then nothing is ever RRX_BUFFER_DESCHED). */
#define RRX_BUFFER_PLAIN 1
#define RRX_BUFFER_DESCHED 2
/* The rule for `nr` with `args` (core/syscallbuf_abi.h: the first of its rules
 * whose argument test holds; else, with `desched`, the first whose desched
 * column allows the call), or null: traced with these arguments. */
RRX_HIDDEN const struct rrx_buffered_call* rrx_buffered_rule(long nr, const uint64_t args[6], uint32_t desched);
/* Whether this call may be made untraced now under rule `c`: RRX_BUFFER_PLAIN
 * (its rule's test holds and it cannot block), RRX_BUFFER_DESCHED (it could
 * block, and `desched` and the rule's column allow it), 0: traced; *flags: the
 * record's RRX_RECORD_* flags. The same decision as rrx_buffered_rule's for the
 * argument tests, plus the kind of fd or file. May record calls of its own
 * (fstat, fcntl, ioctl, stat). */
RRX_HIDDEN int rrx_may_buffer(struct rrx_buffer_header* h, const struct rrx_buffered_call* c, const uint64_t args[6],
                              uint32_t desched, uint8_t* flags);
/* Makes the call untraced and records it (with `flags`) and the memory it
 * wrote; traced instead when the record would not fit (then empties the
 * buffer). With `desched` (1 + the event's fd: an RRX_BUFFER_DESCHED call),
 * the call is made with the event armed; it returns RRX_DESCHED_GIVEN_BACK,
 * recording nothing, when it blocked: the caller makes it traced
 * (core/syscallbuf_abi.h, "Desched"). Returns rax. */
RRX_HIDDEN long rrx_record_call(struct rrx_buffer_header* h, const struct rrx_buffered_call* c, const uint64_t args[6],
                                uint8_t flags, uint32_t desched);
/* The `sends` column of the rules for `nr` (enum rrx_sends). */
RRX_HIDDEN uint8_t rrx_sends_of(long nr);
/* rrx_sent_crc (sent_crc.h) in this process: with the crc32 instruction where the file facts say
 * the CPU has it (crc32_insn). */
RRX_HIDDEN uint32_t rrx_sent_crc_here(uint8_t sends, const uint64_t args[6], uint64_t len, int* ok);
/* After the call, buffered or not: what the library's own state learns (close). */
RRX_HIDDEN void rrx_after_call(const struct rrx_buffered_call* c, const uint64_t args[6]);

#endif
