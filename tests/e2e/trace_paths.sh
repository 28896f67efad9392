#!/usr/bin/env bash
# Trace paths relative to rrx's current directory: `rrx record -o rel/dir`
# from one directory, then replay, dump, info, ps, the gdb mode and -p given
# the trace as a relative path from other directories (`dir`, `./dir`,
# `../x/dir`, `dir/trace`) and as a NAME-N under a relative RRX_TRACE_DIR.
# The replayed program runs in the recorded cwd, so rrx must hand it
# absolute paths into the trace (files/...) whatever cwd rrx has.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

TREE=$(prog mt_fork_exec)  # forks and execs ls: two executables from files/
mkdir -p "$WORK/rec/here" "$WORK/other/deeper" "$WORK/listed"
touch "$WORK/listed/alpha" "$WORK/listed/beta"

# in_dir DIR PREFIX ARGS...: rrx_run PREFIX ARGS from DIR.
in_dir() {
  local dir=$1 prefix=$2
  shift 2
  (cd "$dir" && rrx_run "$prefix" "$@") || true
  RUN_RC=$(cat "$prefix.rc")
}

# Record from $WORK/rec/here into rel/dir (relative to there).
in_dir "$WORK/rec/here" "$WORK/rec" record -o rel/dir -- "$TREE" "$WORK/listed"
CHECKS=$((CHECKS + 1))
if [[ $RUN_RC == 0 && -f $WORK/rec/here/rel/dir/trace ]] && grep -q '^alpha$' "$WORK/rec.out"; then
  pass "record -o rel/dir from another directory"
else
  fail "record -o rel/dir: exit $RUN_RC, or no trace in $WORK/rec/here/rel/dir, or no listing"
  show_file stderr "$WORK/rec.rawerr"
fi

# replay_from NAME DIR TRACE-ARG: replays by that relative path from DIR;
# the output must be the recording's.
replay_from() {
  local name=$1 dir=$2 arg=$3
  in_dir "$dir" "$WORK/$name" replay --autopilot "$arg"
  CHECKS=$((CHECKS + 1))
  if _rr_compare "$name" "replay of '$arg' from ${dir#"$WORK"/}" "$WORK/rec" "$WORK/$name"; then
    pass "replay --autopilot '$arg' from ${dir#"$WORK"/}"
  fi
}
replay_from rel-same "$WORK/rec/here" rel/dir
replay_from rel-dot "$WORK/rec/here" ./rel/dir/
replay_from rel-file "$WORK/rec/here" rel/dir/trace
replay_from rel-inside "$WORK/rec/here/rel" dir
replay_from rel-self "$WORK/rec/here/rel/dir" .
replay_from rel-up "$WORK/other" ../rec/here/rel/dir
replay_from rel-up2 "$WORK/other/deeper" ../../rec/here/rel/dir
replay_from rel-up-messy "$WORK/other/deeper" ../../other/../rec/./here/rel/dir
# A symbolic link to the trace, relative.
ln -s ../rec/here/rel/dir "$WORK/other/link"
replay_from rel-link "$WORK/other" link

# dump, info, ps by a relative path: the same as by the absolute one.
for cmd in dump info ps "dump --json" "info --json"; do
  tag=${cmd// /}
  # shellcheck disable=SC2086
  rrx_run "$WORK/abs-$tag" $cmd "$WORK/rec/here/rel/dir"
  # shellcheck disable=SC2086
  in_dir "$WORK/other/deeper" "$WORK/rel-$tag" $cmd ../../rec/here/rel/dir
  CHECKS=$((CHECKS + 1))
  if [[ $RUN_RC == 0 && -s $WORK/rel-$tag.out ]] && cmp -s "$WORK/abs-$tag.out" "$WORK/rel-$tag.out"; then
    pass "$cmd ../../rec/here/rel/dir prints what $cmd of the absolute path prints"
  else
    fail "$cmd by a relative path: exit $RUN_RC, or other output than by the absolute path"
    show_diff "absolute" "$WORK/abs-$tag.out" "relative" "$WORK/rel-$tag.out"
    show_file stderr "$WORK/rel-$tag.rawerr"
  fi
done
CHECKS=$((CHECKS + 1))
if grep -q "^trace: *$(cd "$WORK" && pwd -P)/rec/here/rel/dir\$" "$WORK/rel-info.out"; then
  pass "info shows the trace's absolute path"
else
  fail "info of a relative path does not show the absolute trace path"
  show_file stdout "$WORK/rel-info.out"
fi

# A NAME-N under a relative RRX_TRACE_DIR, recorded from rec/, replayed from other/deeper.
(cd "$WORK/rec" && RRX_TRACE_DIR=named "$RRX" record -q -- "$TREE" "$WORK/listed" >/dev/null 2>&1) || true
CHECKS=$((CHECKS + 1))
if [[ -f $WORK/rec/named/mt_fork_exec-0/trace ]]; then
  pass "record into a relative RRX_TRACE_DIR"
  for arg in mt_fork_exec-0 ""; do
    tag=named${arg:+-arg}
    # shellcheck disable=SC2086
    (cd "$WORK/other/deeper" && RRX_TRACE_DIR=../../rec/named rrx_run "$WORK/$tag" replay --autopilot $arg) || true
    CHECKS=$((CHECKS + 1))
    if [[ $(cat "$WORK/$tag.rc") == 0 ]] && cmp -s "$WORK/rec.out" "$WORK/$tag.out"; then
      pass "replay ${arg:-(latest)} from other/deeper with RRX_TRACE_DIR=../../rec/named (relative)"
    else
      fail "replay ${arg:-(latest)} with a relative RRX_TRACE_DIR: exit $(cat "$WORK/$tag.rc") or other output"
      show_file stderr "$WORK/$tag.rawerr"
    fi
  done
else
  fail "record with RRX_TRACE_DIR=named (relative) wrote no named/mt_fork_exec-0/trace"
fi

# The gdb mode and -p, by a relative path.
if command -v gdb >/dev/null; then
  printf 'set breakpoint pending on\nbreak write\ncontinue\nbt 1\ndelete\ncontinue\ncontinue\n' >"$WORK/p.gdb"
  for which in "" ls; do
    tag=gdb${which:+-p}
    # shellcheck disable=SC2086
    in_dir "$WORK/other" "$WORK/$tag" replay ${which:+-p $which} --batch -x "$WORK/p.gdb" ../rec/here/rel/dir
    CHECKS=$((CHECKS + 1))
    if grep -q 'Breakpoint 1, .*write' "$WORK/$tag.out" && grep -q 'exited normally' "$WORK/$tag.out" &&
      ! grep -qi 'divergence\|cannot run' "$WORK/$tag.out" "$WORK/$tag.rawerr"; then
      pass "gdb mode${which:+ -p $which} by a relative path: stops at write, runs to the end"
    else
      fail "gdb mode${which:+ -p $which} by a relative path (exit $RUN_RC)"
      show_file "gdb output" "$WORK/$tag.out" 30
      show_file stderr "$WORK/$tag.rawerr"
    fi
  done
else
  note "skip: gdb mode (gdb is not installed)"
fi

rr_finish
