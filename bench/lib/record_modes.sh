# shellcheck shell=bash
# How to ask an rrx binary for each recording mode (sourced by bench/run.sh
# and bench/syscallbuf_micro.sh): the fast path (the in-process syscall
# buffer) was opt-in with --syscallbuf and becomes the default, with
# -n/--no-syscallbuf for ptrace stops only. Works on either kind of build.
#
# detect_record_modes WORKDIR (with RRX set to the binary) sets:
#   DEFAULT_MODE   fast or ptrace: what `rrx record` does without a flag
#                  (recorded once and read back from `rrx info --json`; the
#                  help text only where that fails)
#   DEFAULT_FROM   how DEFAULT_MODE was found (trace or help)
#   HAVE_FAST, FAST_ARGS      1 and the flags for the fast path, or 0
#   HAVE_PTRACE, PTRACE_ARGS  1 and the flags for ptrace only, or 0
# trace_syscallbuf TRACE prints the trace's own record of its mode (on, off,
# or "?" when the build does not write one).

detect_record_modes() {
  local work=$1 help has_on=0 has_no=0 probe
  help=$("$RRX" record --help 2>&1 </dev/null || true)
  grep -Eq -- '--no-syscallbuf' <<<"$help" && has_no=1
  grep -Eq -- '(^|[ ,])--syscallbuf([ ,]|$)' <<<"$help" && has_on=1

  DEFAULT_MODE=ptrace DEFAULT_FROM=help
  # The help text: the option whose description says "(the default)" or
  # "on by default" wins; without either flag the build has no fast path.
  local desc_no desc_on
  desc_no=$(awk '/--no-syscallbuf/ {p = 1; print; next} p && /^  +-/ {p = 0} p' <<<"$help")
  desc_on=$(awk '/(^|[ ,])--syscallbuf([ ,]|$)/ && !/^ *-n,/ {p = 1; print; next} p && /^  +-/ {p = 0} p' <<<"$help")
  if grep -Eqi 'on by default|\(the default\)|default: on' <<<"$desc_on"; then
    DEFAULT_MODE=fast
  elif ((has_no)) && ! grep -Eqi '\(the default\)' <<<"$desc_no" && ! grep -Eqi 'off by default' <<<"$desc_on"; then
    DEFAULT_MODE=fast
  fi
  # What a recording without a flag says about itself decides.
  probe=$work/mode-probe
  rm -rf "$probe"
  if "$RRX" record -q -o "$probe" -- /bin/true >/dev/null 2>&1 </dev/null; then
    case $(trace_syscallbuf "$probe") in
      on) DEFAULT_MODE=fast DEFAULT_FROM=trace ;;
      off) DEFAULT_MODE=ptrace DEFAULT_FROM=trace ;;
    esac
  fi
  rm -rf "$probe"

  HAVE_FAST=0 FAST_ARGS=() HAVE_PTRACE=0 PTRACE_ARGS=()
  if [[ $DEFAULT_MODE == fast ]]; then
    HAVE_FAST=1
  elif ((has_on)); then
    HAVE_FAST=1 FAST_ARGS=(--syscallbuf)
  fi
  if ((has_no)); then
    HAVE_PTRACE=1 PTRACE_ARGS=(-n)
  elif [[ $DEFAULT_MODE == ptrace ]]; then
    HAVE_PTRACE=1
  fi
}

trace_syscallbuf() {
  "$RRX" info --json "$1" 2>/dev/null </dev/null | python3 -c '
import json, sys
try:
    print(json.load(sys.stdin).get("options", {}).get("syscallbuf", "?"))
except Exception:
    print("?")' 2>/dev/null || echo "?"
}

# One line for the results: which mode is the default and how each was asked for.
describe_record_modes() {
  local fast=n/a ptrace=n/a
  ((HAVE_FAST)) && fast="\`rrx record${FAST_ARGS[*]:+ ${FAST_ARGS[*]}}\`"
  ((HAVE_PTRACE)) && ptrace="\`rrx record${PTRACE_ARGS[*]:+ ${PTRACE_ARGS[*]}}\`"
  printf 'default recording mode: %s (from the %s); fast path: %s; ptrace only: %s\n' \
    "$([[ $DEFAULT_MODE == fast ]] && echo "the fast path (syscall buffer)" || echo "ptrace stops only")" \
    "$([[ $DEFAULT_FROM == trace ]] && echo "header of a probe recording" || echo "help text")" "$fast" "$ptrace"
}
