#!/usr/bin/env bash
# A two-minute tour: set up and build, record a small program whose output
# changes on every run (time, random bytes, pid, TSC), replay the recording
# twice and show that the replays print exactly what the recording printed,
# while a new native run prints other values. Then `rrx dump` and `rrx info`.
#
#   bash scripts/demo.sh
#
# Exits non-zero if a replay differs from the recording. RRX_BUILD_DIR
# (default build) is where it builds; RRX overrides the rrx binary used.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${RRX_BUILD_DIR:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
RRX=${RRX:-$BUILD/bin/rrx}

bold() { if [[ -t 1 ]]; then printf '\n\033[1m%s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi; }
indent() { sed 's/^/    /'; }

DEMO=$(mktemp -d "${TMPDIR:-/tmp}/rrx-demo.XXXXXX")
cleanup() {
  if [[ ${DEMO_KEEP:-0} == 1 ]]; then echo "(kept $DEMO)"; else rm -rf "$DEMO"; fi
}
trap cleanup EXIT

bold "Setting up and building (scripts/setup.sh)"
if bash scripts/setup.sh >"$DEMO/setup.log" 2>&1; then
  echo "    ok: $RRX"
else
  tail -n 30 "$DEMO/setup.log" | indent
  echo "setup failed (full log above)" >&2
  exit 1
fi

SAMPLE=$BUILD/tests/programs/hello_random
if [[ ! -x $SAMPLE ]]; then
  SAMPLE=$DEMO/hello_random
  cc -g -O0 -o "$SAMPLE" tests/programs/hello_random.c
fi
export RRX_TRACE_DIR=$DEMO/traces

bold "The sample program (tests/programs/hello_random.c), run natively"
"$SAMPLE" | indent

bold "Recording it: rrx record $(basename "$SAMPLE")"
rc=0
timeout 300 "$RRX" record -- "$SAMPLE" >"$DEMO/record.out" 2>"$DEMO/record.err" </dev/null || rc=$?
indent <"$DEMO/record.out"
indent <"$DEMO/record.err"
if ((rc != 0)); then
  echo "rrx record exited $rc" >&2
  exit 1
fi
TRACE=$(basename "$(readlink "$RRX_TRACE_DIR/latest-trace" 2>/dev/null || echo '?')")

status=0
for i in 1 2; do
  bold "Replay $i: rrx replay --autopilot   (the latest trace, $TRACE)"
  rc=0
  timeout 300 "$RRX" replay --autopilot >"$DEMO/replay$i.out" 2>"$DEMO/replay$i.err" </dev/null || rc=$?
  indent <"$DEMO/replay$i.out"
  grep -v '^rrx:' "$DEMO/replay$i.err" | indent || true
  if ((rc == 0)) && cmp -s "$DEMO/record.out" "$DEMO/replay$i.out"; then
    echo "    -> identical to the recording"
  else
    echo "    -> DIFFERENT from the recording (rrx replay exited $rc):"
    diff -u --label recording --label "replay $i" "$DEMO/record.out" "$DEMO/replay$i.out" | indent || true
    indent <"$DEMO/replay$i.err"
    status=1
  fi
done

bold "The program run natively again: other values"
"$SAMPLE" >"$DEMO/native2.out"
indent <"$DEMO/native2.out"
if cmp -s "$DEMO/record.out" "$DEMO/native2.out"; then
  echo "    (the same values as the recording, which is unusual)"
else
  echo "    -> differs from the recording, as expected"
fi

bold "rrx dump | head -n 15   (the recorded events)"
rc=0
timeout 300 "$RRX" dump >"$DEMO/dump.out" 2>&1 </dev/null || rc=$?
head -n 15 "$DEMO/dump.out" | indent
echo "    ... $(wc -l <"$DEMO/dump.out") lines in all"
((rc == 0)) || { echo "rrx dump exited $rc" >&2; status=1; }

bold "rrx info $TRACE"
rc=0
timeout 300 "$RRX" info "$TRACE" 2>&1 </dev/null | indent || rc=$?
((rc == 0)) || { echo "rrx info exited $rc" >&2; status=1; }

if ((status == 0)); then
  bold "Both replays printed exactly what the recording printed."
else
  bold "A replay did not match the recording." >&2
fi
exit "$status"
