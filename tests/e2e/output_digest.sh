#!/usr/bin/env bash
# A replayed program that computes other output than the recording must not
# end with exit 0 and other bytes. The recorded getuid result is edited so
# that the program prints another digit: no syscall, argument or length
# changes, only the bytes. The data checksum of the first call that sent
# them (write, writev, pwritev to a file, sendmsg to a socket) makes the
# replay stop with a divergence naming that event, exit 125, before the
# wrong bytes reach stdout. The unedited traces replay cleanly (rr_check).
# write-second and writev-second send the digit with the second call from
# the same site: under the fast path a buffered call, whose record carries
# the checksum, which the library compares on replay before it takes the
# record (it then makes the call, and the replayer reports the divergence).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

[[ -x $RRX_TRACE_EDIT ]] || { echo "FAIL: $RRX_TRACE_EDIT is not built"; exit 1; }

uid=$(id -u)
digit=$((uid % 10))
if ((digit == 9)); then new_uid=$((uid - 9)); else new_uid=$((uid + 1)); fi
new_digit=$((new_uid % 10))
rr_strategies

for how in write writev pwritev sendmsg write-second writev-second; do
  call=${how%-second}
  nth=1
  [[ $how == *-second ]] && nth=2
  rr_check "$how" --stdout-has "uid digit $digit" -- "$(prog uid_digit)" "$how"
  T=$(rr_trace "$how")
  [[ -f $T/trace ]] || continue
  # The event that sends the digit: the program's first (second) call of that name.
  "$RRX" dump -e "$call" "$T" >"$WORK/$how.dump" 2>&1 || true
  ev=$(awk -v n="$nth" 'NR == n { print $1 }' "$WORK/$how.dump")
  CHECKS=$((CHECKS + 1))
  if [[ $ev =~ ^[0-9]+$ ]]; then
    pass "$how: rrx dump -e $call finds event $ev"
  else
    fail "$how: rrx dump -e $call found no event"
    show_file "dump" "$WORK/$how.dump"
    continue
  fi
  # rrx dump --json shows the checksum of that event.
  check "$how: rrx dump --json has a data_crc for event $ev" \
    bash -c "'$RRX' dump --json -e '$call' '$T' | sed -n '${nth}p' | grep -q '\"data_crc\":'"
  if [[ $how == *-second && ${RRX_E2E_RECORD_ARGS:-} != *-n* ]]; then
    check "$how: event $ev is a buffered call" grep -q "^ *$ev .*(buffered)" "$WORK/$how.dump"
  fi

  nth=$("$RRX" dump -e getuid "$T" 2>/dev/null | wc -l)
  if ! "$RRX_TRACE_EDIT" "$T" "$WORK/$how-edited.trace" --syscall getuid --nth "$nth" --ret "$new_uid" \
      >"$WORK/$how.edit" 2>&1; then
    fail "$how: rrx_trace_edit failed to edit getuid"
    show_file "rrx_trace_edit output" "$WORK/$how.edit"
    continue
  fi
  for strategy in default ${RR_STRATEGIES[@]+"${RR_STRATEGIES[@]}"}; do
    args=(replay --autopilot)
    [[ $strategy == default ]] || args+=("--skip=$strategy")
    out=$WORK/$how-div-$strategy
    rrx_run "$out" "${args[@]}" "$WORK/$how-edited.trace"
    CHECKS=$((CHECKS + 1))
    if [[ $RUN_RC == 125 ]] && grep -qi divergence "$out.rawerr" && grep -q "at event $ev " "$out.rawerr" &&
        grep -q "data crc 0x" "$out.rawerr" && grep -qF "uid digit $new_digit" "$out.rawerr"; then
      pass "$how ($strategy): exit 125, $(grep -i divergence "$out.rawerr" | head -n 1)"
    else
      fail "$how ($strategy): expected exit 125 and a divergence at event $ev showing the data crc and the" \
        "live bytes 'uid digit $new_digit'; got exit $RUN_RC"
      show_file stderr "$out.rawerr" 30
    fi
    CHECKS=$((CHECKS + 1))
    if grep -q "uid digit" "$out.out"; then
      fail "$how ($strategy): the replay printed the diverging bytes"
      show_file stdout "$out.out"
    else
      pass "$how ($strategy): nothing of the diverging output reached stdout"
    fi
  done
done

rr_finish
