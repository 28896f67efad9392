#!/usr/bin/env bash
# The CI recipe of docs/ci.md, run here instead of on the CI service: the
# command of each example workflow (docs/ci/*.yml, the line after
# "rrx-ci-command") runs in a directory laid out like a checkout (build/,
# scripts/), must find the race of race_lost_update and leave the archive;
# then the two commands docs/ci.md gives to debug it: rrx replay --autopilot
# ARCHIVE shows the failure, and gdb (rrx replay --batch -x) reaches it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
export XDG_CACHE_HOME=$WORK/cache

SRC=$RRX_SOURCE_DIR/tests/programs/race_lost_update.c
fail_line=$(grep -n 'printf("lost update' "$SRC" | cut -d: -f1)

for yml in "$RRX_SOURCE_DIR"/docs/ci/*.yml; do
  name=$(basename "$yml" .yml)
  cmd=$(grep -A1 'rrx-ci-command' "$yml" | tail -n 1 | sed -e 's/^ *- //' -e 's/^ *run: //')
  CHECKS=$((CHECKS + 1))
  if [[ -z $cmd || $cmd != *chaos-until-failure.sh* ]]; then
    fail "$name: no command after rrx-ci-command"
    continue
  fi
  dir=$WORK/$name
  mkdir -p "$dir"
  ln -s "$RRX_BUILD_DIR" "$dir/build"
  ln -s "$RRX_SOURCE_DIR/scripts" "$dir/scripts"
  rc=0
  (cd "$dir" && timeout 600 bash -c "$cmd") >"$dir/out" 2>"$dir/err" </dev/null || rc=$?
  if [[ $rc == 1 && -f $dir/rrx-trace.tar.zst ]] && grep -q 'the test failed in run' "$dir/out"; then
    pass "$name: the workflow's command found the failure: $(grep 'the test failed in run' "$dir/out")"
  else
    fail "$name: the workflow's command exited $rc (expected 1) or wrote no rrx-trace.tar.zst"
    show_file stdout "$dir/out"
    show_file stderr "$dir/err"
    continue
  fi
  # "Download" the artifact elsewhere and debug it there.
  mkdir -p "$WORK/desk-$name"
  cp "$dir/rrx-trace.tar.zst" "$WORK/desk-$name/"
  (cd "$WORK/desk-$name" && rrx_run "$WORK/$name.replay" replay --autopilot rrx-trace.tar.zst) || true
  RUN_RC=$(cat "$WORK/$name.replay.rc")
  check "$name: rrx replay --autopilot ARCHIVE shows the failure" \
    test "$RUN_RC" = 1 -a "$(grep -c 'lost update' "$WORK/$name.replay.out")" = 1
  cat >"$WORK/$name.gdb" <<GDB
break race_lost_update.c:$fail_line
continue
print counter < 6000
GDB
  (cd "$WORK/desk-$name" && timeout 120 "$RRX" replay --batch -x "$WORK/$name.gdb" rrx-trace.tar.zst) \
    >"$WORK/$name.gdb.out" 2>&1 </dev/null || true
  CHECKS=$((CHECKS + 1))
  if grep -q "^Breakpoint 1, main () at .*race_lost_update.c:$fail_line" "$WORK/$name.gdb.out" &&
    grep -q '^\$1 = 1$' "$WORK/$name.gdb.out"; then
    pass "$name: gdb on the archive stops at the failure, with the counter short"
  else
    fail "$name: gdb on the archive did not reach the failure"
    show_file "gdb output" "$WORK/$name.gdb.out" 40
  fi
done

rr_finish
