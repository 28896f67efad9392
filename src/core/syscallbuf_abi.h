/* The syscall buffer's ABI: what the preload library (src/preload/, C, freestanding),
 * the recorder (src/record/syscallbuf_record.*) and the replayer agree on. Plain C so
 * that the library includes it without any rrx or C++ header. Change a layout: bump
 * RRX_SYSCALLBUF_VERSION (the library's init call passes it; the recorder refuses others). */
#ifndef RRX_SYSCALLBUF_ABI_H
#define RRX_SYSCALLBUF_ABI_H

#include <stdint.h>

/* 8: main's 7 (replay_out, the hook frame and slots) with the desched header
 * fields (desched_armed, desched_nr) and the recording-only instruction.
 * 9: records of calls with an input (rt_sigaction's act, rt_sigprocmask's
 * set: the rule's in_arg) hold it as a string entry.
 * 10: rrx_process_state's trace_all (a process with a seccomp filter); the
 * record's data_crc (RRX_RECORD_DATA_CRC) and the rule's `sends`; the file
 * facts' crc32_insn.
 * 11: munmap, brk, mprotect without PROT_EXEC, getrandom, then mmap of
 * private anonymous memory (RRX_BW_MMAP_ANON) and madvise that changes no
 * byte are buffered.
 * 12: RRX_REPLAY_EXEC_INSN_OFFSET and RRX_RECORD_EXECUTE: the library makes
 * those calls for real on replay.
 * 13: RRX_CALL_INIT_BUFFER answers the desched fd (no RRX_CALL_DESCHED_FD);
 * RRX_BW_FD_BELOW and the file facts' desched_floor; more calls buffered.
 * 14: pwrite64 to a shared object buffered (RRX_RECORD_OBJECT_WRITE, naming
 * the file by its index in the file facts; RRX_FD_WRITE_OBJECT and the state
 * page's fd_object); fed records RRX_RECORD_ON_FD, and pwrite64 among
 * RRX_REPLAY_EXEC_CALLS. */
/* 15: the loader phase ("Early set-up" below): rrx_hook_table, the state
 * page's RRX_EARLY_TL_SLOT and RRX_STATE_ALT_STACK_SLOT; the rrx page's
 * RRX_ALT_STACK_SLOT is left 0. */
#define RRX_SYSCALLBUF_VERSION 15u
/* The oldest library version whose buffer the replayer feeds (the header, the
 * records and the replay side of the library as in version 12; what 13
 * changed is the recording's side: more rules, INIT_BUFFER's answer; 14's
 * replay side adds RRX_RECORD_ON_FD, which the replayer feeds only to a
 * library of 14 or later): a trace recorded by such a library still replays
 * without a stop per call. */
#define RRX_SYSCALLBUF_ON_FD_VERSION_MIN 14u
#define RRX_SYSCALLBUF_FEED_VERSION_MIN 12u
static inline int rrx_feedable_version(uint32_t v) { return v >= RRX_SYSCALLBUF_FEED_VERSION_MIN && v <= RRX_SYSCALLBUF_VERSION; }

/* The rrx page: one page at a fixed address, mapped by the library in every
 * process (a traced mmap, so replay maps it at the same moment). It holds the
 * two syscall instructions the library makes calls from, each followed by ret:
 *   page + RRX_UNTRACED_INSN_OFFSET: `syscall; ret`, which the recorder's seccomp
 *       filter lets run without a stop (the filter compares the whole 64-bit ip,
 *       both 32-bit halves, with RRX_UNTRACED_IP);
 *   page + RRX_TRACED_INSN_OFFSET: `syscall; ret`, traced like any other call
 *       (the library's fallback: unbuffered calls, a full buffer, a nested entry);
 *   page + RRX_RECORDING_ONLY_INSN_OFFSET: the desched event's arm and disarm
 *       ioctls ("Desched" below). The library writes `xor eax, eax; ret` there
 *       (a call that does nothing and returns 0: what the replay runs); the
 *       recorder, when it gives the thread a desched event, writes `syscall;
 *       ret` over it, and the filter lets that run without a stop too.
 * The address is below every mapping the kernel picks with ASLR off (rrx records
 * with ADDR_NO_RANDOMIZE) and above a non-PIE program's first 1.7 GiB of heap. */
#define RRX_PAGE_ADDR 0x70000000ull
#define RRX_PAGE_SIZE 4096u
#define RRX_UNTRACED_INSN_OFFSET 0u
#define RRX_TRACED_INSN_OFFSET 16u
#define RRX_RECORDING_ONLY_INSN_OFFSET 32u
/* page + RRX_REPLAY_EXEC_INSN_OFFSET: `syscall; ret`, the library's on replay
 * for a fed record marked RRX_RECORD_EXECUTE (see "Stop-free replay"): the
 * replay's seccomp filter lets the calls in RRX_REPLAY_EXEC_CALLS run from
 * there without a stop (it compares both 32-bit halves with
 * RRX_REPLAY_EXEC_IP); any other call from there stops like any call. */
#define RRX_REPLAY_EXEC_INSN_OFFSET 48u
/* page + RRX_HOOK_ENTRY_SLOT_OFFSET: 8 bytes, the address of the library's
 * rrx_hook_entry, which patched sites jump to through this slot (see "Hook
 * entry" below): the slot's address fits a sign-extended disp32, so the
 * jump needs no register. */
#define RRX_HOOK_ENTRY_SLOT_OFFSET 64u
#define RRX_HOOK_ENTRY_SLOT (RRX_PAGE_ADDR + RRX_HOOK_ENTRY_SLOT_OFFSET)
/* page + RRX_HOOK_RETURN_SLOT_OFFSET: 8 bytes, the address right after
 * rrx_hook_entry's call of the library's C code (the return address the
 * first C frame of a hook entry holds): the replayer finds the hook frame
 * (below) by it. */
#define RRX_HOOK_RETURN_SLOT_OFFSET 72u
#define RRX_HOOK_RETURN_SLOT (RRX_PAGE_ADDR + RRX_HOOK_RETURN_SLOT_OFFSET)
/* page + RRX_HOOK_END_SLOT_OFFSET: 8 bytes, the end of rrx_hook_entry's code. */
#define RRX_HOOK_END_SLOT_OFFSET 80u
#define RRX_HOOK_END_SLOT (RRX_PAGE_ADDR + RRX_HOOK_END_SLOT_OFFSET)
/* page + RRX_ALT_STACK_SLOT_OFFSET: 8 bytes, where each thread's alternate
 * stack starts relative to its thread pointer (fs_base): a thread whose rsp
 * is in [fs_base + this, + RRX_ALT_STACK_BYTES) is inside a hook entry. */
#define RRX_ALT_STACK_SLOT_OFFSET 88u
#define RRX_ALT_STACK_SLOT (RRX_PAGE_ADDR + RRX_ALT_STACK_SLOT_OFFSET)
/* seccomp_data.ip of a call from the untraced instruction: the address after it. */
#define RRX_UNTRACED_IP (RRX_PAGE_ADDR + RRX_UNTRACED_INSN_OFFSET + 2u)
#define RRX_TRACED_IP (RRX_PAGE_ADDR + RRX_TRACED_INSN_OFFSET + 2u)
#define RRX_RECORDING_ONLY_IP (RRX_PAGE_ADDR + RRX_RECORDING_ONLY_INSN_OFFSET + 2u)
#define RRX_REPLAY_EXEC_IP (RRX_PAGE_ADDR + RRX_REPLAY_EXEC_INSN_OFFSET + 2u)
/* The calls a fed record may have the library make for real on replay: they
 * change the replayed process's address space or signal actions, whose
 * effect replay needs, and leave nothing for the replayer to do after them
 * (anonymous memory only: the feed takes no mapping of a file). mmap,
 * mprotect, munmap, brk, madvise, rt_sigaction; and pwrite64, only as a fed
 * record marked RRX_RECORD_ON_FD makes it: to the replay's own copy of a
 * shared object, an fd the replayer opened in the process. */
#define RRX_REPLAY_EXEC_CALLS 9, 10, 11, 12, 28, 13, 18
/* The bytes of the rrx page's `syscall; ret` instructions. */
#define RRX_SYSCALL_RET_BYTES {0x0f, 0x05, 0xc3}
/* The rrx page's instructions, as the library's constructor and the
 * recorder's early set-up ("Early set-up" below) write them into `page`
 * (the page itself, or an image of it): `syscall; ret` at the untraced,
 * traced and replay-exec offsets, and at the recording-only one `xor eax,
 * eax; ret` (a call that does nothing and returns 0), which the recorder
 * overwrites with `syscall; ret` when it gives the thread a desched event. */
static inline void rrx_write_page_insns(uint8_t* page) {
  static const uint8_t syscall_ret[3] = RRX_SYSCALL_RET_BYTES;
  static const uint8_t zero_ret[3] = {0x31, 0xc0, 0xc3};
  for (int i = 0; i < 3; ++i) {
    page[RRX_UNTRACED_INSN_OFFSET + i] = syscall_ret[i];
    page[RRX_TRACED_INSN_OFFSET + i] = syscall_ret[i];
    page[RRX_REPLAY_EXEC_INSN_OFFSET + i] = syscall_ret[i];
    page[RRX_RECORDING_ONLY_INSN_OFFSET + i] = zero_ret[i];
  }
}

/* rrx's LD_PRELOAD entry (record/preload_env.h): the recorder adds it as the
 * last entry of envp on the stack of each dynamically linked image at exec,
 * its string in the stack outside the kernel's environment block, right after
 * these 8 bytes; the library's constructor takes it out of envp again. */
#define RRX_ENV_MARKER 0x5652454c52505852ull /* "RXPRLERV" */

/* rrx's private syscall numbers (far above the kernel's, as rr's rrcalls): made
 * from the traced instruction, answered by the recorder, ENOSYS without it.
 *   RRX_CALL_INIT_BUFFER(buffer, capacity, version): this thread's buffer is at
 *     `buffer`; returns 0 or more when the recorder buffers this thread's
 *     calls: 1 + the fd of the thread's desched event ("Desched" below), which
 *     the recorder opened in the thread's fd table at this call's exit, or 0
 *     where it records without desched (`blocking calls: checked`); -errno
 *     otherwise (then the library makes every call traced). The replay
 *     answers the same (no event exists there: the arm and disarm calls do
 *     nothing). */
#define RRX_CALL_INIT_BUFFER 1000
/*   RRX_CALL_FD_INFO(fd): what the recorder knows of fd: RRX_FD_INFO_TRACE_WRITES
 *     when writes to it must stay traced (a file a recorded process maps
 *     shared; /proc/PID/mem); RRX_FD_INFO_STDOUT / _STDERR when it is the same
 *     file as rrx's own stdout / stderr (buffered writes to it carry
 *     RRX_RECORD_TO_STDOUT / _STDERR: replay re-emits them); 0 otherwise,
 *     -EBADF. A traced call, so the replay answers the same. */
#define RRX_CALL_FD_INFO 1001
/*   RRX_CALL_RECORDING(): the recorder's pid: how rrx record knows that it is
 *     itself recorded (record/own_tracer.h), as the processes of a recording
 *     see no tracer of theirs in /proc (record/proc_status.h). Answered in
 *     every mode; replay injects the answer. */
#define RRX_CALL_RECORDING 1002
#define RRX_FD_INFO_TRACE_WRITES 1
#define RRX_FD_INFO_STDOUT 2
#define RRX_FD_INFO_STDERR 4
/*   RRX_CALL_DESCHED_FD(): what libraries before version 13 made once per
 *     thread after a successful RRX_CALL_INIT_BUFFER (a stop of its own): the
 *     desched event's number, which RRX_CALL_INIT_BUFFER answers now. Kept
 *     for their traces: replay answers what was recorded. */
#define RRX_CALL_DESCHED_FD 1003

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
  uint32_t desched;        /* 1 + the fd of this thread's desched event (RRX_CALL_DESCHED_FD); 0: none */
  uint32_t pad2;
};
#define RRX_TL_UNINIT 0u
#define RRX_TL_BUFFERED 1u
#define RRX_TL_DISABLED 2u /* the recorder said no (or no recorder): every call traced */

/* The per-thread buffer: this header, then records back to back. The
 * library writes it, the recorder only reads it (but for trace_all): a record is published by
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
 * thread's next stop the replayer counts the records taken (record_count)
 * and clears replay_end: while the thread is stopped, its memory is as with
 * one stop per call. Records not taken (the thread stopped before them: a
 * divergence) stay past bytes_used, where the library only ever writes; the
 * replayer reads what the records go over only when one has padding, whose
 * bytes the library's own copy leaves as the buffer held them, and then puts
 * those bytes back under the records not taken too. Always 0 while
 * recording.
 *
 * Output on replay: a fed record of a write to rrx's stdout or stderr
 * (flags RRX_RECORD_TO_*) is taken like the others, and the library also
 * copies the bytes the call sends (its result's worth: write, pwrite64,
 * writev) to [replay_out, replay_out_end) of the records area, raising
 * replay_out; a write they do not fit in is made instead (a stop). The
 * replayer puts the area where the library writes nothing until the next
 * stop (over the records published before bytes_used, or after the fed
 * ones), and at the next stop writes
 * the copied bytes to its own stdout / stderr in the order of the calls that
 * took them, then puts back what the area held and clears both fields. So
 * the replay shows what the recording wrote to rrx's output without a stop
 * per write (a recorded program's output thrown away to /dev/null, as rrx's
 * own, still shows on replay). */
struct rrx_buffer_header {
  uint32_t magic;        /* RRX_BUFFER_MAGIC */
  uint16_t version;      /* RRX_SYSCALLBUF_VERSION */
  uint16_t header_size;  /* sizeof(struct rrx_buffer_header) */
  uint32_t capacity;     /* bytes of records the buffer can hold after the header */
  uint32_t generation;   /* raised each time the library empties the buffer */
  uint32_t record_count; /* published records */
  uint32_t bytes_used;   /* published bytes of records */
  uint32_t replay_end;   /* replay only: records below this offset were put there by the replayer */
  uint32_t trace_all;    /* written by the recorder alone (0 at init): non-zero while every call of
                            the thread must be seen by it (a tracer in the recording follows the
                            thread; seccomp strict mode, which rrx enforces). The library then
                            buffers nothing: each call is made from its own site, traced. A memory
                            write of the event at which the recorder changes it, so replay changes
                            it at the same point. */
  uint32_t replay_out;     /* replay only: where the library copies the next output write's bytes */
  uint32_t replay_out_end; /* replay only: the end of that area (offsets in the records area) */
  uint8_t desched_armed; /* the library: 1 from before it arms the desched event to after it disarms it
                            ("Desched" below); the call in flight is desched_nr, its arguments in its registers */
  uint8_t reserved;      /* 0 */
  uint16_t desched_nr;   /* the library: the number of the call in flight while desched_armed */
};
#define RRX_BUFFER_MAGIC 0x42585252u /* "RRXB" */
/* An empty buffer's header, as the library writes it at a thread's first
 * call and the recorder's early set-up at the loader's ("Early set-up"). */
static inline void rrx_init_buffer_header(struct rrx_buffer_header* h, uint32_t buffer_bytes) {
  h->magic = RRX_BUFFER_MAGIC;
  h->version = RRX_SYSCALLBUF_VERSION;
  h->header_size = sizeof *h;
  h->capacity = buffer_bytes - sizeof *h;
  h->generation = 0;
  h->record_count = 0;
  h->bytes_used = 0;
  h->replay_end = 0;
  h->trace_all = 0;
  h->replay_out = 0;
  h->replay_out_end = 0;
  h->desched_armed = 0;
  h->reserved = 0;
  h->desched_nr = 0;
}

/* One buffered call. `size` covers the whole record, strings and outputs
 * included, and is a multiple of 8. First `string_count` x (struct
 * rrx_buffer_string, then `len` bytes padded to 8), in the order of their
 * arguments: the path argument as it was before the call (without its NUL;
 * replay compares it, `rrx dump` shows it), or the input a rule names
 * (in_arg, in_len bytes: rt_sigaction's act), copied after the call when it
 * succeeded (what the kernel read: the recorder applies it to its model of
 * the thread's signal state). Then `output_count` x (struct rrx_buffer_output, then `len` bytes
 * padded to 8): the memory the kernel wrote, copied right after the call
 * (absent when the call failed). */
struct rrx_buffer_record {
  uint32_t size;
  uint16_t output_count;
  uint8_t string_count;
  uint8_t flags; /* RRX_RECORD_*: 0, or where the bytes of a write went */
  int64_t nr;
  uint64_t args[6];
  int64_t ret; /* rax after the call: the result or -errno */
  uint32_t data_crc; /* with RRX_RECORD_DATA_CRC: the CRC-32C of the bytes the call sent */
  uint32_t reserved; /* 0; in a fed record marked RRX_RECORD_ON_FD: the fd to make the call with */
};
/* A buffered write to the same file as rrx's own stdout / stderr (which the
 * library cannot block on: a regular file, /dev/null, a non-blocking pipe...):
 * the recorder marks its event as output (trace kSyscallToOutput), and replay
 * writes the bytes again to its own stdout / stderr. */
#define RRX_RECORD_TO_STDOUT 1u
#define RRX_RECORD_TO_STDERR 2u
/* A call that sent bytes (the rule's `sends`: write, pwrite64, writev) and
 * succeeded: data_crc is the CRC-32C of the `ret` bytes it sent, as the
 * recorder's digest of a traced call's (core/output_digest.h; the event's
 * dataCrc). On replay the library compares it with the CRC of the bytes the
 * replayed program passes before it takes the record: other bytes (a program
 * that computed other output) make it make the call instead, and the
 * replayer reports the divergence at that stop, with the bytes. */
#define RRX_RECORD_DATA_CRC 4u
/* In a record the replayer feeds (never one the library writes): the
 * library makes the call for real from RRX_REPLAY_EXEC_IP (an mmap without
 * MAP_FIXED at the recorded address, with MAP_FIXED_NOREPLACE) and takes the
 * record when the kernel's result is the recorded one; else it withdraws
 * the feed and makes the call the ordinary way, where the replayer sees the
 * divergence (each of RRX_REPLAY_EXEC_CALLS gives the same result when made
 * twice). */
#define RRX_RECORD_EXECUTE 8u
/* A pwrite64 to a shared object (a file some recorded process maps shared,
 * RRX_FD_WRITE_OBJECT), on an fd without O_APPEND: its `ret` bytes went to
 * the object at its offset (the recorder makes the object's change of it, a
 * trace FileWrite marked `sent`: the bytes are the call's own, which its
 * data crc checks on replay, and are not stored). */
#define RRX_RECORD_OBJECT_WRITE 16u /* its `reserved`: 1 + the file's index in the file facts' shared list */
/* In a record the replayer feeds, with RRX_RECORD_EXECUTE: the call is made
 * with `reserved` as its fd (argument 0): a pwrite64 to the replay's copy of
 * the shared object the recorded call wrote (replay/shared_memory.h), an fd
 * the replayer opened in the process; the program's fd names nothing there. */
#define RRX_RECORD_ON_FD 32u
#define RRX_RECORD_STREAM_MASK (RRX_RECORD_TO_STDOUT | RRX_RECORD_TO_STDERR)
struct rrx_buffer_output {
  uint64_t addr;
  uint64_t len;
};
struct rrx_buffer_string {
  uint32_t arg; /* the argument's index */
  uint32_t len;
};
/* Longer paths are not buffered (the call goes traced). */
#define RRX_MAX_PATH_BYTES 4096u

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
 * vfork, rt_sigreturn and blocking calls behave exactly as at the site.
 *
 * The hook frame: what rrx_hook_entry pushes on the alternate stack before it
 * calls the library's C code, at these offsets from its rsp at that call (the
 * C code's first frame holds RRX_HOOK_RETURN_SLOT's address as its return
 * address, and the program's rbp as its saved rbp, 16 bytes below): the
 * program's registers at the site. The replayer shows gdb these (with the
 * site's pc) while the thread is inside the hook (replay/site_view.h). */
#define RRX_HOOK_FRAME_R9 8u
#define RRX_HOOK_FRAME_R8 16u
#define RRX_HOOK_FRAME_R10 24u
#define RRX_HOOK_FRAME_RDX 32u
#define RRX_HOOK_FRAME_RSI 40u
#define RRX_HOOK_FRAME_RDI 48u
#define RRX_HOOK_FRAME_R15 56u
#define RRX_HOOK_FRAME_R14 64u
#define RRX_HOOK_FRAME_R13 72u
#define RRX_HOOK_FRAME_R12 80u
#define RRX_HOOK_FRAME_RBP 88u
#define RRX_HOOK_FRAME_RBX 96u
#define RRX_HOOK_FRAME_RAX 104u /* the call's number */
#define RRX_HOOK_FRAME_RETURN 120u /* the stub's return point: its `lea rcx, [rip + d]` names the site */
#define RRX_HOOK_FRAME_FLAGS 128u
#define RRX_HOOK_FRAME_RSP 136u
#define RRX_HOOK_FRAME_BYTES 144u

/* Bytes per thread: the buffer (header included, mapped at the thread's first
 * buffered call) and the alternate stack (TLS). */
#define RRX_BUFFER_BYTES (1024u * 1024u)
#define RRX_ALT_STACK_BYTES (16u * 1024u)
/* Records larger than this are never buffered (the call goes traced). */
#define RRX_MAX_RECORD_BYTES (RRX_MAX_OUTPUT_BYTES + 256u)

#define RRX_ALIGN8(n) (((n) + 7u) & ~7u)

/* The calls the library buffers, when, and the memory each writes when it
 * succeeds. The syscall table's kBuffered column (its `buffered` rule and its
 * outputs) is the same set with the same rules and outputs:
 * tests/unit/syscallbuf_test.cpp checks that they agree, call by call, by
 * running rrx_buffered_outputs() below against sys::output_ranges(). */
/* A desched event's fd is the lowest free one from here ("Desched" below). */
#define RRX_DESCHED_MIN_FD 900u
enum rrx_buffer_when {
  RRX_BW_ALWAYS = 0,      /* never blocks */
  RRX_BW_FD_READ = 1,     /* reads fd arg 0: buffered only where it cannot block (the fd-class rules below) */
  RRX_BW_FD_WRITE = 2,    /* writes fd arg 0: likewise, and never on an fd the recorder wants traced */
  RRX_BW_OPEN = 3,        /* opens the path in arg `cond_arg`, flags in arg `cond_value`: not with O_TRUNC, and
                             not a FIFO or device (checked with a buffered stat first, unless O_PATH/O_DIRECTORY) */
  RRX_BW_ZERO = 4,        /* only when arg `cond_arg` is 0 (poll's and epoll_wait's timeout) */
  RRX_BW_ARG_EQ = 5,      /* only when (arg `cond_arg` & 0x7f... see cond_mask) == cond_value */
  RRX_BW_ARG_IN = 6,      /* only when arg `cond_arg` (as 32 bits) is one of `values` (fcntl's and ioctl's commands) */
  RRX_BW_SIGMASK = 7,     /* rt_sigprocmask: only when arg `cond_arg` (sigsetsize) is `cond_value` (8), and one
                             that may unblock (SIG_UNBLOCK, SIG_SETMASK with a set) only when no blocked signal is
                             pending (a buffered rt_sigpending first): see "Signal state" below */
  RRX_BW_MMAP_ANON = 8,   /* mmap: only when (arg `cond_arg` (flags) & cond_mask) == cond_value (private anonymous
                             memory) and arg 2 (prot) has no PROT_EXEC: memory that is not code */
  RRX_BW_FD_BELOW = 9,    /* only when arg `cond_arg` (an fd the call closes) is below cond_value
                             (RRX_DESCHED_MIN_FD: where rrx's desched events live, which the recorder refuses
                             to close, record/desched.h fd_closed_by) */
};
#define RRX_MAX_RULE_VALUES 8
/* How an output's size is found (a subset of sys::SizeFrom, same meaning). */
enum rrx_out_size {
  RRX_OUT_NONE = 0,
  RRX_OUT_FIXED = 1,     /* `n` bytes */
  RRX_OUT_RET = 2,       /* the return value's bytes; capped at argument `n` */
  RRX_OUT_ARG_TIMES = 3, /* argument `n` times `elem` bytes (poll) */
  RRX_OUT_RET_TIMES = 4, /* the return value times `elem` bytes (epoll_wait) */
};
struct rrx_buffered_out {
  int8_t arg; /* argument index of the pointer, -1: none */
  uint8_t size; /* enum rrx_out_size */
  uint16_t n;
  uint16_t elem;
};
/* Whether a call that may block is buffered all the same when the thread has
 * a desched event ("Desched" below): where its `when` rule says it could
 * block, it is made untraced with the event armed. */
enum rrx_buffer_desched {
  RRX_DS_NO = 0,
  RRX_DS_YES = 1,        /* whenever the rule says it could block (streams, a poll's timeout) */
  RRX_DS_FUTEX_WAIT = 2, /* futex: FUTEX_WAIT and FUTEX_WAIT_BITSET (op & 0x7f is 0 or 9) */
};
/* Whether a rule's desched column (enum rrx_buffer_desched) lets a call with
 * `args` be made as a desched call where the rule's own test says it could
 * block (its argument test fails: a timeout, a futex op; or its fd is a pipe
 * or socket). The one predicate the library (preload/buffered_calls.c) and
 * the recorder's check of each record (core/syscallbuf.cpp) both apply. */
static inline int rrx_desched_allows(uint8_t column, const uint64_t args[6]) {
  switch (column) {
    case RRX_DS_YES: return 1;
    case RRX_DS_FUTEX_WAIT: return (args[1] & 0x7f) == 0 /* FUTEX_WAIT */ || (args[1] & 0x7f) == 9 /* _BITSET */;
    default: return 0;
  }
}
struct rrx_buffered_call {
  int32_t nr;
  uint8_t when;     /* enum rrx_buffer_when */
  int8_t cond_arg;  /* RRX_BW_OPEN: the path argument; RRX_BW_ZERO/ARG_EQ: the argument tested */
  uint32_t cond_mask;  /* RRX_BW_ARG_EQ: (arg & cond_mask) == cond_value; RRX_BW_OPEN: the flags argument */
  uint32_t cond_value;
  uint8_t out_on_error; /* outputs also when the call fails (poll: kOutOnError) */
  struct rrx_buffered_out out[2];
  int8_t path_arg; /* the argument that is a path, recorded as a string; -1: none */
  uint8_t desched; /* enum rrx_buffer_desched */
  uint32_t values[RRX_MAX_RULE_VALUES]; /* RRX_BW_ARG_IN: the argument's values (the first `cond_value` of them) */
  int8_t in_arg;   /* with in_len: the argument that points to an input the record holds ("Signal state") */
  uint16_t in_len; /* the input's bytes; 0: the call has none */
  uint8_t sends;   /* enum rrx_sends: the bytes the call sends, which its record's data_crc covers */
};
/* What a buffered call sends (the syscall table's `sends` column, for the
 * rows the library buffers): after a success, the first `ret` bytes of: */
enum rrx_sends {
  RRX_SENDS_NONE = 0,
  RRX_SENDS_BUF = 1,   /* the buffer at argument 1 (write, pwrite64) */
  RRX_SENDS_IOVEC = 2, /* the iovecs at argument 1, argument 2 of them (writev) */
};
/* ---- Signal state: rt_sigaction and rt_sigprocmask, buffered ----
 * The recorder keeps a model of each thread's blocked mask and its process's
 * actions (record/signal_state.h), which it reads only at stops of the
 * thread (or, threads being serialized, while the thread is stopped): the
 * rdtsc trap's forced SIGSEGV (its side effects undone), handler delivery,
 * PR_GET_TSC, a tracer's SIGCHLD. Every stop flushes the thread's buffer
 * first, and the flush applies each record of these calls to the model in
 * order: the act or new mask (the record's input, in_arg), or what a query
 * wrote (the action or mask in effect); so the model is exact wherever it is
 * read, and no signal number has to stay traced for it (SIGSEGV, SIGTRAP,
 * SIGSYS and the desched signal included: the kernel's handling of them is
 * the same whoever made the call). A call that failed with EFAULT may have
 * changed the state before its output's copy faulted: the library follows
 * it with a buffered query (the same call, no input, its output to the
 * library's stack). What must stay traced: an rt_sigprocmask that unblocks
 * a pending signal, which the kernel delivers as the call returns; made
 * untraced, its signal-delivery stop would come inside the library, where
 * the recorder holds asynchronous signals to the next syscall boundary
 * (late); traced, the recorder delivers it at the call's exit stop, as
 * natively (RRX_BW_SIGMASK). Replay runs both calls for real (their replay
 * policy is Execute: handlers are really delivered there): a stretch of
 * stop-free calls ends before one, which stops at the untraced instruction
 * and is made and checked by the replayer (replay/syscallbuf_replay.cpp). */
/* A call may have several rules, one after the other in RRX_BUFFERED_CALLS
 * (fcntl: commands that write nothing, commands that write a struct flock):
 * the first whose argument test (RRX_BW_ZERO, _ARG_EQ, _ARG_IN) holds applies
 * (the call is buffered plainly); else, when the thread has a desched event,
 * the first whose desched column allows the call (rrx_desched_allows: it is
 * made with the event armed); else the call is traced. The syscall table's
 * row has one rule, the union: RRX_BW_ARG_IN with every value of the
 * library's rules, and their desched column (which all of a call's rules share). */
#define RRX_OUT0 {{-1, RRX_OUT_NONE, 0, 0}, {-1, RRX_OUT_NONE, 0, 0}}
#define RRX_FIXED(a, len) {{a, RRX_OUT_FIXED, len, 0}, {-1, RRX_OUT_NONE, 0, 0}}
#define RRX_RET(a, cap) {{a, RRX_OUT_RET, cap, 0}, {-1, RRX_OUT_NONE, 0, 0}}
#define RRX_STAT_BYTES 144
#define RRX_STATX_BYTES 256
#define RRX_BUFFERED_CALLS                                                                     \
  {0, RRX_BW_FD_READ, 0, 0, 0, 0, RRX_RET(1, 2), -1, RRX_DS_YES},               /* read */                     \
  {1, RRX_BW_FD_WRITE, 0, 0, 0, 0, RRX_OUT0, -1, RRX_DS_YES, {0}, -1, 0, RRX_SENDS_BUF}, /* write */            \
  {2, RRX_BW_OPEN, 0, 1, 0, 0, RRX_OUT0, 0},                       /* open(path, flags) */        \
  {3, RRX_BW_FD_BELOW, 0, 0, RRX_DESCHED_MIN_FD, 0, RRX_OUT0, -1},  /* close */                    \
  {4, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_FIXED(1, RRX_STAT_BYTES), 0}, /* stat */                     \
  {5, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_FIXED(1, RRX_STAT_BYTES), -1}, /* fstat */                    \
  {6, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_FIXED(1, RRX_STAT_BYTES), 0}, /* lstat */                    \
  {7, RRX_BW_ZERO, 2, 0, 0, 1, {{0, RRX_OUT_ARG_TIMES, 1, 8}, {-1, RRX_OUT_NONE, 0, 0}}, -1, RRX_DS_YES}, /* poll, timeout 0 */ \
  {8, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, -1},                     /* lseek */                    \
  {9, RRX_BW_MMAP_ANON, 3, 0x2fu, 0x22u, 0, RRX_OUT0, -1},         /* mmap(MAP_PRIVATE | MAP_ANONYMOUS), not PROT_EXEC */ \
  {10, RRX_BW_ARG_EQ, 2, 4u, 0, 0, RRX_OUT0, -1},                   /* mprotect without PROT_EXEC (with it, rdtsc sites may need patching first) */ \
  {11, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, -1},                    /* munmap */                   \
  {12, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, -1},                    /* brk */                      \
  {13, RRX_BW_ARG_IN, 3, 0, 1, 0, RRX_FIXED(2, 32), -1, RRX_DS_NO, {8}, 1, 32}, /* rt_sigaction(sig, act, old, 8): act recorded */ \
  {14, RRX_BW_SIGMASK, 3, 0, 8, 0, {{2, RRX_OUT_ARG_TIMES, 3, 1}, {-1, RRX_OUT_NONE, 0, 0}}, -1, RRX_DS_NO, {0}, 1, 8}, /* rt_sigprocmask(how, set, old, 8) */ \
  {16, RRX_BW_ARG_IN, 1, 0, 1, 0, RRX_FIXED(2, 4), -1, RRX_DS_NO, {0x541b /* FIONREAD */}},                  /* ioctl */ \
  {16, RRX_BW_ARG_IN, 1, 0, 1, 0, RRX_FIXED(2, 36), -1, RRX_DS_NO, {0x5401 /* TCGETS: the kernel's struct termios */}}, \
  {16, RRX_BW_ARG_IN, 1, 0, 1, 0, RRX_FIXED(2, 8), -1, RRX_DS_NO, {0x5413 /* TIOCGWINSZ */}},                         \
  {16, RRX_BW_ARG_IN, 1, 0, 3, 0, RRX_OUT0, -1, RRX_DS_NO, {0x5421 /* FIONBIO */, 0x5450 /* FIONCLEX */, 0x5451 /* FIOCLEX */}}, \
  {17, RRX_BW_FD_READ, 0, 0, 0, 0, RRX_RET(1, 2), -1},              /* pread64 */                  \
  {18, RRX_BW_FD_WRITE, 0, 0, 0, 0, RRX_OUT0, -1, RRX_DS_NO, {0}, -1, 0, RRX_SENDS_BUF}, /* pwrite64 */        \
  {20, RRX_BW_FD_WRITE, 0, 0, 0, 0, RRX_OUT0, -1, RRX_DS_YES, {0}, -1, 0, RRX_SENDS_IOVEC}, /* writev */        \
  {21, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 0},                    /* access */                   \
  {28, RRX_BW_ARG_IN, 2, 0, 8, 0, RRX_OUT0, -1, RRX_DS_NO, {0 /* MADV_NORMAL */, 1 /* MADV_RANDOM */, 2 /* MADV_SEQUENTIAL */, \
   3 /* MADV_WILLNEED */, 10 /* MADV_DONTFORK */, 11 /* MADV_DOFORK */, 14 /* MADV_HUGEPAGE */, 15 /* MADV_NOHUGEPAGE */}}, \
  {28, RRX_BW_ARG_IN, 2, 0, 4, 0, RRX_OUT0, -1, RRX_DS_NO, {16 /* MADV_DONTDUMP */, 17 /* MADV_DODUMP */, 18 /* MADV_WIPEONFORK */, \
   19 /* MADV_KEEPONFORK */}}, /* madvise: advice that changes no byte of the memory (not DONTNEED, FREE, REMOVE...) */ \
  {32, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, -1},                    /* dup */                      \
  {33, RRX_BW_FD_BELOW, 1, 0, RRX_DESCHED_MIN_FD, 0, RRX_OUT0, -1}, /* dup2 (the library forgets the new number's kind) */ \
  {39, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, -1},                    /* getpid */                   \
  {63, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_FIXED(0, 390), -1},           /* uname */                    \
  {72, RRX_BW_ARG_IN, 1, 0, 8, 0, RRX_OUT0, -1, RRX_DS_NO, {0 /* F_DUPFD */, 1 /* F_GETFD */, 2 /* F_SETFD */, 3 /* F_GETFL */, \
   4 /* F_SETFL */, 6 /* F_SETLK */, 37 /* F_OFD_SETLK */, 1030 /* F_DUPFD_CLOEXEC */}}, /* fcntl */           \
  {72, RRX_BW_ARG_IN, 1, 0, 2, 0, RRX_FIXED(2, 32), -1, RRX_DS_NO, {5 /* F_GETLK */, 36 /* F_OFD_GETLK */}}, /* struct flock */ \
  {79, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_RET(0, 1), -1},               /* getcwd */                   \
  {80, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 0},                    /* chdir */                    \
  {81, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, -1},                   /* fchdir */                   \
  {82, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 0},                    /* rename (the first path) */  \
  {83, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 0},                    /* mkdir */                    \
  {84, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 0},                    /* rmdir */                    \
  {86, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 0},                    /* link (the first path) */    \
  {87, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 0},                    /* unlink */                   \
  {88, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 0},                    /* symlink (the target) */     \
  {89, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_RET(1, 2), 0},               /* readlink */                 \
  {90, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 0},                    /* chmod */                    \
  {91, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, -1},                   /* fchmod */                   \
  {92, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 0},                    /* chown */                    \
  {93, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, -1},                   /* fchown */                   \
  {94, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 0},                    /* lchown */                   \
  {95, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, -1},                   /* umask */                    \
  {96, RRX_BW_ALWAYS, 0, 0, 0, 0, {{0, RRX_OUT_FIXED, 16, 0}, {1, RRX_OUT_FIXED, 8, 0}}, -1}, /* gettimeofday */ \
  {98, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_FIXED(1, 144), -1},          /* getrusage */                \
  {99, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_FIXED(0, 112), -1},          /* sysinfo */                  \
  {102, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, -1},                   /* getuid */                   \
  {104, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, -1},                   /* getgid */                   \
  {107, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, -1},                   /* geteuid */                  \
  {108, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, -1},                   /* getegid */                  \
  {110, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, -1},                   /* getppid */                  \
  {127, RRX_BW_ALWAYS, 0, 0, 0, 0, {{0, RRX_OUT_ARG_TIMES, 1, 1}, {-1, RRX_OUT_NONE, 0, 0}}, -1}, /* rt_sigpending(set, size) */ \
  {137, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_FIXED(1, 120), 0},          /* statfs */                   \
  {138, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_FIXED(1, 120), -1},         /* fstatfs */                  \
  {186, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, -1},                   /* gettid */                   \
  {201, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_FIXED(0, 8), -1},            /* time */                     \
  {202, RRX_BW_ARG_EQ, 1, 0x7fu, 1, 0, RRX_OUT0, -1, RRX_DS_FUTEX_WAIT},               /* futex(FUTEX_WAKE; WAIT) */       \
  {217, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_RET(1, 2), -1},              /* getdents64 */               \
  {228, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_FIXED(1, 16), -1},           /* clock_gettime */            \
  {229, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_FIXED(1, 16), -1},           /* clock_getres */             \
  {232, RRX_BW_ZERO, 3, 0, 0, 0, {{1, RRX_OUT_RET_TIMES, 2, 12}, {-1, RRX_OUT_NONE, 0, 0}}, -1, RRX_DS_YES}, /* epoll_wait, timeout 0 */ \
  {257, RRX_BW_OPEN, 1, 2, 0, 0, RRX_OUT0, 1},                     /* openat(dirfd, path, flags) */ \
  {258, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 1},                   /* mkdirat */                  \
  {260, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 1},                   /* fchownat */                 \
  {262, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_FIXED(2, RRX_STAT_BYTES), 1}, /* newfstatat */             \
  {263, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 1},                   /* unlinkat */                 \
  {264, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 1},                   /* renameat (the first path) */ \
  {265, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 1},                   /* linkat (the first path) */  \
  {266, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 0},                   /* symlinkat (the target) */    \
  {267, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_RET(2, 3), 1},              /* readlinkat */               \
  {268, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 1},                   /* fchmodat */                 \
  {269, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 1},                   /* faccessat */                \
  {280, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 1},                   /* utimensat (path may be NULL: the fd) */ \
  {292, RRX_BW_FD_BELOW, 1, 0, RRX_DESCHED_MIN_FD, 0, RRX_OUT0, -1}, /* dup3 */                    \
  {302, RRX_BW_ZERO, 2, 0, 0, 0, RRX_FIXED(3, 16), -1},            /* prlimit64(pid, res, NULL, old): a query */ \
  {316, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 1},                   /* renameat2 (the first path) */ \
  {318, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_RET(0, 1), -1},              /* getrandom (waits only before the boot's crng is ready) */ \
  {332, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_FIXED(4, RRX_STATX_BYTES), 1}, /* statx */                 \
  {439, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 1},                   /* faccessat2 */ \
  {452, RRX_BW_ALWAYS, 0, 0, 0, 0, RRX_OUT0, 1}                    /* fchmodat2 */

/* A memory range a buffered call wrote. */
struct rrx_out_range {
  uint64_t addr;
  uint64_t len;
};

/* The ranges call `c` with `args` wrote, given its result `ret` (rax): at most
 * two; a null pointer and an empty range write nothing. Shared by the library
 * (which copies them into the record) and the unit test (which compares them
 * with the syscall table's). */
static inline unsigned rrx_buffered_outputs(const struct rrx_buffered_call* c, const uint64_t args[6], int64_t ret,
                                            struct rrx_out_range out[2]) {
  unsigned count = 0;
  const int failed = ret < 0 && ret >= -4095;
  if (failed && !c->out_on_error) return 0;
  for (int i = 0; i < 2; ++i) {
    const struct rrx_buffered_out* o = &c->out[i];
    if (o->arg < 0 || args[o->arg] == 0) continue;
    uint64_t len = 0;
    switch (o->size) {
      case RRX_OUT_FIXED: len = o->n; break;
      case RRX_OUT_RET:
        if (failed) continue;
        len = (uint64_t)ret;
        if (len > args[o->n]) len = args[o->n];
        break;
      case RRX_OUT_ARG_TIMES: len = args[o->n] * o->elem; break;
      case RRX_OUT_RET_TIMES: {
        if (failed) continue;
        uint64_t k = (uint64_t)ret;
        if (k > args[o->n]) k = args[o->n];
        len = k * o->elem;
        break;
      }
      default: continue;
    }
    if (len == 0) continue;
    out[count].addr = args[o->arg];
    out[count].len = len;
    ++count;
  }
  return count;
}

/* The largest output a record may hold: a call that could write more (read
 * with a larger count) goes traced. */
#define RRX_MAX_OUTPUT_BYTES (128u * 1024u)

/* ---- Calls that may block (RRX_BW_FD_READ / RRX_BW_FD_WRITE) ----
 * Threads are serialized by the recorder, so a buffered call that blocked would
 * stop the whole tree. The library buffers such a call only where it cannot
 * block, decided by buffered calls of its own (so the replay, which runs the
 * same code on the recorded results, decides the same):
 *  - by the kind of file (an fstat, cached per fd): regular files,
 *    directories, block devices and /dev/null, zero, full, random, urandom
 *    never block (RRX_FD_NEVER_BLOCKS); pipes and sockets are streams
 *    (RRX_FD_STREAM): buffered when fcntl(F_GETFL) has O_NONBLOCK, or, for a
 *    read, when ioctl(FIONREAD) says data is there (a read then returns what is
 *    there); any other fd (terminals, other devices, eventfd & co.) stays traced;
 *  - a write also asks the recorder once per fd (RRX_CALL_FD_INFO, traced):
 *    writes to a file some recorded process maps shared, or to /proc/PID/mem
 *    stay traced, but a pwrite64 to a shared file the file facts list, on
 *    an fd without O_APPEND (a buffered fcntl(F_GETFL) when the class is
 *    made), which is buffered (RRX_RECORD_OBJECT_WRITE); those to
 *    rrx's own stdout/stderr are buffered with the record's RRX_RECORD_TO_*
 *    flag (replay re-emits them).
 * The cache is per process, in the state page below; it is valid while
 * fd_epoch is what it was filled at. The recorder raises fd_epoch (a memory
 * write recorded with the event, so the replay raises it at the same point)
 * after every traced call the row marks kFdEpoch (close, dup2, clone...:
 * anything that may give an fd number another file), and when a file
 * becomes a shared object; the library clears the entry of an fd it
 * closes, and of one whose flags it sets (fcntl F_SETFL: O_APPEND). */
#define RRX_STATE_ADDR (RRX_PAGE_ADDR + RRX_PAGE_SIZE)
#define RRX_FD_CACHE_SIZE 1024u
/* What the recorder tells the library of the files writes may go to, so that
 * the first write to an fd need not ask (RRX_CALL_FD_INFO, a traced call):
 * written by the recorder at each RRX_CALL_INIT_BUFFER and, in every process,
 * when a file becomes a shared object (memory writes of those events, so the
 * replay has the same). With `known`, and no more shared files than the list
 * holds, the library decides a write's fd itself from a buffered fstat, by the
 * recorder's rules (device and inode): a regular file mapped shared by some
 * recorded process stays traced; rrx's stdout or stderr is output (fd 2 is
 * stderr when both are the same file); anything else is buffered; except a
 * regular file on procfs (/proc/PID/mem: fstatfs), which it asks about. */
#define RRX_MAX_SHARED_FILES 32u
struct rrx_file_facts {
  uint32_t known;          /* 1: the fields below are filled */
  uint32_t shared_files;   /* regular files some recorded process maps shared; the first
                              RRX_MAX_SHARED_FILES are listed below (more: ask about every fd) */
  uint64_t output_dev[2];  /* rrx's stdout, stderr: st_dev, st_ino (ino 0: closed) */
  uint64_t output_ino[2];
  uint64_t shared_dev[RRX_MAX_SHARED_FILES]; /* in the order files became shared objects: a file keeps its index */
  uint64_t shared_ino[RRX_MAX_SHARED_FILES];
  uint32_t crc32_insn;     /* 1: the CPU has SSE4.2's crc32 instruction, which the library's
                              CRC-32C of sent bytes (RRX_RECORD_DATA_CRC) then uses (the library
                              makes no cpuid of its own: a recorded event where cpuid traps) */
  uint32_t desched_floor;  /* 0: no desched event in the recording yet; else none has a lower fd
                              (RRX_BW_FD_BELOW: the library leaves a close of an fd from here to
                              the recorder, which refuses to close an event's) */
};
struct rrx_process_state {
  uint32_t fd_epoch;    /* raised by the recorder */
  uint32_t cache_epoch; /* the fd_epoch that fd_class was filled at (the library's) */
  uint8_t fd_class[RRX_FD_CACHE_SIZE];
  struct rrx_file_facts facts; /* written by the recorder */
  uint32_t trace_all; /* written by the recorder alone: non-zero once the process has a seccomp mode of
                         its own (strict, or a filter: record/recorder.h, must_see_every_call). The
                         program's filter meets every call the library makes, its private calls
                         too (a filter that kills what it does not know kills RRX_CALL_INIT_BUFFER),
                         and the recorder takes the filter's verdict on each call at the call's
                         stop. So the library then makes no call of its own: it sets up no
                         buffer, buffers nothing; each call goes back to its site's stub, traced.
                         (After an exec the filters stay: the recorder gives such an image no
                         library.) A memory write of the event that installed the mode. */
  uint32_t pad;
  /* The library's, beside fd_class: for an fd whose class has RRX_FD_WRITE_OBJECT, 1 + the index of its
     file in facts.shared_dev / shared_ino when the class was made (a record of RRX_RECORD_OBJECT_WRITE
     holds it in `reserved`: which object the recorder's change is of, the fd may be closed by then). */
  uint8_t fd_object[RRX_FD_CACHE_SIZE];
};
#ifdef __cplusplus
static_assert(sizeof(struct rrx_process_state) <= RRX_PAGE_SIZE - 16, "the state page");
#else
_Static_assert(sizeof(struct rrx_process_state) <= RRX_PAGE_SIZE - 16, "the state page");
#endif

/* ---- Early set-up: the dynamic loader's calls buffered too ----
 * The loader's calls before the library's constructor (the libraries'
 * openat, read, fstat, pread64, close, the RELRO mprotects: some 30 per
 * exec) would each be a stop. So when the loader has mapped the library
 * (the exit of the mmap of its last, writable segment: its code and
 * constants are in place, nothing of it relocated, no TLS yet), the
 * recorder maps [RRX_PAGE_ADDR, + RRX_EARLY_MAP_BYTES) itself: the rrx page
 * (r-x, with its instructions and the hook slots, from rrx_hook_table), the
 * state page, this thread's thread-locals at RRX_EARLY_TL_ADDR with its
 * alternate stack below RRX_EARLY_ALT_STACK_TOP, and its buffer at
 * RRX_EARLY_BUFFER_ADDR; it writes RRX_EARLY_TL_ADDR into
 * RRX_EARLY_TL_SLOT and 1 into the table's `early`, and patches the sites
 * earlier processes of the program patched (the loader's). All of it is one
 * trace event (schema PreloadEarly), which the replay applies at the same
 * point. While RRX_EARLY_TL_SLOT is not 0 the library's hook entry and
 * replay entry use the thread-locals there, by absolute address (no %fs, no
 * relocated GOT entry: the loader has not set up TLS or relocated the
 * library yet). The library's constructor finds the rrx page taken (the
 * table's `early` says by whom), moves the thread-locals into its TLS,
 * clears the slot and makes RRX_CALL_INIT_BUFFER with the same buffer (the
 * recorder keeps its cursor, gives the thread its desched event and
 * patches the known sites of the libraries mapped since). A thread started
 * before that constructor (another library's constructor) would share the
 * early thread-locals: at such a clone's exit the recorder clears the slot
 * itself (a PreloadEarly event of that one write), and both threads set up
 * their TLS buffers at their next calls. */
#define RRX_EARLY_TL_SLOT (RRX_STATE_ADDR + RRX_PAGE_SIZE - 8)
/* Where each thread's alternate stack starts relative to its thread pointer
 * (written by the library's constructor; RRX_ALT_STACK_SLOT of libraries
 * before version 15). */
#define RRX_STATE_ALT_STACK_SLOT (RRX_STATE_ADDR + RRX_PAGE_SIZE - 16)
/* The early pages, below the rrx page (the recorder's return-slot page is
 * above the state page, record/return_slot.h): the buffer, then the
 * thread-locals' page, then the alternate stack up to the rrx page. */
#define RRX_EARLY_ALT_STACK_TOP RRX_PAGE_ADDR
#define RRX_EARLY_TL_ADDR (RRX_PAGE_ADDR - RRX_ALT_STACK_BYTES - RRX_PAGE_SIZE)
#define RRX_EARLY_BUFFER_ADDR (RRX_EARLY_TL_ADDR - RRX_BUFFER_BYTES)
#define RRX_EARLY_MAP_ADDR RRX_EARLY_BUFFER_ADDR
#define RRX_EARLY_MAP_BYTES (RRX_PAGE_ADDR + 2u * RRX_PAGE_SIZE - RRX_EARLY_MAP_ADDR)
/* rrx_hook_table, an exported function symbol of the library (its bytes are
 * data): RRX_HOOK_TABLE_MAGIC, then the offsets from the table of
 * rrx_hook_entry, rrx_hook_entry_return and rrx_hook_entry_end, then
 * `early` (0 in the file). */
#define RRX_HOOK_TABLE_MAGIC (0x4c42545848525200ull | RRX_SYSCALLBUF_VERSION) /* "\0RRHXTBL" + version */
struct rrx_hook_table {
  uint64_t magic;
  uint64_t entry, entry_return, entry_end;
  uint64_t early;
};
#define RRX_PROC_SUPER_MAGIC 0x9fa0
#define RRX_FD_UNKNOWN 0u
#define RRX_FD_NEVER_BLOCKS 1u
#define RRX_FD_STREAM 2u
#define RRX_FD_TRACED 3u
#define RRX_FD_KIND_MASK 3u
#define RRX_FD_WRITE_ASKED 4u  /* RRX_CALL_FD_INFO was asked about the fd */
#define RRX_FD_WRITE_TRACED 8u /* and said its writes stay traced */
#define RRX_FD_WRITE_STDOUT 16u /* and said it is rrx's stdout (RRX_FD_INFO_STDOUT) */
#define RRX_FD_WRITE_STDERR 32u /* and said it is rrx's stderr */
#define RRX_FD_WRITE_OBJECT 64u /* with RRX_FD_WRITE_TRACED: a shared file the file facts list (fd_object),
                                   opened without O_APPEND: its pwrite64 is buffered (RRX_RECORD_OBJECT_WRITE) */

/* ---- Desched: calls that may block, buffered with a context-switch event ----
 * Where the recorder's start-up probe finds that a per-thread software
 * PERF_COUNT_SW_CONTEXT_SWITCHES event counts (as root, or with
 * perf_event_paranoid <= 1), each thread gets one (RRX_CALL_DESCHED_FD: the
 * recorder opens it in the thread's fd table at a high number, close-on-exec,
 * disabled, sample_period 1, O_ASYNC, F_SETSIG RRX_DESCHED_SIGNAL, owner the
 * thread). A call the rules above would leave traced because it could block
 * (a read or write of a pipe or socket, a poll or epoll_wait with a timeout,
 * a futex wait; the `desched` column) is then made untraced all the same:
 *   desched_nr = the call's number, desched_armed = 1, arm (PERF_EVENT_IOC_REFRESH 1, from the
 *   recording-only instruction: the first switch disables the event again, so the stop that follows
 *   raises no second signal), the call, disarm (PERF_EVENT_IOC_DISABLE), desched_armed = 0;
 *   if the call returned RRX_DESCHED_GIVEN_BACK: publish nothing and make the call traced, as the
 *   library makes any call it does not buffer (at the patched site's own syscall instruction, on the
 *   program's stack, or from the traced instruction for C callers);
 *   else publish the record as for any buffered call.
 * When the thread is switched out inside that window (it blocked, or was
 * preempted), the kernel signals it with RRX_DESCHED_SIGNAL, which the
 * recorder always suppresses (the program never sees it). The recorder
 * disables the event and, when the call was interrupted (or, resumed to
 * its entry, had not been made yet: it is then skipped), makes it return
 * RRX_DESCHED_GIVEN_BACK, recorded as an event of its own (a syscall event
 * at the untraced instruction with that result): the call is then made
 * again as an ordinary traced call, where the other threads run while it
 * waits and a signal handler runs on the program's own stack. A call that
 * completed (a spurious deschedule: the thread was only preempted) is
 * recorded in the buffer as usual, at the cost of one stop. Records
 * published before the call are taken at that stop, so the events keep
 * their order. The replay makes the same calls: the arm and disarm do
 * nothing there, and the recorded event answers RRX_DESCHED_GIVEN_BACK. */
#define RRX_DESCHED_SIGNAL 16 /* SIGSTKFLT: unused by Linux and by programs */
/* What a call the recorder took back returns: no syscall returns it (errors are -4095..-1). */
#define RRX_DESCHED_GIVEN_BACK (-4096l)
#define RRX_PERF_EVENT_IOC_DISABLE 0x2401u
#define RRX_PERF_EVENT_IOC_REFRESH 0x2402u /* with 1: enabled until its first overflow, which disables it */

#endif /* RRX_SYSCALLBUF_ABI_H */
