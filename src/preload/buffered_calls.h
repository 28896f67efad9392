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

/* The rule for `nr` (core/syscallbuf_abi.h), or null: never buffered. */
RRX_HIDDEN const struct rrx_buffered_call* rrx_buffered_rule(long nr);
/* Whether this call may be made untraced now: RRX_BUFFER_PLAIN when its rule's
 * condition holds and it cannot block, RRX_BUFFER_DESCHED when it could block
 * but the thread has a desched event (`desched`: 1 + its fd, 0: none) and the
 * rule's desched column allows it, 0: traced. May record calls of its own
 * (fstat, fcntl, ioctl, stat). */
#define RRX_BUFFER_PLAIN 1
#define RRX_BUFFER_DESCHED 2
RRX_HIDDEN int rrx_may_buffer(struct rrx_buffer_header* h, const struct rrx_buffered_call* c, const uint64_t args[6],
                              uint32_t desched);
/* Makes the call untraced and records it with the memory it wrote; traced
 * instead when the record would not fit (then empties the buffer). With
 * `desched` (1 + the event's fd), the call is made with the event armed; it
 * returns RRX_DESCHED_GIVEN_BACK, recording nothing, when it blocked: the
 * caller makes it traced (core/syscallbuf_abi.h, "Desched"). Returns rax. */
RRX_HIDDEN long rrx_record_call(struct rrx_buffer_header* h, const struct rrx_buffered_call* c, const uint64_t args[6],
                                uint32_t desched);
/* After the call, buffered or not: what the library's own state learns (close). */
RRX_HIDDEN void rrx_after_call(const struct rrx_buffered_call* c, const uint64_t args[6]);

#endif
