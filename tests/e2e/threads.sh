#!/usr/bin/env bash
# Multi-threaded programs: pthread mutex/condvar/barrier, a spinning thread
# (no syscalls: the recorder must preempt it), a syscall restarted by the
# kernel because another thread took the signal that interrupted it, python's threading and
# concurrent.futures. Each is recorded, compared with a native run (their
# output does not depend on scheduling) and replayed with every strategy.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

rr_check_native pthreads --stdout-has "checksum = " -- "$(prog mt_pthreads)"
# rrx dump: the clone of each worker and events of 5 threads (main + 4).
check_dump_tree pthreads 5 '\bclone3?\('
rr_check_native pthreads_8x50 --stdout-has "counter = 400 " -- "$(prog mt_pthreads)" 8 50
rr_check_native spin --stdout-has "done" -- "$(prog mt_spin)"
# A signal wakes a blocked reader (-ERESTARTSYS) but the main thread takes
# it: the kernel restarts the read; the replay must too.
rr_check_native restart_elsewhere --stdout-has 'reader: read "hello"' -- "$(prog mt_restart_elsewhere)"
if [[ -f $WORK/restart_elsewhere.trace/trace ]]; then
  rrx_run "$WORK/restart_elsewhere.dump" dump "$WORK/restart_elsewhere.trace"
  if ! grep -q 'ERESTARTSYS' "$WORK/restart_elsewhere.dump.out"; then
    note "  note: restart_elsewhere: this recording has no read ended by ERESTARTSYS (the reader took the signal itself); the restart path was not exercised"
  fi
fi

PY=/usr/bin/python3
if [[ -x $PY ]]; then
  rr_check_native py_threading --stdout-has "200 items" -- "$PY" -I -c '
import threading
lock = threading.Lock()
items = []
def work(i):
    for j in range(50):
        with lock:
            items.append(i * 1000 + j)
threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
s = sorted(items)
print(len(items), "items, sum", sum(items), "first", s[:3], "last", s[-3:])
print("threads alive after join:", threading.active_count())
'
  rr_check_native py_thread_pool --stdout-has "[0, 1, 4, 9" -- "$PY" -I -c '
import concurrent.futures, time
def square(x):
    time.sleep(0.001 * (x % 3))
    return x * x
with concurrent.futures.ThreadPoolExecutor(max_workers=3) as ex:
    print(list(ex.map(square, range(20))))
    futures = [ex.submit(pow, 2, k) for k in range(10)]
    print(sorted(f.result() for f in concurrent.futures.as_completed(futures)))
'
else
  note "skip: python3 tests ($PY is not installed)"
fi

rr_finish
