#!/usr/bin/env bash
# The IDE recipe (README "Debugging in an IDE"): the MI commands VS Code's
# C/C++ extension sends with "miDebuggerServerAddress" (and CLion's remote
# gdb, over extended-remote), replayed by tests/gdb/lib/mi_ide.py against
# `rrx replay -s 0`: breakpoints by file:line and name, the frame, stack,
# locals, variable objects, expressions, registers and memory at a stop,
# threads, step/next/finish forwards and backwards, reverse-continue, a
# refused write's reason, interrupt, the end of the recording and the exit.
source "$(dirname "$0")/lib/gdb_common.sh"
command -v python3 >/dev/null || { echo "python3 is not installed: skipped"; exit 77; }

gdb_record demo -- "$RRX_TEST_PROGRAMS/gdb_demo"
gdb_record threads -- "$RRX_TEST_PROGRAMS/mt_gdb_threads"
if timeout 300 python3 "$(dirname "$0")/lib/mi_ide.py" "$RRX" "$WORK/demo.trace" "$RRX_TEST_PROGRAMS/gdb_demo" \
  "$WORK/threads.trace" "$RRX_TEST_PROGRAMS/mt_gdb_threads" "$RRX_SOURCE_DIR/tests/programs" >"$WORK/mi.out" 2>&1; then
  grep -E '^(ok|FAIL)' "$WORK/mi.out" | sed 's/^/  /'
  CHECKS=$((CHECKS + $(grep -c '^ok:' "$WORK/mi.out")))
else
  CHECKS=$((CHECKS + 1))
  fail "the IDE's MI sequence:"
  sed 's/^/  | /' "$WORK/mi.out"
fi
gdb_finish
