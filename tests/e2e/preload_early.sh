#!/usr/bin/env bash
# The syscall buffer set up by the recorder when the dynamic loader has
# mapped the preload library (record/preload_early.h; core/syscallbuf_abi.h,
# "Early set-up"): the loader's own calls after that (each library's openat,
# read, fstat, close, the RELRO mprotects) are buffered like the program's,
# the replay applies the same set-up at the same event and replays them
# without a stop, and the outputs are the same as with the set-up off
# (RRX_EARLY_SETUP=0: the library's constructor sets itself up). A thread
# started by another library's constructor, before rrx's library's own, ends
# the early set-up (it would share its thread-locals): both threads then
# set up their buffers at their next calls.
# rrx-e2e: one record mode (the early set-up is the fast path's)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# (Opt-in while a flake it brings to gdb fatal_signals is open: bench/RESULTS-syscallbuf.md, stop 35.)
export RRX_EARLY_SETUP=1

early_line="syscall buffer set up before the library"
# Whether the early set-up comes before the library's constructor's rrx_init_buffer of the same buffer.
setup_then_init() {
  grep -n -e "$early_line" -e "rrx_init_buffer(0x6fefb000" "$1" | head -2 | cut -d: -f2- | tr '\n' ' ' |
    grep -q "syscall buffer set up.*rrx_init_buffer"
}
no_early() { ! grep -q "$early_line" "$1"; }
libc_traced() { grep -E 'openat\(AT_FDCWD, "[^"]*/libc\.so\.6"' "$1" | grep -vq buffered; }
if [[ -x /usr/bin/python3 ]]; then
  code='import json, zlib; print(json.dumps([1, 2]), zlib.crc32(b"rrx"))'
  rr_check py --record-arg --syscallbuf --stdout-has "[1, 2] 3957557078" -- /usr/bin/python3 -c "$code"
  if [[ -f $WORK/py.trace/trace ]]; then
    rrx_run "$WORK/py.dump" dump "$WORK/py.trace"
    check "python: the buffer is set up at the loader's mapping of the library" grep -q "$early_line" "$WORK/py.dump.out"
    check "python: the loader's openat of libc is a buffered call" \
      grep -Eq 'openat\(AT_FDCWD, "[^"]*/libc\.so\.6", O_RDONLY\|O_CLOEXEC\) = [0-9]+ \(buffered\)' "$WORK/py.dump.out"
    # The set-up, then the library's constructor registers the same buffer (its desched event).
    check "python: the constructor's rrx_init_buffer comes after the set-up and names its buffer" \
      setup_then_init "$WORK/py.dump.out"
  fi
  RRX_EARLY_SETUP=0 rr_check py_late --record-arg --syscallbuf --stdout-has "[1, 2] 3957557078" -- /usr/bin/python3 -c "$code"
  if [[ -f $WORK/py_late.trace/trace ]]; then
    rrx_run "$WORK/py_late.dump" dump "$WORK/py_late.trace"
    check "python, RRX_EARLY_SETUP=0: no early set-up" no_early "$WORK/py_late.dump.out"
    check "python, RRX_EARLY_SETUP=0: the loader's openat of libc is traced" \
      libc_traced "$WORK/py_late.dump.out"
  fi
fi

# A library whose constructor starts a thread (both make file calls) before
# rrx's library's constructor has run.
if command -v cc >/dev/null 2>&1; then
  D=$RRX_SOURCE_DIR/tests/e2e/data/preload_early
  if cc -O1 -shared -fPIC -o "$WORK/libctor_thread.so" "$D/ctor_thread_lib.c" -lpthread &&
    cc -O1 -o "$WORK/ctor_thread" "$D/ctor_thread_main.c" -L"$WORK" -lctor_thread -Wl,-rpath,"$WORK"; then
    rr_check ctor_thread --record-arg --syscallbuf --stdout-has "sum 400" -- "$WORK/ctor_thread"
    if [[ -f $WORK/ctor_thread.trace/trace ]]; then
      rrx_run "$WORK/ctor_thread.dump" dump "$WORK/ctor_thread.trace"
      check "ctor_thread: the early set-up is ended at the constructor's clone" \
        grep -q "the early syscall buffer set-up ended" "$WORK/ctor_thread.dump.out"
      check "ctor_thread: the thread's calls are buffered after it" grep -q "(buffered)" "$WORK/ctor_thread.dump.out"
    fi
  else
    fail "ctor_thread: the test library and program build"
  fi
fi

rr_finish
