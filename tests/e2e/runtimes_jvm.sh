#!/usr/bin/env bash
# The JVM under rrx: a Java program with plain Threads, an ExecutorService
# and a synchronized counter (tests/e2e/data/JvmThreads.java, compiled here
# with javac natively). Besides the program's threads the JVM starts its own
# (GC, JIT compilers, signal dispatcher, finalizer...), which block in futex
# while others run. The output does not depend on scheduling.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

JAVA=$(command -v java || true)
JAVAC=$(command -v javac || true)
[[ -n $JAVA && -n $JAVAC ]] || skip_all "java/javac are not installed (Debian package default-jdk-headless)"

mkdir -p "$WORK/classes"
if ! "$JAVAC" -d "$WORK/classes" "$E2E_DATA/JvmThreads.java" >"$WORK/javac.log" 2>&1; then
  CHECKS=$((CHECKS + 1))
  fail "javac tests/e2e/data/JvmThreads.java failed"
  show_file "javac output" "$WORK/javac.log"
  rr_finish
fi
rr_check_native jvm_threads --stdout-has "pool terminated: true" -- "$JAVA" -cp "$WORK/classes" JvmThreads
check_dump_tree jvm_threads 5 '\bclone3?\('

rr_finish
