/* The library's replay side: a buffered call takes its result and memory
 * writes from the record the replayer put in the buffer ahead of it
 * (core/syscallbuf_abi.h, "Stop-free replay"), with no syscall and no stop.
 * Generic over records: it copies every output the record holds. It sits
 * where the untraced `syscall` would run and leaves every register as that
 * instruction does, so the library runs the same code with the same
 * registers whether a call was made, replayed with a stop, or taken here. */
#include "preload/replay.h"

#include "preload/buffered_calls.h"

#include <stddef.h>

enum { NR_write = 1, NR_pwrite64 = 18, NR_writev = 20 };

static void copy(void* dst, const void* src, uint64_t n) {
  __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

/* A write to rrx's output taken from its record: the `len` bytes it sent
 * (its result), copied to the header's replay output area. 0 when they do
 * not fit there (or the call is no write): the call is made instead. */
static int copy_sent(struct rrx_buffer_header* h, long nr, const long args[6], uint64_t len) {
  if (h->replay_out > h->replay_out_end || len > h->replay_out_end - h->replay_out) return 0;
  char* dst = (char*)(h + 1) + h->replay_out;
  switch (nr) {
    case NR_write:
    case NR_pwrite64: copy(dst, (const void*)args[1], len); break;
    case NR_writev: {
      const struct {
        const void* base;
        uint64_t len;
      }* iov = (const void*)args[1];
      uint64_t left = len;
      for (uint64_t i = 0; left > 0 && i < (uint64_t)args[2]; ++i) {
        uint64_t n = iov[i].len < left ? iov[i].len : left;
        copy(dst, iov[i].base, n);
        dst += n;
        left -= n;
      }
      if (left > 0) return 0; /* (the recorded result said the iovecs held them) */
      break;
    }
    default: return 0;
  }
  h->replay_out += (uint32_t)len;
  return 1;
}

/* The call made for real from the rrx page's RRX_REPLAY_EXEC_IP, which the
 * replay's seccomp filter lets run without a stop for RRX_REPLAY_EXEC_CALLS. */
static long exec_syscall(long nr, const long a[6]) {
  register long r10 __asm__("r10") = a[3];
  register long r8 __asm__("r8") = a[4];
  register long r9 __asm__("r9") = a[5];
  unsigned long insn = RRX_PAGE_ADDR + RRX_REPLAY_EXEC_INSN_OFFSET;
  long ret;
  __asm__ volatile("call *%%rcx"
                   : "=a"(ret), "+c"(insn)
                   : "a"(nr), "D"(a[0]), "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8), "r"(r9)
                   : "r11", "memory");
  return ret;
}

/* A fed record marked RRX_RECORD_EXECUTE: the call made for real, as the
 * replayer would have made it at a stop (an mmap that let the kernel choose
 * goes where it went when recorded, and nowhere else; a pwrite64 to a shared
 * object, RRX_RECORD_ON_FD, to the replay's copy of it). 1 when the kernel
 * gave the recorded result. */
static int execute_recorded(const struct rrx_buffer_record* r, long nr, const long args[6]) {
  enum { NR_mmap = 9, kMAP_FIXED = 0x10, kMAP_FIXED_NOREPLACE = 0x100000 };
  long a[6];
  for (int i = 0; i < 6; ++i) a[i] = args[i];
  if (r->flags & RRX_RECORD_ON_FD) a[0] = (long)r->reserved; /* the replay's copy of a shared object */
  if (nr == NR_mmap && !(a[3] & kMAP_FIXED)) {
    if (r->ret < 0 && r->ret >= -4095) return 0; /* (the feed takes no failed mmap) */
    a[0] = r->ret;
    a[3] |= kMAP_FIXED_NOREPLACE;
  }
  return exec_syscall(nr, a) == r->ret;
}

_Static_assert(offsetof(struct rrx_thread_locals, buffer) == 16, "rrx_untraced_call");
_Static_assert(offsetof(struct rrx_buffer_header, bytes_used) == 20, "rrx_untraced_call");
_Static_assert(offsetof(struct rrx_buffer_header, replay_end) == 24, "rrx_untraced_call");
_Static_assert(RRX_PAGE_ADDR + RRX_UNTRACED_INSN_OFFSET == 0x70000000ull, "rrx_untraced_call");
_Static_assert(RRX_UNTRACED_IP == 0x70000002ull, "rrx_untraced_call");
_Static_assert(RRX_EARLY_TL_SLOT == 0x70001ff8ull, "rrx_untraced_call");

/* 1: the record at bytes_used is this call's (same number and arguments): its
 * outputs are copied to where they were written and *ret is its result; the
 * caller publishes it as it does the record of a call it made. 0: make the
 * call (a mismatch also withdraws the rest of what the replayer put there). */
__attribute__((visibility("hidden"))) int rrx_replay_take(struct rrx_buffer_header* h, long nr, const long args[6],
                                                          long* ret) {
  uint32_t at = h->bytes_used;
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
  if (r->flags & RRX_RECORD_DATA_CRC) {
    /* The bytes the replayed program sends now against the recorded ones:
     * other bytes, and the call is made (the replayer shows them). */
    int ok;
    uint64_t a[6];
    for (int i = 0; i < 6; ++i) a[i] = (uint64_t)args[i];
    if (r->ret < 0 || rrx_sent_crc_here(rrx_sends_of(nr), a, (uint64_t)r->ret, &ok) != r->data_crc || !ok) {
      h->replay_end = 0;
      return 0;
    }
  }
  if ((r->flags & RRX_RECORD_EXECUTE) && !execute_recorded(r, nr, args)) {
    /* Not the recorded result: the call is made again the ordinary way (it
     * gives the same result twice), and the replayer reports the divergence. */
    h->replay_end = 0;
    return 0;
  }
  if ((r->flags & RRX_RECORD_STREAM_MASK) && r->ret > 0 &&
      !copy_sent(h, nr, args, (uint64_t)r->ret)) {
    h->replay_end = 0;
    return 0;
  }
  const char* p = (const char*)r + RRX_ALIGN8(sizeof *r);
  for (unsigned i = 0; i < r->string_count; ++i) { /* the path arguments: compared by the record's own check */
    const struct rrx_buffer_string* str = (const struct rrx_buffer_string*)p;
    p += sizeof *str + RRX_ALIGN8(str->len);
  }
  for (unsigned i = 0; i < r->output_count; ++i) {
    const struct rrx_buffer_output* o = (const struct rrx_buffer_output*)p;
    copy((void*)o->addr, o + 1, o->len);
    p += sizeof *o + RRX_ALIGN8(o->len);
  }
  *ret = r->ret;
  return 1;
}

/* rrx_untraced_call: called in place of the rrx page's untraced `syscall;
 * ret` (rax = nr, arguments in rdi rsi rdx r10 r8 r9). Without a record for
 * the thread (recording, or nothing fed) it jumps there with every register
 * as it came. With one, it takes it and returns as the syscall would: rax =
 * the result, rcx = the address after the syscall instruction, r11 = the
 * flags (those at entry, restored), every other register unchanged. */
__asm__(
    ".text\n"
    ".globl rrx_untraced_call\n"
    ".hidden rrx_untraced_call\n"
    ".type rrx_untraced_call,@function\n"
    "rrx_untraced_call:\n"
    "  pushfq\n"                          /* the flags at entry, before any test below */
    "  movq 0x70001ff8, %r11\n"           /* RRX_EARLY_TL_SLOT: the early thread-locals, or 0 */
    "  testq %r11, %r11\n"
    "  jnz 0f\n"
    "  movq tl@gottpoff(%rip), %r11\n"
    "  addq %fs:0, %r11\n"                /* &tl */
    "0:movq 16(%r11), %r11\n"             /* tl.buffer */
    "  testq %r11, %r11\n"
    "  jz 1f\n"
    "  movl 24(%r11), %ecx\n"             /* replay_end */
    "  cmpl 20(%r11), %ecx\n"             /* bytes_used */
    "  ja 2f\n"
    "1:popfq\n"
    "  movl $0x70000000, %ecx\n"          /* the untraced `syscall; ret` */
    "  jmp *%rcx\n"
    "2:pushq %r9\n"
    "  pushq %r8\n"
    "  pushq %r10\n"
    "  pushq %rdx\n"
    "  pushq %rsi\n"
    "  pushq %rdi\n"                      /* args[0..5] at 16(%rsp) below */
    "  pushq %rax\n"                      /* nr */
    "  subq $8, %rsp\n"                   /* the result */
    "  movq %r11, %rdi\n"
    "  movq %rax, %rsi\n"
    "  leaq 16(%rsp), %rdx\n"
    "  movq %rsp, %rcx\n"
    "  call rrx_replay_take\n"
    "  movl %eax, %r11d\n"
    "  movq (%rsp), %rcx\n"
    "  addq $8, %rsp\n"
    "  popq %rax\n"
    "  popq %rdi\n"
    "  popq %rsi\n"
    "  popq %rdx\n"
    "  popq %r10\n"
    "  popq %r8\n"
    "  popq %r9\n"
    "  testl %r11d, %r11d\n"
    "  jz 1b\n"                           /* not this call's record: the ordinary call */
    "  movq %rcx, %rax\n"
    "  movq (%rsp), %r11\n"               /* r11 = the flags, as the syscall leaves it */
    "  popfq\n"
    "  movl $0x70000002, %ecx\n"          /* rcx = the address after the syscall */
    "  ret\n"
    ".size rrx_untraced_call, .-rrx_untraced_call\n");
