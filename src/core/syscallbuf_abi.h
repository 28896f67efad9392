/* The syscall buffer's ABI: what the preload library (src/preload/, C, freestanding),
 * the recorder (src/record/syscallbuf_record.*) and the replayer agree on. Plain C so
 * that the library includes it without any rrx or C++ header. Change a layout: bump
 * RRX_SYSCALLBUF_VERSION (the library's init call passes it; the recorder refuses others). */
#ifndef RRX_SYSCALLBUF_ABI_H
#define RRX_SYSCALLBUF_ABI_H

#include <stdint.h>

#define RRX_SYSCALLBUF_VERSION 2u

/* The rrx page: one page at a fixed address, mapped by the library in every
 * process (a traced mmap, so replay maps it at the same moment). It holds the
 * two syscall instructions the library makes calls from, each followed by ret:
 *   page + RRX_UNTRACED_INSN_OFFSET: `syscall; ret`, which the recorder's seccomp
 *       filter lets run without a stop (the filter compares the whole 64-bit ip,
 *       both 32-bit halves, with RRX_UNTRACED_IP);
 *   page + RRX_TRACED_INSN_OFFSET: `syscall; ret`, traced like any other call
 *       (the library's fallback: unbuffered calls, a full buffer, a nested entry).
 * The address is below every mapping the kernel picks with ASLR off (rrx records
 * with ADDR_NO_RANDOMIZE) and above a non-PIE program's first 1.7 GiB of heap. */
#define RRX_PAGE_ADDR 0x70000000ull
#define RRX_PAGE_SIZE 4096u
#define RRX_UNTRACED_INSN_OFFSET 0u
#define RRX_TRACED_INSN_OFFSET 16u
/* page + RRX_HOOK_ENTRY_SLOT_OFFSET: 8 bytes, the address of the library's
 * rrx_hook_entry, which patched sites jump to through this slot (see "Hook
 * entry" below): the slot's address fits a sign-extended disp32, so the
 * jump needs no register. */
#define RRX_HOOK_ENTRY_SLOT_OFFSET 64u
#define RRX_HOOK_ENTRY_SLOT (RRX_PAGE_ADDR + RRX_HOOK_ENTRY_SLOT_OFFSET)
/* seccomp_data.ip of a call from the untraced instruction: the address after it. */
#define RRX_UNTRACED_IP (RRX_PAGE_ADDR + RRX_UNTRACED_INSN_OFFSET + 2u)
#define RRX_TRACED_IP (RRX_PAGE_ADDR + RRX_TRACED_INSN_OFFSET + 2u)

/* rrx's private syscall numbers (far above the kernel's, as rr's rrcalls): made
 * from the traced instruction, answered by the recorder, ENOSYS without it.
 *   RRX_CALL_INIT_BUFFER(buffer, capacity, version): this thread's buffer is at
 *     `buffer`; returns 0 when the recorder buffers this thread's calls, -errno
 *     otherwise (then the library makes every call traced). */
#define RRX_CALL_INIT_BUFFER 1000

/* Per-thread state of the library: an initial-exec TLS variable, beside the
 * thread's alternate stack (RRX_ALT_STACK_BYTES of TLS), so that a thread's
 * first hook entry has a stack without a syscall. (rr keeps these on a fixed
 * page that the tracer swaps at each thread switch, for programs that move
 * %fs, such as Go; rrx's first stage reaches them through %fs.) The recorder
 * never writes them. */
struct rrx_thread_locals {
  uint64_t saved_rsp;      /* the program's rsp on its way to the alternate stack (hook entry) */
  uint64_t alt_stack_top;  /* 0: no hook entry in progress, the next uses the top of this thread's
                              alternate stack; else where a nested entry's frame goes (256 bytes
                              below the frame in progress, 16-byte aligned) */
  uint64_t buffer;         /* struct rrx_buffer_header*, 0 until the thread is initialised */
  uint32_t locked;         /* a transaction is open: a nested entry (signal handler) goes traced */
  uint32_t state;          /* RRX_TL_* */
  uint64_t return_addr;    /* hook entry's scratch: where it jumps back to */
  uint32_t raw;            /* hook entry's scratch: the call goes back to the site's stub, made there traced */
  uint32_t pad;
};
#define RRX_TL_UNINIT 0u
#define RRX_TL_BUFFERED 1u
#define RRX_TL_DISABLED 2u /* the recorder said no (or no recorder): every call traced */

/* The per-thread buffer: this header, then records back to back. Only the
 * library writes it, the recorder only reads it: a record is published by
 * raising bytes_used after it is complete. When the next record would not fit,
 * the library makes that call traced (the recorder takes every published
 * record at that stop, as at every stop of the thread), then empties the
 * buffer and raises `generation`: the recorder's cursor is (generation, bytes
 * taken). Replay runs the same library code on the same results, so the
 * buffer holds the same bytes there.
 *
 * Stop-free replay (replay/syscallbuf_replay.h, preload/replay.c): before it
 * resumes a thread, the replayer may write the recorded records of the
 * thread's next buffered calls where the library will write them (from
 * bytes_used on; after the record of a call the thread is stopped in) and set
 * replay_end to their end. A buffered call that finds a record at bytes_used
 * below replay_end with its own number and arguments takes the result and
 * the memory writes from it in place of the untraced syscall instruction
 * (same registers out), and publishes it with the code that publishes a call
 * it made (the buffer ends up as recorded); any other call clears replay_end
 * and is made (the replayer sees it stop and reports the divergence). At the
 * thread's next stop the replayer counts the records taken (record_count),
 * puts back the bytes under those not taken and clears replay_end: while the
 * thread is stopped, its memory is as with one stop per call. Always 0 while
 * recording. */
struct rrx_buffer_header {
  uint32_t magic;        /* RRX_BUFFER_MAGIC */
  uint16_t version;      /* RRX_SYSCALLBUF_VERSION */
  uint16_t header_size;  /* sizeof(struct rrx_buffer_header) */
  uint32_t capacity;     /* bytes of records the buffer can hold after the header */
  uint32_t generation;   /* raised each time the library empties the buffer */
  uint32_t record_count; /* published records */
  uint32_t bytes_used;   /* published bytes of records */
  uint32_t replay_end;   /* replay only: records below this offset were put there by the replayer */
  uint32_t reserved;     /* 0 */
};
#define RRX_BUFFER_MAGIC 0x42585252u /* "RRXB" */

/* One buffered call. `size` covers the whole record, outputs included, and is
 * a multiple of 8. Outputs follow as `output_count` x (struct rrx_buffer_output,
 * then `len` bytes padded to 8): the memory the kernel wrote, copied right after
 * the call (absent when the call failed). */
struct rrx_buffer_record {
  uint32_t size;
  uint16_t output_count;
  uint16_t flags; /* 0 */
  int64_t nr;
  uint64_t args[6];
  int64_t ret; /* rax after the call: the result or -errno */
};
struct rrx_buffer_output {
  uint64_t addr;
  uint64_t len;
};

/* Hook entry: the bytes a patched site's stub runs in place of `syscall`
 * (record/syscallbuf_hook.h emits them), with every register as at the syscall:
 *     lea   rcx, [rip + 9]             ; 48 8d 0d 09 00 00 00: where the hook returns to
 *     jmp   qword ptr [RRX_HOOK_ENTRY_SLOT]   ; ff 24 25 disp32
 *     syscall                          ; 0f 05: the calls the library does not buffer
 * then the stub sets rcx to the original site's return address (rcx and r11
 * are the registers `syscall` clobbers). rrx_hook_entry saves rsp in the
 * thread-locals, switches to the alternate stack with moves only (the
 * program's stack and red zone are never written), saves the flags there.
 * A call the library buffers is made through hook_entry_impl; it restores
 * every register `syscall` preserves (the library uses no vector registers:
 * -mgeneral-regs-only), sets rax to the result and r11 to the flags, and
 * jumps back to rcx. Any other call (and any call while the buffer is in use)
 * goes back to rcx - 2, the sequence's own `syscall`, with every register as
 * at entry: it is made there, traced, on the program's own stack, so clone,
 * vfork, rt_sigreturn and blocking calls behave exactly as at the site. */

/* Bytes per thread: the buffer (header included, mapped at the thread's first
 * buffered call) and the alternate stack (TLS). */
#define RRX_BUFFER_BYTES (64u * 1024u)
#define RRX_ALT_STACK_BYTES (16u * 1024u)
/* Records larger than this are never buffered (the call goes traced). */
#define RRX_MAX_RECORD_BYTES (8u * 1024u)

#define RRX_ALIGN8(n) (((n) + 7u) & ~7u)

/* The calls the library buffers and the memory each writes when it succeeds: at
 * most two fixed-size outputs through pointer arguments (a null pointer writes
 * nothing). The syscall table's kBuffered column is the same set with the same
 * outputs (tests/unit/syscallbuf_test.cpp checks it). None may block. */
struct rrx_buffered_call {
  int32_t nr;
  int8_t out_arg[2]; /* argument index of the pointer, -1: none */
  uint16_t out_len[2];
};
#define RRX_BUFFERED_CALLS                                          \
  {8, {-1, -1}, {0, 0}},        /* lseek */                         \
  {5, {1, -1}, {144, 0}},       /* fstat: struct stat */            \
  {39, {-1, -1}, {0, 0}},       /* getpid */                        \
  {63, {0, -1}, {390, 0}},      /* uname: struct utsname */         \
  {96, {0, 1}, {16, 8}},        /* gettimeofday: timeval, timezone */ \
  {102, {-1, -1}, {0, 0}},      /* getuid */                        \
  {104, {-1, -1}, {0, 0}},      /* getgid */                        \
  {107, {-1, -1}, {0, 0}},      /* geteuid */                       \
  {108, {-1, -1}, {0, 0}},      /* getegid */                       \
  {110, {-1, -1}, {0, 0}},      /* getppid */                       \
  {186, {-1, -1}, {0, 0}},      /* gettid */                        \
  {201, {0, -1}, {8, 0}},       /* time: time_t */                  \
  {228, {1, -1}, {16, 0}},      /* clock_gettime: timespec */       \
  {229, {1, -1}, {16, 0}},      /* clock_getres: timespec */

#endif /* RRX_SYSCALLBUF_ABI_H */
