#!/usr/bin/env bash
# A trace edited so that a recorded result changes (statx: success ->
# ENOENT) makes the replayed program take another branch: the replay must
# report a divergence naming the event and exit 125. An unchanged copy made
# by the same tool must still replay cleanly (the tool itself is faithful).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

[[ -x $RRX_TRACE_EDIT ]] || { echo "FAIL: $RRX_TRACE_EDIT is not built"; exit 1; }

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
    next=$((ev + 1))
    rr_strategies
    for strategy in default ${RR_STRATEGIES[@]+"${RR_STRATEGIES[@]}"}; do
      args=(replay --autopilot)
      [[ $strategy == default ]] || args+=("--skip=$strategy")
      rrx_run "$WORK/div-$strategy" "${args[@]}" "$WORK/edited.trace"
      CHECKS=$((CHECKS + 1))
      msg=$(grep -i divergence "$WORK/div-$strategy.rawerr" | head -n 3 || true)
      if [[ $RUN_RC == 125 && -n $msg ]]; then
        pass "replay ($strategy) of the edited trace: exit 125, '$msg'"
      else
        fail "replay ($strategy) of the edited trace: exit $RUN_RC (expected 125) and stderr must mention a divergence"
        show_file stderr "$WORK/div-$strategy.rawerr" 30
      fi
      CHECKS=$((CHECKS + 1))
      if grep -i divergence -A5 "$WORK/div-$strategy.rawerr" | grep -qwE "$ev|$next"; then
        pass "the divergence message names event $next (or $ev)"
      else
        fail "the divergence message does not name event $next (the first event after the edited statx, $ev)"
        show_file stderr "$WORK/div-$strategy.rawerr" 30
      fi
      CHECKS=$((CHECKS + 1))
      if grep -q 'exists, size' "$WORK/div-$strategy.out"; then
        fail "the replay of the edited trace printed the recorded branch's output"
      else
        pass "the replay stopped before printing the recorded branch's output"
      fi
    done
  else
    fail "rrx_trace_edit failed to edit statx"
    show_file "rrx_trace_edit output" "$WORK/edited.edit"
    show_file "syscall events" "$WORK/list.txt" 200
  fi
fi

rr_finish
