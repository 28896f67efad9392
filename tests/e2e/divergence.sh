#!/usr/bin/env bash
# A trace edited so that a recorded result changes (statx: success ->
# ENOENT) makes the replayed program take another branch: the replay must
# report a divergence and exit 125. The event it names is the first one the
# replay could not reproduce: the recorded call the program no longer makes,
# with the number `rrx dump` gives that call (a site-patch event the fast
# path recorded right after the edited statx is reproduced first: the patch
# happens at statx's exit whatever its result). The same with the statx a
# buffered call (stat_branch ... warm, --syscallbuf), taken from the buffer
# without a stop and with a stop per call. An unchanged copy made by the
# same tool must still replay cleanly (the tool itself is faithful).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

[[ -x $RRX_TRACE_EDIT ]] || { echo "FAIL: $RRX_TRACE_EDIT is not built"; exit 1; }

# check_divergence LABEL TRACE EV [ENV=VALUE...]: replays TRACE (statx at
# event EV edited to ENOENT) and checks the report: exit 125, the event named
# is the first after EV that is not a site patch, and `rrx dump` shows the
# call the report names as recorded under that number.
check_divergence() {
  local label=$1 trace=$2 ev=$3
  shift 3
  run_capture "$WORK/div-$label" -- env "$@" "$RRX" replay --autopilot "${REPLAY_ARGS[@]}" "$trace"
  CHECKS=$((CHECKS + 1))
  local msg
  msg=$(grep -i divergence "$WORK/div-$label.rawerr" | head -n 1 || true)
  if [[ $RUN_RC == 125 && -n $msg ]]; then
    pass "replay ($label) of the edited trace: exit 125, '$msg'"
  else
    fail "replay ($label) of the edited trace: exit $RUN_RC (expected 125) and stderr must mention a divergence"
    show_file stderr "$WORK/div-$label.rawerr" 30
    return 0
  fi
  rrx_run "$WORK/div-$label.dump" dump "$trace"
  local want named call
  want=$(awk -v ev="$ev" '$1 > ev && $3 != "---" { print $1; exit }' "$WORK/div-$label.dump.out")
  named=$(sed -n 's/.*divergence at event \([0-9]*\).*/\1/p' "$WORK/div-$label.rawerr" | head -n 1)
  call=$(sed -n 's/^ *recorded: \([a-z_0-9]*\)(.*/\1/p' "$WORK/div-$label.rawerr" | head -n 1)
  CHECKS=$((CHECKS + 1))
  if [[ -n $want && $named == "$want" && -n $call ]] &&
      awk -v n="$want" '$1 == n' "$WORK/div-$label.dump.out" | grep -q "\] $call("; then
    pass "($label) the divergence names event $want, the recorded $call that rrx dump shows under that number"
  else
    fail "($label) the divergence names event ${named:-none} (recorded: ${call:-?}); expected event ${want:-?}, the first after the edited statx $ev that is not a site patch, with that call in rrx dump"
    show_file stderr "$WORK/div-$label.rawerr" 30
    show_file "rrx dump from event $ev" <(awk -v ev="$ev" '$1 >= ev' "$WORK/div-$label.dump.out") 8
  fi
  CHECKS=$((CHECKS + 1))
  if grep -q 'exists, size' "$WORK/div-$label.out"; then
    fail "($label) the replay of the edited trace printed the recorded branch's output"
  else
    pass "($label) the replay stopped before printing the recorded branch's output"
  fi
}

F=$WORK/input.txt
printf 'the file exists\nsecond line\n' >"$F"
if rr_record branch --status 0 --stdout-has "exists, size 28" -- "$(prog stat_branch)" "$F"; then
  T=$(rr_trace branch)
  "$RRX_TRACE_EDIT" "$T" --list >"$WORK/list.txt" 2>&1 || true

  # A faithful copy first: statx's own result (0) written back unchanged.
  CHECKS=$((CHECKS + 1))
  if "$RRX_TRACE_EDIT" "$T" "$WORK/same.trace" --syscall statx --ret 0 >"$WORK/same.edit" 2>&1; then
    pass "rrx_trace_edit copy ($(cat "$WORK/same.edit"))"
    rrx_run "$WORK/same" replay --autopilot "$WORK/same.trace"
    CHECKS=$((CHECKS + 1))
    if [[ $RUN_RC == 0 ]] && cmp -s "$WORK/same.out" "$WORK/branch.rec.out" && ! grep -qi divergence "$WORK/same.rawerr"; then
      pass "an unchanged copy of the trace replays identically"
    else
      fail "an unchanged copy of the trace: replay exit $RUN_RC or other output"
      show_file stdout "$WORK/same.out"
      show_file stderr "$WORK/same.rawerr"
    fi
  else
    fail "rrx_trace_edit failed to copy the trace"
    show_file "rrx_trace_edit output" "$WORK/same.edit"
    show_file "syscall events" "$WORK/list.txt" 200
  fi

  # statx(PATH) = 0 becomes -ENOENT (stat_branch makes the only statx call):
  # the program then calls mkdir where the trace has openat. Checked with the
  # default strategy and each supported one.
  CHECKS=$((CHECKS + 1))
  if "$RRX_TRACE_EDIT" "$T" "$WORK/edited.trace" --syscall statx --ret -2 --clear-writes \
      >"$WORK/edited.edit" 2>&1; then
    pass "rrx_trace_edit: $(cat "$WORK/edited.edit")"
    ev=$(sed -n 's/^edited event \([0-9]*\):.*/\1/p' "$WORK/edited.edit")
    [[ -n $ev ]] || { fail "rrx_trace_edit did not print 'edited event N:'"; ev=-100; }
    rr_strategies
    for strategy in default ${RR_STRATEGIES[@]+"${RR_STRATEGIES[@]}"}; do
      REPLAY_ARGS=()
      [[ $strategy == default ]] || REPLAY_ARGS=("--skip=$strategy")
      check_divergence "$strategy" "$WORK/edited.trace" "$ev"
    done
  else
    fail "rrx_trace_edit failed to edit statx"
    show_file "rrx_trace_edit output" "$WORK/edited.edit"
    show_file "syscall events" "$WORK/list.txt" 200
  fi
fi

# The statx a buffered call: its edited record is taken from the buffer (or
# replayed with its own stop), then the program calls mkdir where the trace
# has the openat.
if rr_record warm --status 0 --stdout-has "exists, size 28" --record-arg --syscallbuf -- \
    "$(prog stat_branch)" "$F" warm; then
  CHECKS=$((CHECKS + 1))
  if "$RRX_TRACE_EDIT" "$(rr_trace warm)" "$WORK/warm-edited.trace" --syscall statx --nth 2 --ret -2 \
      --clear-writes >"$WORK/warm.edit" 2>&1 && grep -q '^edited event' "$WORK/warm.edit"; then
    pass "rrx_trace_edit: $(cat "$WORK/warm.edit")"
    ev=$(sed -n 's/^edited event \([0-9]*\):.*/\1/p' "$WORK/warm.edit")
    rrx_run "$WORK/warm.dump" dump "$WORK/warm-edited.trace"
    check "the edited statx (event $ev) is a buffered call" \
      grep -qE "^ *$ev \[[0-9]+\] statx\(.*\(buffered\)$" "$WORK/warm.dump.out"
    REPLAY_ARGS=()
    check_divergence buffered "$WORK/warm-edited.trace" "$ev"
    check_divergence buffered-stops "$WORK/warm-edited.trace" "$ev" RRX_SYSCALLBUF_REPLAY=stops
  else
    fail "rrx_trace_edit failed to edit the second statx"
    show_file "rrx_trace_edit output" "$WORK/warm.edit"
  fi
fi

rr_finish
