#!/usr/bin/env bash
# rrx sources: the source files the recorded binaries' DWARF names (each
# compilation unit's name and its line table's files, made absolute with
# the comp dir), marked present or missing on this machine, and the binaries
# without debug info. Read from the trace's copies: a program deleted or
# rebuilt after the recording still lists what was recorded. A bad trace is
# a clear error.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

command -v cc >/dev/null || skip_all "no C compiler"

# A program built with -g whose sources are then moved away, and a stripped one.
SRC=$WORK/src
mkdir -p "$SRC/inc"
cat >"$SRC/inc/src_helper.h" <<'EOF'
static inline int src_helper(int x) { return x * 2; }
EOF
cat >"$SRC/src_main.c" <<'EOF'
#include <stdio.h>
#include "src_helper.h"
int main(void) {
  printf("%d\n", src_helper(21));
  return 0;
}
EOF
(cd "$SRC" && cc -g -O0 -Iinc -o "$WORK/src_prog" src_main.c)
cp "$WORK/src_prog" "$WORK/src_stripped"
strip "$WORK/src_stripped"

if rr_record debug --stdout-has 42 -- "$WORK/src_prog"; then
  rr_replay_check debug
  rm "$SRC/src_main.c"
  rm "$WORK/src_prog"   # the trace's copy still has the debug info
  rrx_run "$WORK/debug.sources" sources "$WORK/debug.trace"
  check "sources exits 0" test "$RUN_RC" = 0
  check "the main source, now missing" grep -qxF "missing	$SRC/src_main.c" "$WORK/debug.sources.out"
  check "a header from the line table, present" grep -qxF "present	$SRC/inc/src_helper.h" "$WORK/debug.sources.out"
  check "a system header, present" grep -qxF "present	/usr/include/stdio.h" "$WORK/debug.sources.out"
  check "every line is STATUS<tab>PATH, absolute but for status relative" \
    bash -c "! grep -vE '^((present|missing|no-debug-info)	/|relative	[^/])' '$WORK/debug.sources.out'"
  check "the program itself has debug info" \
    bash -c "! grep -q 'no-debug-info.*src_prog' '$WORK/debug.sources.out'"
  check "no .. left in a path" bash -c "! grep -q '/\.\./' '$WORK/debug.sources.out'"
  check "no compiler-made names" bash -c "! grep -q '<built-in>' '$WORK/debug.sources.out'"
fi

if rr_record stripped --stdout-has 42 -- "$WORK/src_stripped"; then
  rrx_run "$WORK/stripped.sources" sources "$WORK/stripped.trace"
  check "sources of a stripped program exits 0" test "$RUN_RC" = 0
  check "the stripped program is listed without debug info" \
    grep -qxF "no-debug-info	$WORK/src_stripped" "$WORK/stripped.sources.out"
  check "no source of the stripped program" bash -c "! grep -q 'src_main.c' '$WORK/stripped.sources.out'"
fi

# A test program of the suite (built with -g): its source is in the checkout.
if rr_record suite -- "$(prog reverse_demo)"; then
  rrx_run "$WORK/suite.sources" sources "$WORK/suite.trace"
  check "a suite program's source is present" \
    grep -qxF "present	$RRX_SOURCE_DIR/tests/programs/reverse_demo.c" "$WORK/suite.sources.out"
fi

# Bad traces: a clear error, no crash.
mkdir -p "$WORK/not-a-trace"
echo garbage >"$WORK/not-a-trace/trace"
for bad in "$WORK/no-such-trace" "$WORK/not-a-trace"; do
  rrx_run "$WORK/bad" sources "$bad"
  check "sources of $(basename "$bad"): a clean error with a message" \
    bash -c "(( $RUN_RC != 0 && $RUN_RC < 128 )) && grep -q '^rrx: ' '$WORK/bad.rawerr'"
done
# A trace whose copies are gone: said on stderr, exit 1.
if [[ -d $WORK/debug.trace/files ]]; then
  cp -r "$WORK/debug.trace" "$WORK/nofiles.trace"
  rm -rf "$WORK/nofiles.trace/files"/*
  rrx_run "$WORK/nofiles" sources "$WORK/nofiles.trace"
  check "sources without the trace's copies: exit 1 and a message" \
    bash -c "[[ $RUN_RC == 1 ]] && grep -q 'is missing' '$WORK/nofiles.rawerr'"
fi

rr_finish
