/* The library's replay side (preload/replay.c): consuming the records the
 * replayer put in a thread's buffer (core/syscallbuf_abi.h, "Stop-free replay"). */
#ifndef RRX_PRELOAD_REPLAY_H
#define RRX_PRELOAD_REPLAY_H

#include "core/syscallbuf_abi.h"

/* Called by a buffered call, inside its transaction, in place of the syscall:
 * 1 when the record at bytes_used is this call's (same number and arguments):
 * its outputs are copied to where they were written, *ret is its result, and
 * it is published. 0 otherwise: the caller makes the call (a mismatch also
 * withdraws the rest of what the replayer put there). */
__attribute__((visibility("hidden"))) int rrx_replay_take(struct rrx_buffer_header* h, long nr, const long args[6],
                                                          long* ret);

#endif
