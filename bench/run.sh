#!/usr/bin/env bash
# Measures rrx's overhead: every workload (bench/workloads/workloads.sh) runs
# natively, under `rrx record`, under `rrx replay --autopilot -q` and under
# `strace -f -o /dev/null`, alternating in that order within each
# repetition so that drifts of the machine hit every mode alike. Prints a
# table of medians: native seconds, and record/replay/strace time as a ratio
# to native, plus the trace size per event; then the same as markdown for
# bench/RESULTS.md.
#
#   bash bench/run.sh [WORKLOAD...]
#
# Environment: BENCH_REPS (default 5), BENCH_MODES (default "native record
# replay strace"), BENCH_DATA_DIR (generated inputs, default
# $RRX_BUILD_DIR/bench-data), RRX_BUILD_DIR (default build), RRX,
# RRX_TEST_PROGRAMS, BENCH_KEEP=1 keeps the work directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${RRX_BUILD_DIR:-$ROOT/build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
RRX=${RRX:-$BUILD/bin/rrx}
PROGS=${RRX_TEST_PROGRAMS:-$BUILD/tests/programs}
DATA=${BENCH_DATA_DIR:-$BUILD/bench-data}
REPS=${BENCH_REPS:-5}
read -r -a MODES <<<"${BENCH_MODES:-native record replay strace}"

source "$ROOT/bench/workloads/workloads.sh"
if (($# > 0)); then WORKLOADS=("$@"); fi
for w in "${WORKLOADS[@]}"; do workload_cmd "$w" >/dev/null; done

has_mode() { local m; for m in "${MODES[@]}"; do [[ $m == "$1" ]] && return 0; done; return 1; }

if has_mode record || has_mode replay; then
  if [[ ! -x $RRX ]]; then
    echo "bench: $RRX is not built; measuring native and strace only" >&2
    MODES=(native strace)
  fi
fi
if has_mode strace && ! command -v strace >/dev/null; then
  echo "bench: strace is not installed; skipping it" >&2
  MODES=("${MODES[@]/strace/}")
fi
if [[ ! -x $PROGS/compute_loop ]]; then
  echo "bench: $PROGS/compute_loop is not built (bash scripts/setup.sh)" >&2
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rrx-bench.XXXXXX")
cleanup() {
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "bench: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
export RRX_TRACE_DIR=$WORK/traces
RESULTS=$WORK/results.tsv  # workload mode rep seconds status
SIZES=$WORK/sizes.tsv      # workload rep trace_file_bytes trace_dir_bytes events
: >"$RESULTS"
: >"$SIZES"

prepare_data

# timed OUT_STATUS_VAR OUT_SECONDS_VAR CMD...: runs CMD with stdin $IN and
# stdout/stderr discarded (stderr kept in $WORK/last.err).
timed() {
  local -n _status=$1 _secs=$2
  shift 2
  local t0 t1
  _status=0
  t0=$EPOCHREALTIME
  "$@" <"$IN" >/dev/null 2>"$WORK/last.err" || _status=$?
  t1=$EPOCHREALTIME
  _secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
}

echo "bench: ${#WORKLOADS[@]} workloads x $REPS repetitions, modes: ${MODES[*]}" >&2
# Warm the page cache and check each workload runs.
declare -A NATIVE_STATUS
for w in "${WORKLOADS[@]}"; do
  workload_cmd "$w"
  timed st secs "${CMD[@]}"
  NATIVE_STATUS[$w]=$st
  ((st == 0)) || echo "bench: note: $w exits $st natively" >&2
done

for ((rep = 1; rep <= REPS; rep++)); do
  for w in "${WORKLOADS[@]}"; do
    workload_cmd "$w"
    trace=$WORK/trace-$w-$rep
    for mode in "${MODES[@]}"; do
      [[ -n $mode ]] || continue
      case $mode in
        native) timed st secs "${CMD[@]}" ;;
        record) timed st secs "$RRX" record -o "$trace" -- "${CMD[@]}" ;;
        replay)
          if [[ -d $trace ]]; then
            timed st secs "$RRX" replay --autopilot -q "$trace"
          else
            st=noTrace secs=nan
          fi ;;
        strace) timed st secs strace -f -o /dev/null -- "${CMD[@]}" ;;
      esac
      ok=ok
      if [[ $st != "${NATIVE_STATUS[$w]}" ]]; then
        ok="exit:$st"
        echo "bench: $w under $mode (rep $rep) exited $st, natively ${NATIVE_STATUS[$w]}: $(tail -n 2 "$WORK/last.err" 2>/dev/null | tr '\n' ' ')" >&2
      fi
      printf '%s\t%s\t%s\t%s\t%s\n' "$w" "$mode" "$rep" "$secs" "$ok" >>"$RESULTS"
      printf 'bench: rep %d %-15s %-7s %8.3fs %s\n' "$rep" "$w" "$mode" "$secs" "$ok" >&2
    done
    if [[ -d $trace ]]; then
      file_bytes=$(stat -c %s "$trace/trace" 2>/dev/null || echo 0)
      dir_bytes=$(du -sb "$trace" | cut -f1)
      events=$("$RRX" info --json "$trace" 2>/dev/null </dev/null |
        python3 -c 'import json,sys; print(int(json.load(sys.stdin)["events"]))' 2>/dev/null || echo 0)
      printf '%s\t%s\t%s\t%s\t%s\n' "$w" "$rep" "$file_bytes" "$dir_bytes" "$events" >>"$SIZES"
      rm -rf "$trace"
    fi
  done
done

CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
STRATEGY=""
if [[ -x $RRX ]]; then
  STRATEGY=$(timeout 20 "$RRX" replay --list-skip-strategies 2>/dev/null </dev/null | head -n 1 || true)
fi

python3 - "$RESULTS" "$SIZES" "$REPS" "$(uname -r)" "${CPU:-unknown}" "$(nproc)" "$REV" "${STRATEGY:-n/a}" \
  "$(printf '%s\n' "${WORKLOADS[@]}")" "$(for w in "${WORKLOADS[@]}"; do workload_cmd "$w"; echo "$KIND|$DESC"; done)" <<'PY'
import collections, statistics, sys

results, sizes, reps, kernel, cpu, ncpu, rev, strategy, names, descs = sys.argv[1:]
names = names.split("\n")
descs = dict(zip(names, descs.split("\n")))
times = collections.defaultdict(list)   # (workload, mode) -> [seconds]
bad = collections.Counter()             # (workload, mode) -> failed runs
modes_seen = []
for line in open(results):
    w, mode, rep, secs, ok = line.rstrip("\n").split("\t")
    if mode not in modes_seen:
        modes_seen.append(mode)
    if ok != "ok" or secs == "nan":
        bad[(w, mode)] += 1
        continue
    times[(w, mode)].append(float(secs))
size_rows = collections.defaultdict(list)
for line in open(sizes):
    w, rep, fb, db, ev = line.rstrip("\n").split("\t")
    size_rows[w].append((int(fb), int(db), int(ev)))

def med(w, mode):
    v = times.get((w, mode))
    return statistics.median(v) if v else None

header = ["workload", "kind", "native s"]
for m in ("record", "replay", "strace"):
    if m in modes_seen:
        header.append(m + " x")
if size_rows:
    header += ["events", "trace B/event", "trace dir MB"]
rows = []
for w in names:
    kind, desc = descs[w].split("|", 1)
    n = med(w, "native")
    row = [w, kind, "%.3f" % n if n is not None else "fail"]
    for m in ("record", "replay", "strace"):
        if m not in modes_seen:
            continue
        t = med(w, m)
        if t is None or not n:
            cell = "fail"
        else:
            cell = "%.2f" % (t / n)
        if bad[(w, m)] and t is not None:
            cell += " (%d failed)" % bad[(w, m)]
        row.append(cell)
    if size_rows:
        s = size_rows.get(w)
        if s:
            fb = statistics.median(x[0] for x in s)
            db = statistics.median(x[1] for x in s)
            ev = statistics.median(x[2] for x in s)
            row += ["%d" % ev, "%.1f" % (fb / ev) if ev else "n/a", "%.1f" % (db / 1e6)]
        else:
            row += ["n/a", "n/a", "n/a"]
    rows.append(row)

machine = "kernel %s; CPU %s; %s CPUs; rrx %s; skip strategy %s; %s repetitions, medians" % (
    kernel, cpu, ncpu, rev, strategy, reps)
print()
print(machine)
widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
fmt = "  ".join("%%-%ds" % w for w in widths)
print(fmt % tuple(header))
for r in rows:
    print(fmt % tuple(r))
print()
print("Markdown:")
print()
print("- kernel: `%s`" % kernel)
print("- CPU: %s (%s CPUs)" % (cpu, ncpu))
print("- rrx: %s, skip strategy `%s`; %s repetitions, medians" % (rev, strategy, reps))
print("- x: time as a multiple of the native time; trace B/event: size of the `trace` file per event; "
      "trace dir MB: the whole directory, files/ included")
print()
print("| " + " | ".join(header) + " |")
print("|" + "|".join("---" if i < 2 else "--:" for i in range(len(header))) + "|")
for r in rows:
    print("| " + " | ".join(r) + " |")
print()
print("Workloads:")
for w in names:
    kind, desc = descs[w].split("|", 1)
    print("- `%s`: %s" % (w, desc))
PY
