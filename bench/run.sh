#!/usr/bin/env bash
# Measures rrx's overhead side by side in one run: every workload
# (bench/workloads/workloads.sh) natively (and natively on one CPU, as rrx
# runs a recorded tree: the floor of a parallel workload's ratios), under `rrx record` with the fast
# path (the in-process syscall buffer), under `rrx record -n` (ptrace stops
# only), and `rrx replay --autopilot -q` of each of the two traces (and,
# when asked, under `strace -f`). The modes are interleaved within each
# repetition, in an order that rotates from one repetition to the next, so
# that drifts of a noisy machine hit every mode alike; the table gives
# medians as multiples of the native time, the trace bytes per event (per
# recorded syscall) and per buffered call, then the per-call cost of
# getppid natively, traced and buffered (bench/syscallbuf_micro.sh). Works
# on any rrx build: whether the fast path is the default or needs
# --syscallbuf is read from the build (bench/lib/record_modes.sh).
#
#   bash bench/run.sh [OPTIONS] [WORKLOAD|PATTERN...]
#     -r, --reps N      repetitions (default 5; 1 with --quick)
#     -q, --quick       small inputs and 1 repetition: checks that everything
#                       runs (seconds), measures nothing worth keeping
#     -m, --modes LIST  of native native1 record record-n replay replay-n strace
#                       (default: all but strace; native1: natively on one
#                       CPU, taskset); replay needs record,
#                       replay-n needs record-n
#     --no-micro        without the getppid micro-benchmark
#     --rrx PATH        the rrx binary (default $RRX or BUILD/bin/rrx)
#     -l, --list        list the workloads and exit
#   WORKLOAD: names or shell patterns (dd-*); default: all of them.
#
# Prints progress on stderr, then the results on stdout: an aligned table and
# the same as Markdown for bench/RESULTS.md. Exit status 0 when every run of
# every mode exited as the native run did, 1 otherwise (the table says
# which), 2 on bad usage.
# Environment: RRX_BUILD_DIR (default build), RRX, RRX_TEST_PROGRAMS,
# BENCH_DATA_DIR (cached generated text, default BUILD/bench-data),
# BENCH_TIMEOUT (seconds one run may take, default 900), BENCH_KEEP=1 keeps
# the work directory; BENCH_REPS / BENCH_MODES as -r / -m.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/paths.sh
source "$ROOT/bench/lib/paths.sh"
QUICK=0 MICRO=1 REPS=${BENCH_REPS:-} LIST=0
MODES_ARG=${BENCH_MODES:-native native1 record record-n replay replay-n}
FILTERS=()
usage() { sed -n '/^#   bash bench\/run.sh/,/^#   WORKLOAD/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case $1 in
    -r | --reps) (($# > 1)) || usage; REPS=$2; shift 2 ;;
    -q | --quick) QUICK=1; shift ;;
    -m | --modes) (($# > 1)) || usage; MODES_ARG=$2; shift 2 ;;
    --no-micro) MICRO=0; shift ;;
    --rrx) (($# > 1)) || usage; RRX=$2; shift 2 ;;
    -l | --list) LIST=1; shift ;;
    -h | --help) usage ;;
    --) shift; FILTERS+=("$@"); break ;;
    -*) echo "bench: unknown option $1" >&2; usage ;;
    *) FILTERS+=("$1"); shift ;;
  esac
done
[[ -n $REPS ]] || REPS=$((QUICK ? 1 : 5))
[[ $REPS =~ ^[1-9][0-9]*$ ]] || { echo "bench: --reps wants a positive number, not '$REPS'" >&2; exit 2; }
[[ $RRX == */* ]] || RRX=$(command -v "$RRX" || echo "$RRX")
[[ $RRX == /* ]] || RRX=$PWD/$RRX
# The test programs of the build the binary comes from, where there is one.
RRX_BUILD=$(cd "$(dirname "$RRX")/.." 2>/dev/null && pwd || echo "$BUILD")
if [[ -z ${RRX_TEST_PROGRAMS:-} && -d $RRX_BUILD/tests/programs ]]; then
  PROGS=$RRX_BUILD/tests/programs
else
  PROGS=${RRX_TEST_PROGRAMS:-$BUILD/tests/programs}
fi
DATA=${BENCH_DATA_DIR:-$BUILD/bench-data}
TIMEOUT=${BENCH_TIMEOUT:-900}

source "$ROOT/bench/workloads/workloads.sh"
source "$ROOT/bench/lib/record_modes.sh"

if ((LIST)); then
  WORKDIR=/tmp
  for w in "${WORKLOADS[@]}"; do workload_cmd "$w"; printf '%-16s %s\n' "$w" "$DESC"; done
  exit 0
fi

# The workloads: the patterns in the order given, each workload once.
SELECTED=()
if ((${#FILTERS[@]})); then
  for pat in "${FILTERS[@]}"; do
    found=0
    for w in "${WORKLOADS[@]}"; do
      # shellcheck disable=SC2053 # a pattern on purpose
      if [[ $w == $pat ]]; then
        found=1
        [[ " ${SELECTED[*]} " == *" $w "* ]] || SELECTED+=("$w")
      fi
    done
    ((found)) || { echo "bench: no workload matches '$pat' (bash bench/run.sh --list)" >&2; exit 2; }
  done
else
  SELECTED=("${WORKLOADS[@]}")
fi
read -r -a ASKED <<<"${MODES_ARG//,/ }"
for m in "${ASKED[@]}"; do
  case $m in native | native1 | record | record-n | replay | replay-n | strace) ;;
    *) echo "bench: unknown mode '$m' (native native1 record record-n replay replay-n strace)" >&2; exit 2 ;;
  esac
done

WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/rrx-bench.XXXXXX")
cleanup() {
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "bench: kept $WORKDIR" >&2; else rm -rf "$WORKDIR"; fi
}
trap cleanup EXIT
export RRX_TRACE_DIR=$WORKDIR/traces

has() { local m; for m in "${ASKED[@]}"; do [[ $m == "$1" ]] && return 0; done; return 1; }
drop() { local m keep=(); for m in "${ASKED[@]}"; do [[ $m == "$1" ]] || keep+=("$m"); done; ASKED=("${keep[@]}"); }

NOTES=()
HAVE_FAST=0 HAVE_PTRACE=0 DEFAULT_MODE=n/a MODES_LINE="no rrx binary: native and strace only"
if has record || has record-n || has replay || has replay-n; then
  if [[ -x $RRX ]]; then
    detect_record_modes "$WORKDIR"
    MODES_LINE=$(describe_record_modes)
  else
    echo "bench: $RRX is not built; measuring native and strace only" >&2
  fi
  if ((!HAVE_FAST)); then
    has record && NOTES+=("this rrx has no fast path: no record/replay columns")
    drop record; drop replay
  fi
  if ((!HAVE_PTRACE)); then
    has record-n && NOTES+=("this rrx cannot record with ptrace stops only: no record -n/replay -n columns")
    drop record-n; drop replay-n
  fi
fi
# native1: the first CPU this script may use (rrx binds the tree to one CPU too).
ONE_CPU=$(awk '/^Cpus_allowed_list/ {split($2, a, /[,-]/); print a[1]}' /proc/self/status 2>/dev/null)
if has native1 && { ! command -v taskset >/dev/null || [[ -z $ONE_CPU ]]; }; then
  echo "bench: no taskset, or no CPU list in /proc/self/status; skipping native1" >&2
  drop native1
fi
if has strace && ! command -v strace >/dev/null; then
  echo "bench: strace is not installed; skipping it" >&2
  drop strace
fi
# Workloads whose tools or programs are missing are left out, with a note.
RUNNABLE=()
for w in "${SELECTED[@]}"; do
  workload_cmd "$w"
  missing=""
  for tool in "${NEEDS[@]}"; do command -v "$tool" >/dev/null || missing+=" $tool"; done
  if [[ -n $missing ]]; then
    echo "bench: leaving out $w, missing:$missing" >&2
    NOTES+=("$w left out, missing:$missing")
    continue
  fi
  RUNNABLE+=("$w")
done
SELECTED=("${RUNNABLE[@]}")
((${#SELECTED[@]})) || { echo "bench: no workload can run" >&2; exit 1; }

RESULTS=$WORKDIR/results.tsv  # workload mode rep seconds status
SIZES=$WORKDIR/sizes.tsv      # workload mode rep trace_bytes dir_bytes events buffered syscallbuf
: >"$RESULTS"
: >"$SIZES"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for w in "${SELECTED[@]}"; do workload_prepare "$w"; done

# timed STATUS_VAR SECONDS_VAR CMD...: runs CMD with stdin $IN and output
# discarded (stderr kept in $WORKDIR/last.err), killed after $TIMEOUT s.
timed() {
  local -n _status=$1 _secs=$2
  shift 2
  local t0 t1
  _status=0
  t0=$EPOCHREALTIME
  timeout -k 10 "$TIMEOUT" "$@" <"$IN" >/dev/null 2>"$WORKDIR/last.err" || _status=$?
  t1=$EPOCHREALTIME
  ((_status != 124 && _status != 137)) || _status=timeout
  _secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
}

# trace_sizes W MODE REP TRACE: one line of $SIZES from `rrx info --json`.
trace_sizes() {
  local dir_bytes
  dir_bytes=$(du -sb "$4" | cut -f1)
  "$RRX" info --json "$4" 2>/dev/null </dev/null | python3 -c '
import json, os, sys
w, mode, rep, trace, dir_bytes = sys.argv[1:]
try:
    j = json.load(sys.stdin)
except Exception:
    j = {}
tb = j.get("trace_bytes")
if tb is None:
    tb = os.path.getsize(os.path.join(trace, "trace")) if os.path.exists(os.path.join(trace, "trace")) else 0
print("\t".join(str(x) for x in (w, mode, rep, tb, dir_bytes, j.get("events", 0),
      j.get("buffered_syscalls", 0), j.get("options", {}).get("syscallbuf", "?"))))
' "$1" "$2" "$3" "$4" "$dir_bytes" >>"$SIZES" || true
}

# run_mode W MODE REP: one timed run, appended to $RESULTS.
run_mode() {
  local w=$1 mode=$2 rep=$3 st secs trace=$WORKDIR/trace-$1-$3
  workload_reset "$w"
  case $mode in
    native) timed st secs "${CMD[@]}" ;;
    native1) timed st secs taskset -c "$ONE_CPU" "${CMD[@]}" ;;
    record) rm -rf "$trace"; timed st secs "$RRX" record -q "${FAST_ARGS[@]}" -o "$trace" -- "${CMD[@]}" ;;
    record-n) rm -rf "$trace-n"; timed st secs "$RRX" record -q "${PTRACE_ARGS[@]}" -o "$trace-n" -- "${CMD[@]}" ;;
    replay | replay-n)
      local t=$trace
      [[ $mode == replay ]] || t=$trace-n
      if [[ -f $t/trace ]]; then
        timed st secs "$RRX" replay --autopilot -q "$t"
      else
        st=noTrace secs=nan
      fi ;;
    strace) timed st secs strace -f -o /dev/null -- "${CMD[@]}" ;;
  esac
  local ok=ok
  if [[ $st != "${NATIVE_STATUS[$w]}" ]]; then
    ok="exit:$st"
    echo "bench: $w under $mode (rep $rep) exited $st, natively ${NATIVE_STATUS[$w]}: $(tail -n 2 "$WORKDIR/last.err" 2>/dev/null | tr '\n' ' ')" >&2
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$w" "$mode" "$rep" "$secs" "$ok" >>"$RESULTS"
  printf 'bench: rep %d %-15s %-9s %9.3fs %s\n' "$rep" "$w" "$mode" "$secs" "$ok" >&2
}

echo "bench: ${#SELECTED[@]} workloads x $REPS repetitions, modes: ${ASKED[*]}; $MODES_LINE" >&2
# Warm the page cache and learn each workload's native exit status.
declare -A NATIVE_STATUS
for w in "${SELECTED[@]}"; do
  workload_cmd "$w"
  workload_reset "$w"
  timed st secs "${CMD[@]}"
  NATIVE_STATUS[$w]=$st
  [[ $st == 0 ]] || echo "bench: note: $w exits $st natively: $(tail -n 2 "$WORKDIR/last.err" | tr '\n' ' ')" >&2
done

# The units of one repetition (a recording and the replay of its trace
# stay together), rotated by one at each repetition.
UNITS=()
has native && UNITS+=(native)
has native1 && UNITS+=(native1)
{ has record || has replay; } && UNITS+=(fast)
{ has record-n || has replay-n; } && UNITS+=(ptrace)
has strace && UNITS+=(strace)
for ((rep = 1; rep <= REPS; rep++)); do
  for w in "${SELECTED[@]}"; do
    workload_cmd "$w"
    for ((u = 0; u < ${#UNITS[@]}; u++)); do
      unit=${UNITS[$(((u + rep - 1) % ${#UNITS[@]}))]}
      case $unit in
        native | native1 | strace) run_mode "$w" "$unit" "$rep" ;;
        fast) has record && run_mode "$w" record "$rep"; has replay && run_mode "$w" replay "$rep" ;;
        ptrace) has record-n && run_mode "$w" record-n "$rep"; has replay-n && run_mode "$w" replay-n "$rep" ;;
      esac
    done
    for suffix in "" -n; do
      trace=$WORKDIR/trace-$w-$rep$suffix
      if [[ -f $trace/trace ]]; then trace_sizes "$w" "record$suffix" "$rep" "$trace"; fi
      rm -rf "$trace"
    done
  done
done
for w in "${SELECTED[@]}"; do workload_reset "$w"; done

MICRO_OUT=$WORKDIR/micro.md
: >"$MICRO_OUT"
if ((MICRO)) && [[ -x $RRX ]] && { ((HAVE_FAST)) || ((HAVE_PTRACE)); }; then
  echo "bench: getppid micro-benchmark (bench/syscallbuf_micro.sh)" >&2
  if ! RRX=$RRX RRX_BUILD_DIR=$RRX_BUILD BENCH_REPS=$REPS \
    bash "$ROOT/bench/syscallbuf_micro.sh" --markdown "$((QUICK ? 2000 : 200000))" >"$MICRO_OUT" 2>"$WORKDIR/micro.err"; then
    echo "bench: the micro-benchmark failed: $(tail -n 3 "$WORKDIR/micro.err" | tr '\n' ' ')" >&2
    printf 'getppid micro-benchmark failed: %s\n' "$(tail -n 1 "$WORKDIR/micro.err")" >"$MICRO_OUT"
  fi
fi

CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
REV=$(git -C "$(dirname "$RRX")" describe --always --dirty --abbrev=7 2>/dev/null || echo unknown)
REV_DATE=$(git -C "$(dirname "$RRX")" log -1 --format=%cd --date=format:'%Y-%m-%d %H:%M' 2>/dev/null || echo unknown)
STRATEGY=n/a
if [[ -x $RRX ]]; then
  STRATEGY=$(timeout 20 "$RRX" replay --list-skip-strategies 2>/dev/null </dev/null | head -n 1 || true)
fi
DESCS=$WORKDIR/descs.tsv
for w in "${SELECTED[@]}"; do workload_cmd "$w"; printf '%s\t%s\t%s\t%s\n' "$w" "$KIND" "$TARGET" "$DESC"; done >"$DESCS"
printf '%s\n' "${NOTES[@]}" >"$WORKDIR/notes"

B_REPS=$REPS B_QUICK=$QUICK B_KERNEL=$(uname -r) B_CPU=${CPU:-unknown} B_NCPU=$(nproc) B_REV=$REV \
B_REV_DATE=$REV_DATE B_RRX=$RRX B_STRATEGY=${STRATEGY:-n/a} B_MODES_LINE=$MODES_LINE \
B_DATE=$(date -u '+%Y-%m-%d %H:%M UTC') B_LOAD="$LOAD_BEFORE -> $(cut -d' ' -f1-3 /proc/loadavg)" \
  python3 - "$RESULTS" "$SIZES" "$DESCS" "$WORKDIR/notes" "$MICRO_OUT" <<'PY'
import collections, os, statistics, sys

results, sizes, descs, notes_file, micro_file = sys.argv[1:]
info = {k[2:].lower(): v for k, v in os.environ.items() if k.startswith("B_")}
info["quick"] = info["quick"] == "1"
workloads, kinds, targets, desc = [], {}, {}, {}
for line in open(descs):
    w, k, t, d = line.rstrip("\n").split("\t")
    workloads.append(w); kinds[w] = k; targets[w] = float(t) if t else None; desc[w] = d
times = collections.defaultdict(list)
bad = collections.Counter()
modes_seen = []
for line in open(results):
    w, mode, rep, secs, ok = line.rstrip("\n").split("\t")
    if mode not in modes_seen:
        modes_seen.append(mode)
    if ok != "ok" or secs == "nan":
        bad[(w, mode)] += 1
        continue
    times[(w, mode)].append(float(secs))
sz = collections.defaultdict(list)  # (w, mode) -> [(trace_bytes, dir_bytes, events, buffered)]
sb_seen = collections.defaultdict(set)
for line in open(sizes):
    w, mode, rep, tb, db, ev, buf, sb = line.rstrip("\n").split("\t")
    sz[(w, mode)].append((int(tb), int(db), int(ev), int(buf)))
    sb_seen[mode].add(sb)

def med(w, mode):
    v = times.get((w, mode))
    return statistics.median(v) if v else None

def med_sz(w, mode, i):
    v = sz.get((w, mode))
    return statistics.median(x[i] for x in v) if v else None

labels = {"native1": "1 CPU x", "record": "record x", "record-n": "record -n x", "replay": "replay x",
          "replay-n": "replay -n x", "strace": "strace x"}
ratio_modes = [m for m in ("native1", "record", "record-n", "replay", "replay-n", "strace") if m in modes_seen]
header = ["workload", "native s"] + [labels[m] for m in ratio_modes]
have_sizes = bool(sz)
if have_sizes:
    header += ["events", "buffered", "B/event -n", "B/event", "B/buffered call", "trace MB"]
rows, met, missed = [], collections.defaultdict(list), collections.defaultdict(list)
for w in workloads:
    n = med(w, "native")
    row = [w, "%.3f" % n if n is not None else "fail"]
    for m in ratio_modes:
        t = med(w, m)
        if t is None or not n:
            cell = "fail"
        else:
            x = t / n
            cell = "%.2f" % x
            target = targets[w] if m == "record" else 1.5 if m == "replay" else None
            if target is not None:
                (met if x <= target else missed)[m].append(w)
                cell += " ✓" if x <= target else " ✗"
        if bad[(w, m)]:
            cell += " (%d failed)" % bad[(w, m)]
        row.append(cell)
    if have_sizes:
        fast = (w, "record") in sz
        main = "record" if fast else "record-n"
        ev = med_sz(w, main, 2); buf = med_sz(w, "record", 3) if fast else None
        tbf = med_sz(w, "record", 0); tbn = med_sz(w, "record-n", 0); evn = med_sz(w, "record-n", 2)
        cells = ["%d" % ev if ev is not None else "n/a"]
        cells.append("%d (%.0f%%)" % (buf, 100.0 * buf / ev) if buf is not None and ev else "n/a")
        cells.append("%.1f" % (tbn / evn) if tbn is not None and evn else "n/a")
        cells.append("%.1f" % (tbf / ev) if tbf is not None and ev else "n/a")
        # A buffered call's bytes: the fast trace less what its traced
        # events would cost at the -n trace's bytes per event.
        per_buf = "-"
        if buf and ev and tbn is not None and evn and buf >= max(100, 0.05 * ev):
            per_buf = "%.1f" % ((tbf - tbn / evn * (ev - buf)) / buf)
        cells.append(per_buf)
        db = med_sz(w, main, 1)
        cells.append("%.1f" % (db / 1e6) if db is not None else "n/a")
        row += cells
    rows.append(row)

notes = [l for l in open(notes_file).read().split("\n") if l]
for m, label in (("record", "fast path"), ("record-n", "-n")):
    if m in sb_seen and sb_seen[m] - {"?"} and sb_seen[m] != ({"on"} if m == "record" else {"off"}):
        notes.append("%s traces say syscallbuf=%s" % (label, "/".join(sorted(sb_seen[m]))))
micro = open(micro_file).read().strip()

print()
print("%s; rrx %s (%s); kernel %s; %s x %s CPUs; %s repetitions, medians%s; load %s" % (
    info["date"], info["rev"], info["rrx"], info["kernel"], info["cpu"], info["ncpu"], info["reps"],
    " (QUICK: small inputs, not a measurement)" if info["quick"] else "", info["load"]))
print(info["modes_line"])
widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
fmt = "  ".join("%%-%ds" % wd for wd in widths)
print(fmt % tuple(header))
for r in rows:
    print(fmt % tuple(r))
print()
print("Markdown:")
print()
print("- measured %s; rrx built from %s (commit date %s); %s" % (info["date"], info["rev"], info["rev_date"],
      "**quick mode: small inputs, one repetition: not a measurement**" if info["quick"] else
      "%s repetitions, medians" % info["reps"]))
print("- %s" % info["modes_line"])
print("- kernel `%s`; %s (%s CPUs); replay skip strategy `%s`; load average %s" % (
    info["kernel"], info["cpu"], info["ncpu"], info["strategy"], info["load"]))
print("- x: time as a multiple of the native time (✓/✗: issue 13's record target, issue 15's replay target "
      "≤ 1.5×); 1 CPU x: the native run bound to one CPU (taskset), as rrx runs a recorded or replayed tree: "
      "what serializing a parallel workload costs by itself; events and trace MB: the fast-path trace; buffered: the calls it recorded in-process; "
      "B/event: `trace` file bytes per event (-n: per recorded syscall); B/buffered call: the fast trace's "
      "bytes less its traced events at the -n rate, per buffered call (where at least 5% of the calls were buffered)")
for note in notes:
    print("- note: %s" % note)
print()
print("| " + " | ".join(header) + " |")
print("|" + "|".join("---" if i == 0 else "--:" for i in range(len(header))) + "|")
for r in rows:
    print("| " + " | ".join(r) + " |")
print()
for m, what in (("record", "record with the fast path"), ("replay", "replay of the fast-path trace")):
    if met[m] or missed[m]:
        print("%s on target: %d of %d%s" % (what, len(met[m]), len(met[m]) + len(missed[m]),
              " (over: %s)" % ", ".join(missed[m]) if missed[m] else ""))
if micro:
    print()
    print(micro)
print()
print("Workloads:")
for w in workloads:
    target = " (record target ≤ %g×)" % targets[w] if targets[w] else ""
    print("- `%s` (%s): %s%s" % (w, kinds[w], desc[w], target))
PY
STATUS=0
if awk -F'\t' '$5 != "ok" {bad = 1} END {exit !bad}' "$RESULTS"; then STATUS=1; fi
exit $STATUS
