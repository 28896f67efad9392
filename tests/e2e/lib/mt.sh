# Helpers for the threads/processes/signals end-to-end tests (sourced after
# lib/common.sh by tests/e2e/{threads,processes,signals,pipelines,
# recorder_signals}.sh).
#
#     rr_check_native NAME [rr_record options] -- CMD ARGS...
#         runs CMD natively first (same stdin), then rr_check; the recorded
#         stdout and exit status must equal the native ones (for programs
#         whose output does not depend on scheduling).
#     check_dump_tree NAME MIN_IDS REGEX
#         `rrx dump` of NAME's trace lists events of at least MIN_IDS distinct
#         threads/processes and a line matching REGEX (grep -E), e.g. clone.
#     start_bg_record NAME -- CMD ARGS...
#         starts `rrx record -o $WORK/NAME.trace -- CMD` in the background with
#         SIGINT, SIGQUIT, SIGTERM and SIGHUP at their default (as in a
#         foreground shell); REC_PID is rrx's pid. wait_bg_record NAME SECONDS waits
#         for it and leaves $WORK/NAME.rec.{out,rawerr,err,rc} as rr_record
#         does, so that rr_replay_check NAME works; REC_RC is its status.
#     wait_for_file FILE SECONDS [PID] / wait_for_line FILE REGEX SECONDS [PID]
#     proc_exe PID / check_gone NAME LABEL PID EXE

# No core files in the build directory from the programs killed on purpose.
ulimit -c 0 2>/dev/null || true

# rr_check_native NAME [--status N] [--stdin FILE] [--stdout-has TEXT] -- CMD ARGS...
rr_check_native() {
  local name=$1
  shift
  local args=("$@") stdin=/dev/null i
  for ((i = 0; i < ${#args[@]}; i++)); do
    [[ ${args[i]} == -- ]] && break
    [[ ${args[i]} == --stdin ]] && stdin=${args[i + 1]}
  done
  local cmd=("${args[@]:i+1}")
  run_capture "$WORK/$name.native" --stdin "$stdin" -- "${cmd[@]}"
  rr_record "$name" "${args[@]}" || return 0
  CHECKS=$((CHECKS + 1))
  local native_rc rec_rc
  native_rc=$(cat "$WORK/$name.native.rc")
  rec_rc=$(cat "$WORK/$name.rec.rc")
  if [[ $native_rc == "$rec_rc" ]] && cmp -s "$WORK/$name.native.out" "$WORK/$name.rec.out"; then
    pass "$name: the recording behaves as the native run (exit $rec_rc, same stdout)"
  else
    fail "$name: recorded exit $rec_rc and stdout differ from the native run (exit $native_rc)"
    show_diff "native stdout" "$WORK/$name.native.out" "recorded stdout" "$WORK/$name.rec.out"
    show_file "record stderr" "$WORK/$name.rec.rawerr"
  fi
  rr_replay_check "$name"
}

# check_dump_tree NAME MIN_IDS REGEX: rrx dump of the trace names at least
# MIN_IDS distinct thread ids (the "[ID]" after each event number; "[P.T]"
# or "[P/T]" forms count as distinct pairs) and has a line matching REGEX.
check_dump_tree() {
  local name=$1 min=$2 regex=$3
  [[ -f $WORK/$name.trace/trace ]] || return 0
  rrx_run "$WORK/$name.dump" dump "$WORK/$name.trace"
  CHECKS=$((CHECKS + 1))
  local ids
  ids=$(sed -n -E 's/^ *[0-9]+ +\[([0-9]+([./:][0-9]+)?)\].*/\1/p' "$WORK/$name.dump.out" | sort -u | wc -l)
  if ((RUN_RC == 0 && ids >= min)) && grep -Eq -- "$regex" "$WORK/$name.dump.out"; then
    pass "$name: rrx dump shows $ids threads/processes and /$regex/"
  else
    fail "$name: rrx dump (exit $RUN_RC) shows $ids distinct ids (want >= $min), or nothing matches /$regex/"
    show_file "dump stdout" "$WORK/$name.dump.out" 30
    show_file "dump stderr" "$WORK/$name.dump.rawerr"
  fi
}

# wait_for_file FILE SECONDS [PID]: 0 once FILE is non-empty; 1 after
# SECONDS, or as soon as process PID (when given) has exited.
wait_for_file() {
  local file=$1 limit=$2 pid=${3:-} i
  for ((i = 0; i < limit * 10; i++)); do
    [[ -s $file ]] && return 0
    [[ -z $pid ]] || kill -0 "$pid" 2>/dev/null || { [[ -s $file ]]; return; }
    sleep 0.1
  done
  return 1
}

# wait_for_line FILE REGEX SECONDS [PID]: 0 once a line of FILE matches
# REGEX (grep -E); 1 after SECONDS, or as soon as PID (when given) has exited.
wait_for_line() {
  local file=$1 regex=$2 limit=$3 pid=${4:-} i
  for ((i = 0; i < limit * 10; i++)); do
    grep -Eq -- "$regex" "$file" 2>/dev/null && return 0
    [[ -z $pid ]] || kill -0 "$pid" 2>/dev/null || { grep -Eq -- "$regex" "$file" 2>/dev/null; return; }
    sleep 0.1
  done
  return 1
}

# proc_exe PID: the executable of a running process ("" when gone).
proc_exe() { readlink "/proc/$1/exe" 2>/dev/null || true; }

# check_gone NAME LABEL PID EXE: PID (which ran EXE) exits within 5 s.
check_gone() {
  local name=$1 label=$2 pid=$3 exe=$4 i
  CHECKS=$((CHECKS + 1))
  if [[ -z $pid || -z $exe ]]; then
    fail "$name: no pid or executable known for $label"
    return 0
  fi
  for ((i = 0; i < 50; i++)); do
    [[ $(proc_exe "$pid") == "$exe" ]] || break
    sleep 0.1
  done
  if [[ $(proc_exe "$pid") == "$exe" ]]; then
    fail "$name: $label (pid $pid) outlived the recorder"
    kill -KILL "$pid" 2>/dev/null || true
  else
    pass "$name: $label (pid $pid) did not outlive the recorder"
  fi
}

# The recorder runs with SIGINT/SIGQUIT/SIGTERM/SIGHUP at their default, as
# when started from an interactive shell or a CI runner: bash starts the
# background jobs of a script with SIGINT and SIGQUIT ignored, and the
# recorded programs would inherit that (the replays, run in the foreground,
# would not: signals.sh tests inherited dispositions on their own).
_MT_DEFAULT_SIGNALS=()
if env --default-signal=INT,QUIT,TERM,HUP true 2>/dev/null; then
  _MT_DEFAULT_SIGNALS=(env --default-signal=INT,QUIT,TERM,HUP)
fi

# start_bg_record NAME -- CMD ARGS...: sets REC_PID (rrx) and BG_SUB_PID.
start_bg_record() {
  local name=$1
  shift
  [[ ${1:-} == -- ]] && shift
  if [[ -e $WORK/$name.trace ]]; then
    echo "start_bg_record: name $name used twice" >&2
    exit 2
  fi
  rm -f "$WORK/$name.bgpid" "$WORK/$name.rec.rc"
  (
    ${_MT_DEFAULT_SIGNALS[@]+"${_MT_DEFAULT_SIGNALS[@]}"} "$RRX" record -o "$WORK/$name.trace" -- "$@" \
      </dev/null >"$WORK/$name.rec.out" 2>"$WORK/$name.rec.rawerr" &
    echo $! >"$WORK/$name.bgpid"
    rc=0
    wait $! 2>/dev/null || rc=$?
    echo "$rc" >"$WORK/$name.rec.rc"
  ) &
  BG_SUB_PID=$!
  wait_for_file "$WORK/$name.bgpid" 10 || true
  REC_PID=$(cat "$WORK/$name.bgpid" 2>/dev/null || true)
}

# wait_bg_record NAME SECONDS: waits for the recorder (killing it after
# SECONDS, which counts as a failure); REC_RC is its exit status.
wait_bg_record() {
  local name=$1 limit=$2 i
  for ((i = 0; i < limit * 10; i++)); do
    kill -0 "$REC_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$REC_PID" 2>/dev/null; then
    CHECKS=$((CHECKS + 1))
    fail "$name: rrx record still running after ${limit}s; killing it"
    kill -KILL "$REC_PID" 2>/dev/null || true
  fi
  wait "$BG_SUB_PID" 2>/dev/null || true
  REC_RC=$(cat "$WORK/$name.rec.rc" 2>/dev/null || echo unknown)
  [[ -f $WORK/$name.rec.rc ]] || echo "$REC_RC" >"$WORK/$name.rec.rc"
  LC_ALL=C sed -e '/^rrx:/d' "$WORK/$name.rec.rawerr" >"$WORK/$name.rec.err"
}

# check_info_complete NAME: `rrx info --json` says "complete": true.
check_info_complete() {
  local name=$1
  rrx_run "$WORK/$name.info" info --json "$WORK/$name.trace"
  CHECKS=$((CHECKS + 1))
  if ((RUN_RC == 0)) && python3 -c '
import json, sys
info = json.load(open(sys.argv[1]))
sys.exit(0 if info.get("complete") is True else 1)' "$WORK/$name.info.out" 2>/dev/null; then
    pass "$name: rrx info --json says complete"
  else
    fail "$name: rrx info --json (exit $RUN_RC) does not say \"complete\": true"
    show_file "info stdout" "$WORK/$name.info.out" 40
    show_file "info stderr" "$WORK/$name.info.rawerr"
  fi
}
