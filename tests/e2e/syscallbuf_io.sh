#!/usr/bin/env bash
# The syscall buffer's file and I/O calls (rrx record --syscallbuf): reads and
# writes of files and /dev/null, open/close, the stat family, readlink, access
# are buffered (events of their own in `rrx dump`, marked "(buffered)", with
# the bytes each read); reads that would block (an empty pipe a thread fills
# later, a socket a child writes later) stay traced and do not hang the tree;
# a child killed during buffered calls loses none of them; replay is exact.
# rrx-e2e: one record mode (each recording names its mode)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

P=$(prog syscallbuf_io)
mkdir -p "$WORK/files"
# The checked mode (RRX_DESCHED=0: what an unprivileged user gets), whose fd
# checks this looks for; tests/e2e/desched.sh covers the desched event.
RRX_DESCHED=0 rr_check io --stdout-has "busy child killed by 9" --record-arg --syscallbuf -- "$P" "$WORK/files"
# With the desched event (opt-in: RRX_DESCHED=1) where it can be used (as root here).
if [[ ${RRX_DESCHED:-} != 0 ]] && { [[ $(id -u) == 0 ]] || (($(cat /proc/sys/kernel/perf_event_paranoid) <= 1)); }; then
  RRX_DESCHED=1 rr_check io_desched --stdout-has "busy child killed by 9" --record-arg --syscallbuf -- "$P" "$WORK/files"
fi
T=$(rr_trace io)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/io.dump" dump "$T"
  D=$WORK/io.dump.out
  n=$(grep -c '^[0-9]* .* read(.*(buffered)' "$D" || true)
  check "io: file reads are buffered (got $n)" test "$n" -ge 400
  n=$(grep -c '^[0-9]* .* write(.*(buffered)' "$D" || true)
  check "io: file and /dev/null writes are buffered (got $n)" test "$n" -ge 600
  check "io: openat is buffered" grep -q 'openat(.*(buffered)' "$D"
  check "io: pread64 is buffered" grep -q 'pread64(.* = 3 (buffered)' "$D"
  check "io: newfstatat is buffered" grep -q 'newfstatat(.*(buffered)' "$D"
  check "io: readlink is buffered" grep -q 'readlink(.*(buffered)' "$D"
  check "io: a failed access keeps its error" grep -q 'access(.* = -1 ENOENT.*(buffered)' "$D"
  check "io: the empty non-blocking pipe read is buffered" grep -q 'read(.* = -1 EAGAIN.*(buffered)' "$D"
  check "io: the fd checks are buffered (fcntl F_GETFL, ioctl FIONREAD)" grep -q 'ioctl(.*FIONREAD.*(buffered)' "$D"
  # The reads that had to wait are traced: the pipe's 16 bytes, the socket's 15.
  check "io: the blocking pipe read is traced" grep -qE 'read\([0-9]+, .*\) = 16$' "$D"
  check "io: the blocking socket read is traced" grep -qE 'read\([0-9]+, .*\) = 15$' "$D"
  check "io: event numbers are distinct" bash -c \
    "awk '{print \$1}' '$D' | grep -E '^[0-9]+$' | sort -n | uniq -d | wc -l | grep -qx 0"
fi

# The same program without the fast path.
rr_check io_unbuffered --stdout-has "busy child killed by 9" --record-arg -n -- "$P" "$WORK/files"

# Tools that read and write files: dd of 512-byte blocks through a file and
# /dev/null, find over a tree, a shell pipeline (pipes stay traced).
mkdir -p "$WORK/tree/a/b" "$WORK/tree/c"
for i in 1 2 3 4 5; do echo "$i" > "$WORK/tree/a/b/f$i"; echo "$i" > "$WORK/tree/c/g$i"; done
rr_check dd --record-arg --syscallbuf -- /bin/sh -c "dd if=/dev/zero of=$WORK/files/dd.out bs=512 count=2000 2>/dev/null && dd if=$WORK/files/dd.out of=/dev/null bs=512 2>&1 | tail -1 | cut -d' ' -f1"
rr_check find --record-arg --syscallbuf -- /bin/sh -c "cd $WORK/tree && find . | sort"
rr_check pipeline --stdout-has "5" --record-arg --syscallbuf -- /bin/sh -c "cat $WORK/tree/a/b/f* | sort -r | head -1"

rr_finish
