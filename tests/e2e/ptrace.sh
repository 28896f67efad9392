#!/usr/bin/env bash
# ptrace inside a recording (README, "Tracers and sanitizers inside a
# recording"): rrx emulates ptrace for tracers in the recorded tree. A C
# tracer (PTRACE_TRACEME, PTRACE_SEIZE + INTERRUPT, PTRACE_SYSCALL counting,
# PEEKDATA, GETREGS, GET_SYSCALL_INFO) is compared with a native run;
# LeakSanitizer (it stops the world with PTRACE_ATTACH from a CLONE_UNTRACED
# thread) must print its leak report; strace and gdb run inside the
# recording (gdb_inside.sh: tracers that change their tracees). Each
# recording is replayed with every strategy.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

rr_check_native tracer --stdout-has "traceme: 5 getppid, exit status 0" -- "$(prog ptrace_tracer)"
# Under the fast path a tracee's calls are not buffered while a tracer in the
# recording follows it: the tracer sees each getppid stop at its own site.
rr_check_native tracer_sb --stdout-has "traceme: 5 getppid, exit status 0" --record-arg --syscallbuf \
  -- "$(prog ptrace_tracer)"

# LeakSanitizer: a leak found at exit, reported on stderr, exit status 1.
cat >"$WORK/leak.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
void* kept;
int main(void) {
  char* p = malloc(100);
  strcpy(p, "leaked");
  printf("allocated %s\n", p);
  fflush(stdout);
  p = 0;
  kept = malloc(10);  /* still reachable: not a leak */
  return 0;
}
C
if gcc -g -O0 -fsanitize=address -o "$WORK/leak" "$WORK/leak.c" 2>"$WORK/leak.cc.err"; then
  rr_check lsan --status 1 --stdout-has "allocated leaked" -- "$WORK/leak"
  if grep -q "ERROR: LeakSanitizer: detected memory leaks" "$WORK/lsan.rec.err" &&
     grep -q "Direct leak of 100 byte(s) in 1 object(s)" "$WORK/lsan.rec.err"; then
    pass "lsan: LeakSanitizer's report in the recording"
  else
    fail "lsan: no LeakSanitizer report in the recording"
    show_file "record stderr" "$WORK/lsan.rec.rawerr" 30
  fi
  # Threads: LSan attaches to each (they sit in pause(), or wait for the CPU);
  # what only their stacks and registers hold is not a leak.
  cat >"$WORK/leak_mt.c" <<'C'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static pthread_barrier_t b;
static void* worker(void* arg) {
  char* volatile p = malloc(64);
  strcpy(p, (char*)arg);
  pthread_barrier_wait(&b);
  pause();
  return p;
}
int main(void) {
  pthread_t t[3];
  pthread_barrier_init(&b, NULL, 4);
  for (int i = 0; i < 3; ++i) pthread_create(&t[i], NULL, worker, "w");
  pthread_barrier_wait(&b);
  void* volatile lost = malloc(33);
  printf("threads up: %d\n", lost != NULL);
  fflush(stdout);
  lost = NULL;
  exit(0);
}
C
  if gcc -g -O0 -fsanitize=address -pthread -o "$WORK/leak_mt" "$WORK/leak_mt.c" 2>>"$WORK/leak.cc.err"; then
    rr_check lsan_threads --status 1 --stdout-has "threads up: 1" -- "$WORK/leak_mt"
    if grep -q "Direct leak of 33 byte(s) in 1 object(s)" "$WORK/lsan_threads.rec.err" &&
       ! grep -q "of 64 byte(s)" "$WORK/lsan_threads.rec.err"; then
      pass "lsan_threads: the leak, and only the leak, in the recording"
    else
      fail "lsan_threads: LeakSanitizer's report in the recording is not the native one"
      show_file "record stderr" "$WORK/lsan_threads.rec.rawerr" 30
    fi
  fi
else
  note "  note: gcc -fsanitize=address is not available here (libasan): the LeakSanitizer case is skipped"
fi

# strace: seizes its child (PTRACE_SEIZE, INTERRUPT, the SIGCONT it passes
# on, TRACEEXEC and TRACEEXIT event stops, GET_SYSCALL_INFO, process_vm_readv).
if command -v strace >/dev/null; then
  rr_check strace --stdout-has "exit_group(0)                           = ?" -- sh -c 'strace -f true 2>&1'
  rr_check strace_fork --stdout-has "+++ exited with 3 +++" -- \
    sh -c 'strace -f -q -e trace=execve,clone,wait4,exit_group -e signal=none sh -c "/bin/true; exit 3" 2>&1'
fi

# gdb runs a tracer (nested: the tracer's own tracees are emulated too) to
# its end; `bt` then has no stack, so gdb -batch exits 1. (gdb_inside.sh
# has gdb with breakpoints; why gdb runs without worker threads and
# without the fast path is there.)
if command -v gdb >/dev/null; then
  rr_check gdb_run --record-arg -n --status 1 --stdout-has "exited normally" -- \
    sh -c 'gdb -nx -batch -iex "maint set worker-threads 0" -ex run -ex bt "$1" 2>&1' sh "$(prog ptrace_tracer)"
fi

rr_finish
