#!/usr/bin/env bash
# Programs built with the sanitizers record and replay in both modes, with
# the reports a native run prints (README, "Tracers and sanitizers inside a
# recording"). Under the fast path rrx's preload library joins the initial
# library list: it comes second, after ASan's shared runtime, which must be
# the first (gcc's libasan; also when the user preloads it), and first
# otherwise (clang's static ASan, TSan, UBSan, standalone LSan). LeakSanitizer
# stops the world from a thread made by a raw clone that runs on its parent's
# thread pointer, so its calls go to its parent's buffer: they must stay its
# own events.
# rrx-e2e: one record mode (each case is recorded with --syscallbuf and with -n)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"
# What is tested is the recording side: replays with the default skip
# strategy only (the others are the replay's matter, tested elsewhere).
RRX_E2E_STRATEGIES=${RRX_E2E_STRATEGIES:-none}

cat >"$WORK/leak.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
void* kept;
int main(void) {
  char* p = malloc(100);
  strcpy(p, "leaked");
  for (int i = 0; i < 200; ++i) (void)getppid();  /* buffered calls before LSan's */
  printf("allocated %s\n", p);
  fflush(stdout);
  p = 0;
  kept = malloc(10);  /* still reachable: not a leak */
  return 0;
}
C
cat >"$WORK/overflow.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char** argv) {
  (void)argv;
  int* a = malloc(4 * sizeof(int));
  printf("before the overflow\n");
  fflush(stdout);
  return a[3 + argc];  /* heap-buffer-overflow */
}
C
cat >"$WORK/threads.c" <<'C'
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static void* worker(void* a) {
  (void)a;
  for (int i = 0; i < 500; ++i) {
    pthread_mutex_lock(&m);
    counter += getppid() > 0;
    pthread_mutex_unlock(&m);
  }
  return NULL;
}
int main(void) {
  pthread_t t[2];
  for (int i = 0; i < 2; ++i) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
  printf("counter %ld\n", counter);
  return 0;
}
C
cat >"$WORK/ub.c" <<'C'
#include <limits.h>
#include <stdio.h>
int main(int argc, char** argv) {
  (void)argv;
  int x = INT_MAX - 1 + argc;
  x += argc;  /* signed overflow */
  printf("x %d\n", x);
  return 0;
}
C

# build NAME CC FLAGS... SOURCE: the program $WORK/NAME, or a note and 1 where
# the compiler or the sanitizer's runtime is missing.
build() {
  local name=$1 cc=$2
  shift 2
  if command -v "$cc" >/dev/null 2>&1 && "$cc" -g -O0 "$@" -o "$WORK/$name" 2>"$WORK/$name.cc.err"; then
    return 0
  fi
  note "  note: $cc $* does not build here: the $name cases are skipped"
  return 1
}

# has_report NAME TEXT: the recording's stderr has the sanitizer's TEXT.
has_report() {
  check "$1: the sanitizer's report in the recording" grep -qF -- "$2" "$WORK/$1.rec.err"
}

# buffered NAME MIN: the trace of NAME holds at least MIN buffered calls.
buffered() {
  local name=$1 min=$2 n
  [[ -f $WORK/$name.trace/trace ]] || return 0
  rrx_run "$WORK/$name.dump" dump "$WORK/$name.trace"
  n=$(grep -c '(buffered)' "$WORK/$name.dump.out" || true)
  check "$name: the program's calls are buffered ($n)" test "$n" -ge "$min"
}

for mode in --syscallbuf -n; do
  m=${mode//-/}
  if build leak_asan gcc -fsanitize=address "$WORK/leak.c"; then
    # gcc links ASan's shared runtime (the first DT_NEEDED); LSan runs at exit.
    rr_check_native "asan_leak_$m" --status 1 --stdout-has "allocated leaked" --record-arg "$mode" -- "$WORK/leak_asan"
    has_report "asan_leak_$m" "Direct leak of 100 byte(s) in 1 object(s)"
    check "asan_leak_$m: the link order check passed" \
      bash -c "! grep -q 'does not come first' '$WORK/asan_leak_$m.rec.err'"
    [[ $mode == -n ]] || buffered "asan_leak_$m" 200
  fi
  if build overflow_asan gcc -fsanitize=address "$WORK/overflow.c"; then
    rr_check "asan_overflow_$m" --status 1 --stdout-has "before the overflow" --record-arg "$mode" -- \
      "$WORK/overflow_asan"
    has_report "asan_overflow_$m" "ERROR: AddressSanitizer: heap-buffer-overflow"
  fi
  if build threads_plain gcc -pthread "$WORK/threads.c"; then
    # ASan's runtime preloaded by the user into a program built without it.
    lib=$(gcc -print-file-name=libasan.so)
    if [[ -f $lib ]]; then
      rr_check_native "asan_user_preload_$m" --stdout-has "counter 1000" --record-arg "$mode" -- \
        env LD_PRELOAD="$lib" "$WORK/threads_plain"
      [[ $mode == -n ]] || buffered "asan_user_preload_$m" 500
    fi
  fi
  if build leak_clang clang -fsanitize=address "$WORK/leak.c"; then
    # clang links ASan statically: nothing to come first.
    rr_check_native "asan_static_$m" --status 1 --stdout-has "allocated leaked" --record-arg "$mode" -- "$WORK/leak_clang"
    has_report "asan_static_$m" "Direct leak of 100 byte(s) in 1 object(s)"
  fi
  if build leak_lsan gcc -fsanitize=leak "$WORK/leak.c"; then
    rr_check_native "lsan_$m" --status 23 --stdout-has "allocated leaked" --record-arg "$mode" -- "$WORK/leak_lsan"
    has_report "lsan_$m" "Direct leak of 100 byte(s) in 1 object(s)"
  fi
  if build threads_tsan gcc -fsanitize=thread "$WORK/threads.c"; then
    rr_check_native "tsan_$m" --stdout-has "counter 1000" --record-arg "$mode" -- "$WORK/threads_tsan"
    [[ $mode == -n ]] || buffered "tsan_$m" 500
  fi
  if build ub gcc -fsanitize=undefined "$WORK/ub.c"; then
    rr_check_native "ubsan_$m" --stdout-has "x -2147483648" --record-arg "$mode" -- "$WORK/ub"
    has_report "ubsan_$m" "runtime error: signed integer overflow"
  fi
done

rr_finish
