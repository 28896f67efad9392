/* librrx_preload.so: records syscalls in-process into a per-thread buffer
 * (src/core/syscallbuf_abi.h) so that they cost no ptrace stop. Entered through
 * rrx_hook_entry from the syscall sites the recorder patched (record/site_patch.h;
 * the first call at each site is traced and patches it), or rrx_syscall_hook
 * from C; the recorder reads the buffer at every stop of the thread and writes
 * one event per call. */
#include "core/syscallbuf_abi.h"
#include "preload/buffered_calls.h"
#include "preload/replay.h"

#include <stddef.h>

#define EXPORT __attribute__((visibility("default")))

enum {
  NR_lseek = 8, NR_fstat = 5, NR_mmap = 9, NR_mprotect = 10, NR_munmap = 11, NR_getpid = 39, NR_uname = 63,
  NR_gettimeofday = 96, NR_getuid = 102, NR_getgid = 104, NR_geteuid = 107, NR_getegid = 108, NR_getppid = 110,
  NR_gettid = 186, NR_time = 201, NR_clock_gettime = 228, NR_clock_getres = 229,
};

/* Our own memcpy and memset: anything the compiler emits binds here, never to libc. */
__attribute__((visibility("hidden"))) void* memcpy(void* dst, const void* src, size_t n) {
  unsigned char* d = dst;
  const unsigned char* s = src;
  while (n--) *d++ = *s++;
  return dst;
}
__attribute__((visibility("hidden"))) void* memset(void* dst, int c, size_t n) {
  unsigned char* d = dst;
  while (n--) *d++ = (unsigned char)c;
  return dst;
}

/* Both reached from rrx_hook_entry by their TLS offsets (offsets in rrx_thread_locals: below). */
__attribute__((visibility("hidden"))) __thread struct rrx_thread_locals tl __attribute__((tls_model("initial-exec")));
__attribute__((visibility("hidden"))) __thread char alt_stack[RRX_ALT_STACK_BYTES]
    __attribute__((tls_model("initial-exec"), aligned(16)));
_Static_assert(__builtin_offsetof(struct rrx_thread_locals, saved_rsp) == 0, "hook entry");
_Static_assert(__builtin_offsetof(struct rrx_thread_locals, alt_stack_top) == 8, "hook entry");
_Static_assert(__builtin_offsetof(struct rrx_thread_locals, return_addr) == 32, "hook entry");
_Static_assert(__builtin_offsetof(struct rrx_thread_locals, raw) == 40, "hook entry");
_Static_assert(RRX_ALT_STACK_BYTES == 16384, "hook entry");
/* For the hook entries' asm, which runs before any relocation: the absolute addresses. */
#define RRX_EARLY_TL_SLOT_ASM "0x70001ff8"
#define RRX_EARLY_ALT_STACK_TOP_ASM "0x70000000"
_Static_assert(RRX_EARLY_TL_SLOT == 0x70001ff8ull && RRX_EARLY_ALT_STACK_TOP == 0x70000000ull, "hook entry");
static int page_ready; /* the rrx page holds its two instructions (process-wide) */

/* A syscall from right here: traced like any call of the program. */
static long inline_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
  register long r10 __asm__("r10") = a3;
  register long r8 __asm__("r8") = a4;
  register long r9 __asm__("r9") = a5;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

/* A syscall from one of the rrx page's instructions (`syscall; ret`). */
static long page_syscall(unsigned long insn, long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
  register long r10 __asm__("r10") = a3;
  register long r8 __asm__("r8") = a4;
  register long r9 __asm__("r9") = a5;
  long ret;
  __asm__ volatile("call *%%rcx"
                   : "=a"(ret), "+c"(insn)
                   : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                   : "r11", "memory");
  return ret;
}

static long traced_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
  if (!page_ready) return inline_syscall(nr, a0, a1, a2, a3, a4, a5);
  return page_syscall(RRX_PAGE_ADDR + RRX_TRACED_INSN_OFFSET, nr, a0, a1, a2, a3, a4, a5);
}

long rrx_traced_syscall(long nr, const uint64_t a[6]) {
  return traced_syscall(nr, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4], (long)a[5]);
}
/* The untraced syscall instruction, or on replay the recorded result (preload/replay.h). */
long rrx_untraced_syscall(long nr, const uint64_t a[6]) {
  return page_syscall((unsigned long)rrx_untraced_call, nr, (long)a[0], (long)a[1], (long)a[2], (long)a[3],
                      (long)a[4], (long)a[5]);
}

static int is_error(long ret) { return ret < 0 && ret >= -4095; }

extern char rrx_hook_entry[];
extern char rrx_hook_entry_return[];
extern char rrx_hook_entry_end[];

/* The recorder added rrx's LD_PRELOAD as the last entry of envp, its string
 * right after RRX_ENV_MARKER (record/preload_env.h); ld.so has read it. Take
 * it out so that the program's environment is its own: envp is the array on
 * the stack that environ points to (ld.so passes it to every constructor). */
__attribute__((constructor)) static void hide_preload_entry(int argc, char** argv, char** envp) {
  if (argc < 0 || !argv || envp != argv + argc + 1) return;
  char** e = envp;
  while (*e) ++e;
  if (e == envp) return;
  const char* last = e[-1];
  static const char kName[] = "LD_PRELOAD=";
  if (((uint64_t)last & 7) != 0 || *(const uint64_t*)(last - 8) != RRX_ENV_MARKER) return;
  for (size_t i = 0; i + 1 < sizeof kName; ++i) {
    if (last[i] != kName[i]) return;
  }
  e[-1] = 0;
}

/* The thread-locals of the calling thread: the early ones while the
 * recorder's early set-up is in effect (core/syscallbuf_abi.h, "Early
 * set-up": no TLS before the loader sets it up), else the TLS ones. Only
 * where the rrx page and the state page are there (page_ready, or a patched
 * site's hook entry). */
static inline struct rrx_thread_locals* cur_tl(void) {
  uint64_t early = *(const volatile uint64_t*)RRX_EARLY_TL_SLOT;
  return early ? (struct rrx_thread_locals*)early : &tl;
}

static void init_thread(struct rrx_thread_locals* T);

/* RRX_CALL_INIT_BUFFER for the buffer at p of thread-locals T's thread: from
 * now on the thread buffers its calls there, with its desched event where
 * the recorder gives one (core/syscallbuf_abi.h, "Desched"); or the
 * recorder said no (-errno): every call traced. */
static long register_buffer(struct rrx_thread_locals* T, long p) {
  long desched = traced_syscall(RRX_CALL_INIT_BUFFER, p, RRX_BUFFER_BYTES, RRX_SYSCALLBUF_VERSION, 0, 0, 0);
  if (desched < 0) {
    T->state = RRX_TL_DISABLED;
    return desched;
  }
  T->buffer = (uint64_t)p;
  T->state = RRX_TL_BUFFERED;
  /* 1 + the fd of the thread's desched event, 0 where the recorder uses none. */
  if (desched > 0 && desched <= 0x7fffffff) T->desched = (uint32_t)desched;
  return 0;
}
/* rrx_hook_table (below), by a hidden name: no GOT entry. */
extern const struct rrx_hook_table rrx_hook_table_here;

/* Where each thread's alternate stack is, for the replayer's view of a thread in a hook entry. */
static void publish_alt_stack(void) {
  uint64_t tp;
  __asm__("movq %%fs:0, %0" : "=r"(tp));
  *(volatile uint64_t*)RRX_STATE_ALT_STACK_SLOT = (uint64_t)alt_stack - tp; /* the same in every thread (static TLS) */
}

/* The recorder set the pages up when the loader had mapped the library
 * (rrx_hook_table.early): this thread's early thread-locals move into its
 * TLS, and RRX_CALL_INIT_BUFFER with the same buffer gets its desched event
 * (and the recorder patches the sites it knows in the libraries mapped since). */
static void adopt_early_setup(void) {
  publish_alt_stack();
  page_ready = 1;
  struct rrx_thread_locals* e = (struct rrx_thread_locals*)*(volatile uint64_t*)RRX_EARLY_TL_SLOT;
  if (!e) return; /* the recorder ended it (a thread started): each thread sets up at its first call */
  tl.buffer = e->buffer;
  tl.state = e->state;
  tl.desched = e->desched;
  *(volatile uint64_t*)RRX_EARLY_TL_SLOT = 0;
  if (tl.state == RRX_TL_BUFFERED) register_buffer(&tl, (long)tl.buffer);
}

__attribute__((constructor)) static void map_rrx_page(void) {
  const long MAP_PRIVATE_ANON = 0x02 | 0x20, MAP_FIXED_NOREPLACE = 0x100000, PROT_RW = 3, PROT_RX = 5;
  if (*(const volatile uint64_t*)&rrx_hook_table_here.early) {
    adopt_early_setup();
    return;
  }
  /* The rrx page, and after it the process state page (RRX_STATE_ADDR). */
  long p = inline_syscall(NR_mmap, (long)RRX_PAGE_ADDR, 2 * RRX_PAGE_SIZE, PROT_RW,
                          MAP_PRIVATE_ANON | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != (long)RRX_PAGE_ADDR) return; /* taken (or refused): every call stays traced */
  rrx_write_page_insns((uint8_t*)RRX_PAGE_ADDR);
  uint64_t entry = (uint64_t)rrx_hook_entry;
  memcpy((void*)RRX_HOOK_ENTRY_SLOT, &entry, sizeof entry);
  uint64_t back = (uint64_t)rrx_hook_entry_return;
  memcpy((void*)RRX_HOOK_RETURN_SLOT, &back, sizeof back);
  uint64_t end = (uint64_t)rrx_hook_entry_end;
  memcpy((void*)RRX_HOOK_END_SLOT, &end, sizeof end);
  publish_alt_stack();
  if (inline_syscall(NR_mprotect, (long)RRX_PAGE_ADDR, RRX_PAGE_SIZE, PROT_RX, 0, 0, 0) != 0) return;
  page_ready = 1;
  /* The main thread's buffer now, before the program runs: its set-up calls
   * (mmap, RRX_CALL_INIT_BUFFER) are not seen in the middle of the
   * program's first buffered call. Other threads set theirs up at their
   * first call. */
  init_thread(&tl);
}

/* First call of a thread: its buffer and alternate stack, and the recorder's yes or no. */
static void init_thread(struct rrx_thread_locals* T) {
  const long MAP_PRIVATE_ANON = 0x02 | 0x20, PROT_RW = 3;
  T->state = RRX_TL_DISABLED;
  long size = RRX_BUFFER_BYTES;
  long p = traced_syscall(NR_mmap, 0, size, PROT_RW, MAP_PRIVATE_ANON, -1, 0);
  if (is_error(p)) return;
  rrx_init_buffer_header((struct rrx_buffer_header*)p, RRX_BUFFER_BYTES);
  if (register_buffer(T, p) < 0) traced_syscall(NR_munmap, p, size, 0, 0, 0, 0);
}

/* The desched event's arm or disarm: an ioctl from the rrx page's
 * recording-only instruction (a call that does nothing in the replay). Its
 * result is not looked at, and rcx, r11 and the flags are left the same
 * either way. */
void rrx_desched_ioctl(uint32_t fd, unsigned long request, unsigned long arg) {
  register long rax __asm__("rax") = 16; /* ioctl */
  register long rdx __asm__("rdx") = (long)arg;
  __asm__ volatile("call *%[insn]\n\t"
                   "xorl %%ecx, %%ecx\n\t"
                   "xorl %%r11d, %%r11d"
                   : "+a"(rax), "+d"(rdx)
                   : [insn] "r"((unsigned long)(RRX_PAGE_ADDR + RRX_RECORDING_ONLY_INSN_OFFSET)), "D"((long)fd),
                     "S"(request)
                   : "rcx", "r11", "memory", "cc");
}

/* The rule for `nr` with `args` in thread-locals T's thread now, or NULL:
 * not buffered (the first call of a thread sets it up). */
static const struct rrx_buffered_call* buffer_for(struct rrx_thread_locals* T, long nr, const uint64_t args[6]) {
  if (((const volatile struct rrx_process_state*)RRX_STATE_ADDR)->trace_all) return NULL;
  if (T->state == RRX_TL_UNINIT) init_thread(T);
  if (T->state != RRX_TL_BUFFERED || T->locked) return NULL;
  if (((const volatile struct rrx_buffer_header*)T->buffer)->trace_all) return NULL;
  return rrx_buffered_rule(nr, args, T->desched);
}

/* The hook for C callers: the call `nr` with its six arguments; returns rax.
 * One transaction per call: lock, decide (buffered_calls.c: the rule, and
 * whether it could block), call from the untraced instruction and record, or
 * make it traced from the rrx page, unlock. */
__attribute__((visibility("hidden"))) long hook_impl(long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
  if (!page_ready) return inline_syscall(nr, a0, a1, a2, a3, a4, a5);
  struct rrx_thread_locals* T = cur_tl();
  const uint64_t args[6] = {(uint64_t)a0, (uint64_t)a1, (uint64_t)a2, (uint64_t)a3, (uint64_t)a4, (uint64_t)a5};
  const struct rrx_buffered_call* c = buffer_for(T, nr, args);
  if (!c) return traced_syscall(nr, a0, a1, a2, a3, a4, a5);
  T->locked = 1;
  struct rrx_buffer_header* h = (struct rrx_buffer_header*)T->buffer;
  uint8_t flags;
  int how = rrx_may_buffer(h, c, args, T->desched, &flags);
  long ret = how ? rrx_record_call(h, c, args, flags, how == RRX_BUFFER_DESCHED ? T->desched : 0)
                 : RRX_DESCHED_GIVEN_BACK;
  if (ret == RRX_DESCHED_GIVEN_BACK) ret = traced_syscall(nr, a0, a1, a2, a3, a4, a5); /* (or it blocked) */
  rrx_after_call(c, args);
  T->locked = 0;
  return ret;
}

/* The hook for patched sites (rrx_hook_entry): a call the buffer does not take
 * now (no rule, or it could block) goes back to the stub's own syscall
 * instruction (raw; rax stays `nr`), traced on the program's stack. */
__attribute__((visibility("hidden"))) long hook_entry_impl(long nr, long a0, long a1, long a2, long a3, long a4,
                                                           long a5) {
  struct rrx_thread_locals* T = cur_tl();
  const uint64_t args[6] = {(uint64_t)a0, (uint64_t)a1, (uint64_t)a2, (uint64_t)a3, (uint64_t)a4, (uint64_t)a5};
  const struct rrx_buffered_call* c = buffer_for(T, nr, args);
  if (!c) {
    T->raw = 1;
    return nr;
  }
  T->locked = 1;
  struct rrx_buffer_header* h = (struct rrx_buffer_header*)T->buffer;
  uint8_t flags;
  int how = rrx_may_buffer(h, c, args, T->desched, &flags);
  if (!how) {
    T->locked = 0;
    T->raw = 1;
    return nr;
  }
  long ret = rrx_record_call(h, c, args, flags, how == RRX_BUFFER_DESCHED ? T->desched : 0);
  if (ret == RRX_DESCHED_GIVEN_BACK) {
    /* It blocked: made at the site's own syscall instruction, traced. */
    T->locked = 0;
    T->raw = 1;
    return nr;
  }
  rrx_after_call(c, args);
  T->locked = 0;
  return ret;
}

/* The hook for C callers (test programs). */
EXPORT long rrx_syscall_hook(long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
  return hook_impl(nr, a0, a1, a2, a3, a4, a5);
}

/* The hook for patched sites (core/syscallbuf_abi.h, "Hook entry"): every
 * register as at the syscall, rcx = where to jump back to. Moves only until
 * the flags are saved on the alternate stack. */
__asm__(
    ".text\n"
    ".globl rrx_hook_entry\n"
    ".hidden rrx_hook_entry\n"
    ".type rrx_hook_entry,@function\n"
    "rrx_hook_entry:\n"
    "  .cfi_startproc\n"
    "  .cfi_def_cfa 7, 0\n"                   /* the program's rsp; its ip in rcx (the stub) */
    "  .cfi_register 16, 2\n"
    /* The thread-locals' address into r11, the alternate stack's top into
     * rcx, with moves and jumps only (jrcxz: no flag is changed before
     * pushfq): the early ones at fixed addresses while RRX_EARLY_TL_SLOT
     * names them, else the TLS ones. */
    "  movq " RRX_EARLY_TL_SLOT_ASM ", %r11\n" /* absolute: the early thread-locals, or 0 */
    "  xchgq %r11, %rcx\n"                     /* rcx = that, r11 = where to jump back to */
    "  jrcxz 1f\n"
    "  movq %rsp, 0(%rcx)\n"                   /* tl.saved_rsp */
    "  movq %r11, 32(%rcx)\n"                  /* tl.return_addr */
    "  movq %rcx, %r11\n"
    "  movq 8(%r11), %rcx\n"                   /* tl.alt_stack_top: 0 = none in use */
    "  jrcxz 4f\n"
    "  jmp 2f\n"
    "4:movl $" RRX_EARLY_ALT_STACK_TOP_ASM ", %ecx\n"
    "  jmp 2f\n"
    "1:movq tl@gottpoff(%rip), %rcx\n"
    "  movq %rsp, %fs:0(%rcx)\n"               /* tl.saved_rsp */
    "  movq %r11, %fs:32(%rcx)\n"              /* tl.return_addr */
    "  movq %fs:0, %rsp\n"                     /* the thread pointer (TCB self-pointer) */
    "  leaq (%rsp,%rcx), %r11\n"               /* &tl */
    "  movq 8(%r11), %rcx\n"                   /* tl.alt_stack_top: 0 = none in use */
    "  jrcxz 5f\n"
    "  jmp 2f\n"
    "5:movq alt_stack@gottpoff(%rip), %rcx\n"
    "  leaq 16384(%rsp,%rcx), %rcx\n"          /* the top of this thread's alt_stack */
    "2:movq %rcx, %rsp\n"
    "  pushq 0(%r11)\n"                        /* the program's rsp */
    "  pushfq\n"
    "  pushq 32(%r11)\n"                       /* where to jump back to */
    "  pushq 8(%r11)\n"                        /* tl.alt_stack_top at entry */
    "  leaq -256(%rsp), %rcx\n"
    "  andq $-16, %rcx\n"
    "  movq %rcx, 8(%r11)\n"                   /* a nested entry goes below this frame */
    "  pushq %rax\n"                           /* the rest of the program's registers: the */
    "  pushq %rbx\n"                           /* replayer shows gdb the site from them */
    "  pushq %rbp\n"                           /* (RRX_HOOK_FRAME_*) */
    "  pushq %r12\n"
    "  pushq %r13\n"
    "  pushq %r14\n"
    "  pushq %r15\n"
    "  pushq %rdi\n"
    "  pushq %rsi\n"
    "  pushq %rdx\n"
    "  pushq %r10\n"
    "  pushq %r8\n"
    "  pushq %r9\n"
    "  pushq %r9\n"                            /* a5, the 7th argument */
    "  movq %r8, %r9\n"
    "  movq %r10, %r8\n"
    "  movq %rdx, %rcx\n"
    "  movq %rsi, %rdx\n"
    "  movq %rdi, %rsi\n"
    "  movq %rax, %rdi\n"
    /* Unwinding from the call below (gdb stopped inside the library): the
     * caller's rsp is the program's, saved at rsp + 136, and its ip is the
     * original site's return address, which the stub's `lea rcx, [rip +
     * disp32]` right after the return point names: the frame above is the
     * function that made the call, with that function's unwind information
     * (the stub leaves the stack and registers as at the site). */
    "  .cfi_remember_state\n"
    "  .cfi_escape 0x0f, 4, 0x77, 0x88, 0x01, 0x06\n" /* CFA = *(rsp + 136) */
    "  .cfi_escape 0x16, 16, 24, 0x77, 0xf8, 0x00, 0x06, 0x12, 0x23, 0x03, 0x94, 0x04, "
    "0x0c, 0x00, 0x00, 0x00, 0x80, 0x27, 0x0c, 0x00, 0x00, 0x00, 0x80, 0x1c, 0x22, 0x23, 0x07\n"
    /* rip = r + sext(disp32 at r + 3) + 7, r = the return point saved at rsp + 120 */
    "  call hook_entry_impl\n"
    ".globl rrx_hook_entry_return\n"
    ".hidden rrx_hook_entry_return\n"
    "rrx_hook_entry_return:\n"                /* RRX_HOOK_RETURN_SLOT: the replayer finds the frame by it */
    "  .cfi_restore_state\n"
    "  addq $8, %rsp\n"
    "  popq %r9\n"
    "  popq %r8\n"
    "  popq %r10\n"
    "  popq %rdx\n"
    "  popq %rsi\n"
    "  popq %rdi\n"
    "  addq $56, %rsp\n"                       /* r15 ... rax: the program's, unchanged */
    "  movq " RRX_EARLY_TL_SLOT_ASM ", %r11\n" /* &tl again (the flags are saved) */
    "  testq %r11, %r11\n"
    "  jnz 6f\n"
    "  movq tl@gottpoff(%rip), %r11\n"
    "  addq %fs:0, %r11\n"
    "6:popq %rcx\n"
    "  movq %rcx, 8(%r11)\n"                   /* tl.alt_stack_top back */
    "  popq %rcx\n"                            /* where to jump back to */
    "  cmpl $0, 40(%r11)\n"                    /* tl.raw: not buffered */
    "  je 3f\n"
    "  movl $0, 40(%r11)\n"
    "  subq $2, %rcx\n"                        /* the stub's own syscall, rax = nr */
    "3:movq (%rsp), %r11\n"                    /* r11 = the flags, as the kernel leaves it */
    "  popfq\n"
    "  movq (%rsp), %rsp\n"                    /* the program's rsp */
    "  jmp *%rcx\n"
    ".globl rrx_hook_entry_end\n"
    ".hidden rrx_hook_entry_end\n"
    "rrx_hook_entry_end:\n"
    "  .cfi_endproc\n"
    ".size rrx_hook_entry, .-rrx_hook_entry\n");
extern char rrx_hook_entry[];

/* What the recorder's early set-up needs of the library (core/syscallbuf_abi.h,
 * "Early set-up"): where the hook entry is, found by an exported symbol
 * without relocating anything; the constructor reads `early`. */
_Static_assert(RRX_HOOK_TABLE_MAGIC == 0x4c4254584852520full, "rrx_hook_table");
_Static_assert(sizeof(struct rrx_hook_table) == 40, "rrx_hook_table");
__asm__(
    ".text\n"
    ".balign 8\n"
    ".globl rrx_hook_table\n"
    ".type rrx_hook_table,@function\n"
    ".globl rrx_hook_table_here\n"
    ".hidden rrx_hook_table_here\n"
    "rrx_hook_table:\n"
    "rrx_hook_table_here:\n"
    "  .quad 0x4c4254584852520f\n"
    "  .quad rrx_hook_entry - rrx_hook_table\n"
    "  .quad rrx_hook_entry_return - rrx_hook_table\n"
    "  .quad rrx_hook_entry_end - rrx_hook_table\n"
    "  .quad 0\n"
    ".size rrx_hook_table, 40\n");


/* ---- The time functions, interposed by symbol. ----
 * glibc calls them through the vDSO, whose code falls back to a syscall
 * where the clock source has no vDSO read (VMs): that syscall instruction is
 * in the kernel's [vdso] image, not in a file, and is never patched (its
 * bytes are the kernel's, not the trace's). Every other buffered call is
 * reached through its patched libc site. */

extern int* __errno_location(void);

static long libc_result(long ret) {
  if (is_error(ret)) {
    *__errno_location() = (int)-ret;
    return -1;
  }
  return ret;
}

EXPORT int clock_gettime(int clock, void* ts) {
  return (int)libc_result(rrx_syscall_hook(NR_clock_gettime, clock, (long)ts, 0, 0, 0, 0));
}
EXPORT int clock_getres(int clock, void* ts) {
  return (int)libc_result(rrx_syscall_hook(NR_clock_getres, clock, (long)ts, 0, 0, 0, 0));
}
EXPORT int gettimeofday(void* tv, void* tz) {
  return (int)libc_result(rrx_syscall_hook(NR_gettimeofday, (long)tv, (long)tz, 0, 0, 0, 0));
}
EXPORT long time(long* t) { return libc_result(rrx_syscall_hook(NR_time, (long)t, 0, 0, 0, 0, 0)); }
