#!/usr/bin/env bash
# watch -l on a struct field (watch_field: s.count written by two
# statements) over next and stepi, and back over the writes with
# reverse-stepi and reverse-next. Each step's output must be what gdb shows
# on the live program: forwards as under gdbserver (when installed), and
# forwards and backwards as under gdb's own `record full`.
source "$(dirname "$0")/lib/gdb_common.sh"

PROG=$RRX_TEST_PROGRAMS/watch_field
# Where the debug registers do not fire (core/debug_regs_probe.h), gdb's
# hardware watchpoints on the live program never stop: the references below
# use gdb's software watchpoints there ("Watchpoint 3" for "Hardware
# watchpoint 3"; rrx's single-steps give the hardware ones' stops).
LIVE_SETUP=()
NORMALIZE=cat
if ! "$RRX" info --here --json | grep -q '"debug_registers":true'; then
  LIVE_SETUP=('set can-use-hw-watchpoints 0')
  NORMALIZE=(sed 's/^Hardware watchpoint /Watchpoint /')
fi
FORWARD='
break main
continue
break watch_field.c:16
continue
watch -l s.count
next
echo ==next-1==\n
stepi
echo ==stepi-1==\n
stepi
echo ==stepi-2==\n
stepi
echo ==stepi-3==\n
'
BACKWARD='
reverse-stepi
echo ==rstepi-1==\n
reverse-stepi
echo ==rstepi-2==\n
reverse-stepi
echo ==rstepi-3==\n
reverse-next
echo ==rnext-1==\n
next
echo ==next-2==\n
next
echo ==next-3==\n
reverse-next
echo ==rnext-2==\n
info watchpoints
echo ==end==\n
'
gdb_record wf -- "$PROG"
gdb_run wf "$FORWARD$BACKWARD"
OUT=$WORK/wf.gdb.out

# What gdb printed for the command before ==NAME== (after the previous marker).
section() {  # section FILE NAME
  local order="next-1 stepi-1 stepi-2 stepi-3 rstepi-1 rstepi-2 rstepi-3 rnext-1 next-2 next-3 rnext-2 end" prev=
  for s in $order; do
    [[ $s == "$2" ]] && break
    prev=$s
  done
  if [[ -z $prev ]]; then  # after the watch command's own line
    sed -n "/^==next-1==\$/q;/^\(Hardware \)\?[Ww]atchpoint [0-9]*: -location s.count\$/,\$p" "$1" | sed 1d
  else
    sed -n "/^==$prev==\$/,/^==$2==\$/p" "$1" | sed '1d;$d'
  fi
}
same() {  # same WHAT FILE_A SECTION_A FILE_B SECTION_B
  CHECKS=$((CHECKS + 1))
  if [[ -n $(section "$2" "$3") ]] &&
    diff <(section "$2" "$3" | "${NORMALIZE[@]}") <(section "$4" "$5" | "${NORMALIZE[@]}") >"$WORK/diff"; then
    echo "ok:   $1"
  else
    fail "$1 (< expected, > rrx):"
    diff <(section "$2" "$3" | "${NORMALIZE[@]}") <(section "$4" "$5" | "${NORMALIZE[@]}") | sed 's/^/  | /'
    echo "  | rrx's whole output:"
    sed 's/^/  | /' "$OUT"
  fi
}
expect_in() {  # expect_in SECTION REGEX
  CHECKS=$((CHECKS + 1))
  if section "$OUT" "$1" | grep -qE -- "$2"; then
    echo "ok:   $1: /$2/"
  else
    fail "$1: no match for /$2/"
    sed 's/^/  | /' "$OUT"
  fi
}

# Forwards: next over `s.count = 5`, stepi over the write of `s.count += 10`.
expect_in next-1 '^Old value = 0$'
expect_in next-1 '^New value = 5$'
expect_in next-1 '^main \(\) at .*watch_field.c:17$'
expect_in stepi-3 '^Old value = 5$'
expect_in stepi-3 '^New value = 15$'
expect_in stepi-3 '^main \(\) at .*watch_field.c:18$'

# Backwards: reverse-stepi over the write reports it the other way round,
# and stops at the writing instruction (the pc stepi showed before it);
# reverse-stepi within the line and reverse-next over `s.count = 5` land
# where gdb's record full lands.
expect_in rstepi-1 '^Old value = 15$'
expect_in rstepi-1 '^New value = 5$'
pc=$(section "$OUT" stepi-2 | grep -oE '^0x[0-9a-f]+' | head -1)
expect_in rstepi-1 "^${pc:-no pc after stepi} in main \(\) at .*watch_field.c:17$"
# After going back, forwards again shows what the live program showed.
same "next over s.count = 5 again: as the first time" "$OUT" next-1 "$OUT" next-2
same "next over s.count += 10 again: as stepi over its write" "$OUT" stepi-3 "$OUT" next-3
same "reverse-next over s.count += 10 stops at its write, as reverse-stepi" "$OUT" rstepi-1 "$OUT" rnext-2

# gdb's own recording of the live program: forwards, and the reverse steps
# that cross no write.
printf '%s\n' ${LIVE_SETUP[@]+"${LIVE_SETUP[@]}"} 'break main' 'run' 'record full' "$(printf '%s' "$FORWARD$BACKWARD" | sed '1,3d')" >"$WORK/record_full.gdb"
timeout 60 gdb -q -nx --batch -x "$WORK/record_full.gdb" "$PROG" >"$WORK/record_full.out" 2>&1 </dev/null || true
if grep -q '==end==' "$WORK/record_full.out"; then
  for s in next-1 stepi-1 stepi-2 stepi-3 rstepi-2 rstepi-3 rnext-1; do
    same "$s: as under record full" "$WORK/record_full.out" "$s" "$OUT" "$s"
  done
else
  fail "gdb's record full did not get through the script"
  sed 's/^/  | /' "$WORK/record_full.out" | head -40
fi

# gdbserver on the live program, forwards.
if command -v gdbserver >/dev/null; then
  port=$((20000 + RANDOM % 20000))
  gdbserver --once "127.0.0.1:$port" "$PROG" >"$WORK/gdbserver.log" 2>&1 &
  server=$!
  for _ in $(seq 50); do grep -q 'Listening on port' "$WORK/gdbserver.log" 2>/dev/null && break; sleep 0.1; done
  printf '%s\n' ${LIVE_SETUP[@]+"${LIVE_SETUP[@]}"} "$FORWARD" 'kill' >"$WORK/gdbserver.gdb"
  timeout 60 gdb -q -nx --batch -ex 'set sysroot /' -ex "target extended-remote 127.0.0.1:$port" \
    -x "$WORK/gdbserver.gdb" "$PROG" >"$WORK/gdbserver.out" 2>&1 </dev/null || true
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  for s in next-1 stepi-1 stepi-2 stepi-3; do
    same "$s: as under gdbserver" "$WORK/gdbserver.out" "$s" "$OUT" "$s"
  done
else
  echo "note: gdbserver is not installed: no comparison with it"
fi

gdb_finish
