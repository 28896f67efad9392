// Enters the preload library through its patched-site entry (the hook
// sequence of core/syscallbuf_abi.h, as a site patch will run it) with
// getppid, clock_gettime and a non-buffered getrlimit, and checks what a
// `syscall` instruction guarantees: rax is the result, rcx the return
// address, the argument registers and the flags are preserved, and the
// program's red zone below rsp is untouched. Without the library it makes
// the same calls with `syscall`.
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

extern long rrx_syscall_hook(long, long, long, long, long, long, long) __attribute__((weak));

struct Regs {
  long rax, rdi, rsi, rdx, r10, r8, r9, cf, red1, red2, rcx, expect_rcx;
};

static void call(struct Regs* r, int via_hook) {
  // r is in rbx (preserved by both paths).
  __asm__ volatile(
      "movq 8(%%rbx), %%rdi\n"
      "movq 16(%%rbx), %%rsi\n"
      "movq 24(%%rbx), %%rdx\n"
      "movq 32(%%rbx), %%r10\n"
      "movq 40(%%rbx), %%r8\n"
      "movq 48(%%rbx), %%r9\n"
      "movq $0x5a5a5a5a5a, %%rax\n"
      "movq %%rax, -8(%%rsp)\n"
      "movq %%rax, -128(%%rsp)\n"
      "movq 0(%%rbx), %%rax\n"
      "testl %k[hook], %k[hook]\n"
      "jz 1f\n"
      "stc\n"
      "lea 9(%%rip), %%rcx\n"
      "jmp *0x70000040\n"
      "syscall\n"  // where the hook sends back the calls it does not buffer
      "lea 0(%%rip), %%r11\n"  // (where the site's rcx points: here, for the check)
      "movq %%r11, 88(%%rbx)\n"
      "jmp 2f\n"
      "1: stc\n"
      "syscall\n"
      "lea 0(%%rip), %%r11\n"
      "lea -7(%%r11), %%r11\n"
      "movq %%r11, 88(%%rbx)\n"
      "2: setc %%r11b\n"
      "movzbq %%r11b, %%r11\n"
      "movq %%r11, 56(%%rbx)\n"
      "movq %%rax, 0(%%rbx)\n"
      "movq %%rdi, 8(%%rbx)\n"
      "movq %%rsi, 16(%%rbx)\n"
      "movq %%rdx, 24(%%rbx)\n"
      "movq %%r10, 32(%%rbx)\n"
      "movq %%r8, 40(%%rbx)\n"
      "movq %%r9, 48(%%rbx)\n"
      "movq -8(%%rsp), %%r11\n"
      "movq %%r11, 64(%%rbx)\n"
      "movq -128(%%rsp), %%r11\n"
      "movq %%r11, 72(%%rbx)\n"
      "movq %%rcx, 80(%%rbx)\n"
      :
      : "b"(r), [hook] "r"(via_hook)
      : "rax", "rcx", "rdi", "rsi", "rdx", "r8", "r9", "r10", "r11", "memory", "cc");
}

static int check(const char* what, long nr, long a0, long a1, int via_hook) {
  struct Regs r = {nr, a0, a1, 0x3333, 0x4444, 0x5555, 0x6666};
  struct Regs in = r;
  call(&r, via_hook);
  int ok = r.rdi == in.rdi && r.rsi == in.rsi && r.rdx == in.rdx && r.r10 == in.r10 && r.r8 == in.r8 &&
           r.r9 == in.r9 && r.cf == 1 && r.red1 == 0x5a5a5a5a5a && r.red2 == 0x5a5a5a5a5a;
  printf("%s: result %s, registers %s\n", what, r.rax >= 0 ? "ok" : "failed", ok ? "preserved" : "CHANGED");
  return ok;
}

int main(void) {
  int via_hook = rrx_syscall_hook != NULL;
  int ok = 1;
  for (int i = 0; i < 3; ++i) {
    ok &= check("getppid", SYS_getppid, 0, 0, via_hook);
    struct timespec ts;
    ok &= check("clock_gettime", SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts, via_hook);
    long rl[2];
    ok &= check("getrlimit", SYS_getrlimit, 7 /* RLIMIT_NOFILE */, (long)rl, via_hook);
  }
  printf("%s\n", ok ? "all preserved" : "SOMETHING CHANGED");
  return ok ? 0 : 1;
}
