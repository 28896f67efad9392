#!/usr/bin/env bash
# Measures reverse execution: a program writes a variable, then makes N
# syscalls (N recorded events); gdb stops at the end, sets a watchpoint on
# the variable and reverse-continues, which must go back N events to the
# write. Prints, for each N: the native run, the recording, gdb's forward
# replay to the end, the reverse-continue, and the memory the checkpoints
# hold then (with the automatic checkpoint policy in effect); then, in the
# same session (after that first pass), `monitor goto` to events spread over
# the whole trace (10%, 90%, 50%, 30%, 70% of its events), median and
# slowest. Two programs: watch_distance (one thread) and watch_distance_mt (four
# threads make N syscalls between them before the write and N after it, so
# the write lies N events back inside a stretch where four threads run).
#
#   bash bench/reverse.sh [N...]        (default: 10000 100000 1000000)
#
# Environment: RRX_BUILD_DIR (default build), RRX, RRX_TEST_PROGRAMS,
# BENCH_THREADS ("1 4" by default: which programs), RRX_CHECKPOINT_SECONDS /
# RRX_CHECKPOINT_INTERVAL / RRX_CHECKPOINT_MAX / RRX_CHECKPOINT_MEMORY_MB
# (rrx's own), BENCH_TIMEOUT (seconds the recording, and the gdb session,
# of one row may take; default 1800: a row over it says "timeout"),
# BENCH_KEEP=1 keeps the work directory, BENCH_RECORD_ARGS (flags for `rrx
# record`, e.g. --syscallbuf or -n: which recording mode the traces use).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/paths.sh
source "$ROOT/bench/lib/paths.sh"
[[ -x $RRX && -x $PROGS/watch_distance && -x $PROGS/watch_distance_mt ]] || { echo "bench: build rrx and its test programs first (bash scripts/test.sh)" >&2; exit 1; }
command -v gdb >/dev/null || { echo "bench: gdb is not installed" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rrx-bench-reverse.XXXXXX")
trap '[[ ${BENCH_KEEP:-0} == 1 ]] || rm -rf "$WORK"' EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

SIZES=("$@")
((${#SIZES[@]})) || SIZES=(10000 100000 1000000)

TIMEOUT=${BENCH_TIMEOUT:-1800}
source "$ROOT/bench/lib/record_modes.sh"
detect_record_modes "$WORK"
echo "rrx $(git -C "$(dirname "$RRX")" describe --always --dirty --abbrev=7 2>/dev/null || echo '?'); recorded with \`rrx record${BENCH_RECORD_ARGS:+ $BENCH_RECORD_ARGS}\`: $(describe_record_modes)"
printf '%-8s %-9s %8s %8s %9s %9s %9s %12s %-14s %9s %9s\n' threads events native record "fwd-gdb" reverse "rev/fwd" "ckpt-mem" "checkpoints" "goto-med" "goto-max"
ROWS=()
for threads in ${BENCH_THREADS:-1 4}; do
for n in "${SIZES[@]}"; do
  if [[ $threads == 1 ]]; then
    PROG=$PROGS/watch_distance
  else
    PROG=$PROGS/watch_distance_mt
  fi
  t0=$(now); "$PROG" "$n" >/dev/null; t1=$(now)
  rec_status=0
  read -r -a record_args <<<"${BENCH_RECORD_ARGS:-}"
  timeout -k 10 "$TIMEOUT" "$RRX" record -q ${record_args[@]+"${record_args[@]}"} -o "$WORK/t${threads}_$n" -- "$PROG" "$n" >/dev/null || rec_status=$?
  t2=$(now)
  if ((rec_status != 0)); then
    echo "bench: $threads threads, N=$n: rrx record exited $rec_status$( ((rec_status == 124)) && echo " (timeout after $TIMEOUT s)")" >&2
    ROWS+=("| $threads | $n | $(secs "$t0" "$t1") | failed ($rec_status) after $(secs "$t1" "$t2") | | | | | | | |")
    rm -rf "$WORK/t${threads}_$n"
    continue
  fi
  events=$("$RRX" info --json "$WORK/t${threads}_$n" </dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["events"])')
  cat >"$WORK/g${threads}_$n.gdb" <<GDB
python import time
python t0 = time.time()
break done
continue
python print("FORWARD_SECONDS %.3f" % (time.time() - t0))
watch target
python t0 = time.time()
reverse-continue
python print("REVERSE_SECONDS %.3f" % (time.time() - t0))
print target
monitor info checkpoints
python
for e in [int($events * f) for f in (0.1, 0.9, 0.5, 0.3, 0.7)]:
    t0 = time.time()
    out = gdb.execute("monitor goto %d" % e, to_string=True)
    dt = time.time() - t0
    print("GOTO_SECONDS %d %.3f %s" % (e, dt, out.strip().replace("\\n", " ")))
end
GDB
  gdb_status=0
  timeout -k 10 "$TIMEOUT" "$RRX" replay --batch -x "$WORK/g${threads}_$n.gdb" "$WORK/t${threads}_$n" >"$WORK/g${threads}_$n.out" 2>&1 </dev/null || gdb_status=$?
  late=-
  if ((gdb_status == 124 || gdb_status == 137)); then
    late="timeout"
    echo "bench: $threads threads, N=$n: the gdb session was stopped after $TIMEOUT s" >&2
  fi
  fwd=$(awk '/^FORWARD_SECONDS/ {print $2}' "$WORK/g${threads}_$n.out")
  rev=$(awk '/^REVERSE_SECONDS/ {print $2}' "$WORK/g${threads}_$n.out")
  mem=$(sed -n 's/^memory held by checkpoints: \([0-9]*\) KiB.*/\1/p' "$WORK/g${threads}_$n.out")
  nck=$(sed -n 's/^automatic: \([0-9]*\) .*/\1/p' "$WORK/g${threads}_$n.out")
  gotos=$(awk '/^GOTO_SECONDS/ && /Now at event/ {print $3}' "$WORK/g${threads}_$n.out" | sort -g)
  ngoto=$(grep -c . <<<"$gotos" || true)
  goto_med=$(awk -v none="$late" 'NF {v[++k] = $1} END {if (k) print v[int((k + 1) / 2)]; else print none}' <<<"$gotos")
  goto_max=$(awk -v none="$late" 'NF {m = $1; k++} END {if (k) print m; else print none}' <<<"$gotos")
  if ((ngoto != 5)); then
    echo "bench: $threads threads, N=$n: $ngoto of 5 monitor goto commands arrived:" >&2
    grep '^GOTO_SECONDS' "$WORK/g${threads}_$n.out" >&2 || tail -5 "$WORK/g${threads}_$n.out" >&2
  fi
  if ! grep -q 'Old value = 42' "$WORK/g${threads}_$n.out"; then
    echo "bench: $threads threads, N=$n: reverse-continue did not find the write:" >&2
    tail -20 "$WORK/g${threads}_$n.out" >&2
  fi
  ratio=$(awk -v a="$rev" -v b="$fwd" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b; else print "-" }')
  [[ -n $fwd ]] || fwd=$late
  [[ -n $rev ]] || rev=$late
  printf '%-8s %-9s %8s %8s %9s %9s %9s %8s KiB %-14s %9s %9s\n' "$threads" "$n" "$(secs "$t0" "$t1")" "$(secs "$t1" "$t2")" \
    "${fwd:--}" "${rev:--}" "$ratio" "${mem:-?}" "${nck:-?} automatic" "$goto_med" "$goto_max"
  printf '         monitor goto (event: seconds, in order): %s\n' "$(awk '/^GOTO_SECONDS/ {printf "%s%s: %s", sep, $2, $3; sep = ", "}' "$WORK/g${threads}_$n.out")"
  ROWS+=("| $threads | $n | $(secs "$t0" "$t1") | $(secs "$t1" "$t2") | ${fwd:--} | ${rev:--} | $ratio | ${mem:-?} KiB | ${nck:-?} | $goto_med ($ngoto of 5) | $goto_max |")
  [[ ${BENCH_KEEP:-0} == 1 ]] || rm -rf "$WORK/t${threads}_$n"
done
done
echo
echo "| threads | events back | native s | record s | gdb forward to the end s | reverse-continue s | reverse / forward | checkpoint memory | automatic checkpoints | monitor goto, median s | monitor goto, slowest s |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
printf '%s\n' "${ROWS[@]}"
