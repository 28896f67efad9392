/* The library's replay side: a buffered call takes its result and memory
 * writes from the record the replayer put in the buffer ahead of it
 * (core/syscallbuf_abi.h, "Stop-free replay"), with no syscall and no stop.
 * Generic over records: it copies every output the record holds. */
#include "preload/replay.h"

/* Ours, in preload.c (no libc). */
__attribute__((visibility("hidden"))) void* memcpy(void* dst, const void* src, __SIZE_TYPE__ n);

int rrx_replay_take(struct rrx_buffer_header* h, long nr, const long args[6], long* ret) {
  uint32_t at = h->bytes_used;
  if (h->replay_end <= at) return 0; /* recording, or nothing put there: make the call */
  const struct rrx_buffer_record* r = (const struct rrx_buffer_record*)((const char*)(h + 1) + at);
  int same = r->nr == nr && r->size >= sizeof *r && at + r->size <= h->replay_end;
  for (int i = 0; same && i < 6; ++i) same = r->args[i] == (uint64_t)args[i];
  if (!same) {
    /* Not the recorded call: the rest is not this thread's future. The call
     * goes on the ordinary way, and the replayer reports the divergence at
     * its stop. */
    h->replay_end = 0;
    return 0;
  }
  const char* p = (const char*)r + RRX_ALIGN8(sizeof *r);
  for (unsigned i = 0; i < r->output_count; ++i) {
    const struct rrx_buffer_output* o = (const struct rrx_buffer_output*)p;
    memcpy((void*)o->addr, o + 1, o->len);
    p += sizeof *o + RRX_ALIGN8(o->len);
  }
  *ret = r->ret;
  h->record_count++;
  __asm__ volatile("" ::: "memory");
  h->bytes_used = at + r->size; /* published, as the call's own record */
  return 1;
}
