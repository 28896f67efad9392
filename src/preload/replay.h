/* The library's replay side (preload/replay.c): consuming the records the
 * replayer put in a thread's buffer (core/syscallbuf_abi.h, "Stop-free replay"). */
#ifndef RRX_PRELOAD_REPLAY_H
#define RRX_PRELOAD_REPLAY_H

#include "core/syscallbuf_abi.h"

/* What a buffered call calls in place of the rrx page's untraced `syscall;
 * ret` (same registers in and out): the recorded result without a syscall
 * when the replayer put this call's record at the thread's bytes_used, else
 * that instruction. */
extern char rrx_untraced_call[] __attribute__((visibility("hidden")));

#endif
