#!/usr/bin/env bash
# Processes that outlive the recorded program's main process (double fork,
# daemon(3)). By default rrx record waits for the whole tree and, after a
# second, says once on stderr what it waits for; --wait=main ends the rest
# with SIGKILL when the main process exits, --wait-timeout=S after S
# seconds. Every trace replays identically (the SIGKILL deaths included).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

LEAVES=$(prog leaves_children)

# notices NAME: how many times rrx record said it waits for processes left running.
notices() { grep -c 'rrx record waits for the' "$WORK/$1.rec.rawerr" || true; }

# Default: rrx waits for the orphan (2 s), says so once, records its output.
if rr_record wait_all --status 0 --stdout-has 'orphan done' -- "$LEAVES" double-fork 2; then
  check "wait_all: one notice naming the orphan" test "$(notices wait_all)" = 1
  rr_replay_check wait_all
fi

# record_with NAME SECONDS_MAX RRX_OPTIONS -- CMD...: rr_record with options
# for rrx record; the recording must end within SECONDS_MAX.
record_with() {
  local name=$1 max=$2
  shift 2
  local opts=()
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  CHECKS=$((CHECKS + 1))
  local start=$SECONDS
  run_capture "$WORK/$name.rec" -- "$RRX" record "${opts[@]}" -o "$WORK/$name.trace" -- "$@"
  local took=$((SECONDS - start))
  if ((RUN_RC == 0 && took <= max)) && grep -q '^rrx: trace written to ' "$WORK/$name.rec.rawerr"; then
    pass "$name: rrx record ${opts[*]} exited 0 after ${took} s"
    return 0
  fi
  fail "$name: rrx record ${opts[*]} exited $RUN_RC after ${took} s (expected 0 within $max s)"
  show_file "record stdout" "$WORK/$name.rec.out"
  show_file "record stderr" "$WORK/$name.rec.rawerr"
  return 1
}

# --wait=main: an orphan that would sleep 100 s is ended at once.
for mode in double-fork daemon; do
  name=wait_main_${mode/-/_}
  if record_with "$name" 20 --wait=main -- "$LEAVES" "$mode" 100; then
    check "$name: the orphan's output is not in the recording" \
      test "$(cat "$WORK/$name.rec.out")" = "main done"
    check "$name: rrx said it ended the orphan" grep -q 'ending with SIGKILL the 1 process' "$WORK/$name.rec.rawerr"
    check "$name: no notice about waiting" test "$(notices "$name")" = 0
    rr_replay_check "$name"
  fi
done

# --wait-timeout: waited for, noticed, then ended.
if record_with wait_timeout 20 --wait-timeout 1.5 -- "$LEAVES" double-fork 100; then
  check "wait_timeout: one notice, then the end" test "$(notices wait_timeout)" = 1
  check "wait_timeout: rrx said it ended the orphan" grep -q 'ending with SIGKILL' "$WORK/wait_timeout.rec.rawerr"
  rr_replay_check wait_timeout
fi

# Bad values are refused before anything runs.
for bad in --wait=some --wait-timeout=-1 --wait-timeout=soon; do
  rrx_run "$WORK/bad" record "$bad" -o "$WORK/bad.trace" -- "$LEAVES" double-fork 0
  check "rrx record $bad: a clean error (exit $RUN_RC), nothing recorded" \
    bash -c '(( $1 == 2 )) && [[ ! -e $2 ]]' _ "$RUN_RC" "$WORK/bad.trace"
done

rr_finish
