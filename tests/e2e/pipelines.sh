#!/usr/bin/env bash
# Shell pipelines and a parallel build: every process of the tree is
# recorded into one trace and replayed.
#  - sh -c 'seq 1 100000 | sort -r | head': sort is killed by SIGPIPE (or
#    gets EPIPE) once head has exited; sort may use threads;
#  - sh -c 'ls / | wc -l', sh -c 'yes | head -n 3' (yes dies of SIGPIPE);
#  - make -j2 of a small C project: make -> sh -> gcc -> cc1/as/collect2/ld,
#    make's jobserver pipe and SIGCHLD; the program it built is then run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

SH=/bin/sh
rr_check_native sort_pipeline --stdout-has "99999" -- "$SH" -c 'seq 1 100000 | sort -r | head'
check_dump_tree sort_pipeline 4 '\bexec(ve)?\b.*/sort'
rr_check_native ls_wc -- "$SH" -c 'ls / | wc -l'
rr_check_native yes_head -- "$SH" -c 'yes | head -n 3; echo "status of the pipeline: $?"'
rr_check_native subshells --stdout-has "NESTED 3" -- "$SH" -c 'x=$(echo nested; echo 3 | (read n; echo $n)); echo $x | tr a-z A-Z; (exit 4); echo "subshell exited $?"'

if ! command -v make >/dev/null || ! command -v gcc >/dev/null; then
  note "skip: make -j2 (make or gcc is not installed)"
  rr_finish
fi

P=$WORK/proj
mkdir -p "$P"
cat >"$P/add.c" <<'C'
int add(int a, int b) { return a + b; }
C
cat >"$P/mul.c" <<'C'
int mul(int a, int b) { return a * b; }
C
cat >"$P/main.c" <<'C'
#include <stdio.h>
int add(int, int);
int mul(int, int);
int main(void) {
  printf("add(2, 3) = %d, mul(6, 7) = %d\n", add(2, 3), mul(6, 7));
  return 0;
}
C
# The "&& echo" makes make run each recipe through /bin/sh.
printf '%s\n' \
  'CC = gcc' \
  'calc: main.o add.o mul.o' \
  '	$(CC) -o $@ main.o add.o mul.o && echo linked $@' \
  '%.o: %.c' \
  '	$(CC) -O0 -c -o $@ $< && echo compiled $@' \
  'clean:' \
  '	rm -f calc *.o' >"$P/Makefile"

rr_check make_j2 --status 0 --stdout-has "linked calc" -- make -j2 -C "$P"
CHECKS=$((CHECKS + 1))
if [[ -x $P/calc ]] && [[ $("$P/calc") == "add(2, 3) = 5, mul(6, 7) = 42" ]]; then
  pass "make_j2: the program built while recording runs"
else
  fail "make_j2: $P/calc was not built, or prints something else"
  ls -la "$P" | sed 's/^/  | /'
fi
check_dump_tree make_j2 6 '\bexec(ve)?\b.*/cc1'
# Nothing left to do: make alone.
rr_check make_up_to_date --stdout-has "is up to date" -- make -C "$P"

rr_finish
