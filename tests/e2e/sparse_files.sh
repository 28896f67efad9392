#!/usr/bin/env bash
# Huge files with little data (README, "How mapped files are stored"):
#  - a 50 GiB sparse file and a 1 TiB memfd with a few pages written, mapped
#    whole and read: the trace stores them sparsely (its disk usage stays a
#    few MB), and replays reproduce what the program read;
#  - with a small --max-file-data, a dense file mapped through a 64 KiB
#    window is stored as that window only, and replays read the right bytes;
#  - a copy that does not fit the trace's free space fails the recording
#    cleanly: a message naming the file and the sizes, non-zero exit, a trace
#    that says it is incomplete (aborted), which `rrx replay` refuses.
#    RRX_TEST_FREE_SPACE=BYTES (for tests only) makes the recorder believe
#    that BYTES are free on the trace's file system; rrx keeps 64 MiB free
#    beyond each copy;
#  - the same when the disk fills during the copy (ENOSPC): the trace goes to
#    a 24 MiB tmpfs (mounted in a user namespace, `unshare -rm`; skipped where
#    those are not allowed) and the check is told that 1 TiB is free.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SP=$(prog sparse_maps)
DATA=$WORK/data
mkdir -p "$DATA"

# disk_kib DIR: KiB DIR takes on disk.
disk_kib() { du -s -k "$1" | cut -f1; }
# apparent_max DIR: the largest apparent file size under DIR, in bytes.
apparent_max() { find "$1" -type f -printf '%s\n' | sort -n | tail -n 1; }

if rr_record sparse --status 0 --stdout-has "memfd stored through the mapping" -- "$SP" sparse "$DATA"; then
  rr_replay_check sparse
  T=$(rr_trace sparse)
  kib=$(disk_kib "$T")
  check "sparse: the trace takes $kib KiB on disk (less than 16 MiB)" test "$kib" -lt 16384
  big=$(apparent_max "$T/files")
  check "sparse: the 1 TiB memfd's copy is there, sparse (apparent size $big)" test "$big" -eq $((1 << 40))
  if ! grep -q 'page at .*: [0-9a-f]*, next page zeros' "$WORK/sparse.rec.out" ||
    grep -q 'NOT ZEROS' "$WORK/sparse.rec.out"; then
    fail "sparse: the program did not read its pages and holes as expected"
    show_file "record stdout" "$WORK/sparse.rec.out"
  fi
fi

if rr_record window --status 0 --record-arg --max-file-data=1M -- "$SP" sparse "$DATA"; then
  rr_replay_check window --default-only
  T=$(rr_trace window)
  check "window: same output as the whole-file recording" cmp -s "$WORK/sparse.rec.out" "$WORK/window.rec.out"
  # dense.bin (3 MiB of data) is stored as its mapped 64 KiB window only.
  sizes=$(find "$T/files" -type f -name dense.bin -printf '%s ')
  check "window: dense.bin stored as its 64 KiB window (copies: $sizes)" test "$sizes" = "65536 "
fi

# check_aborted NAME TRACE PATTERN: rrx record (outputs $WORK/NAME.*) failed
# cleanly with a message matching PATTERN; no copy of big.bin is left in the
# trace; rrx info says it was aborted and rrx replay refuses it.
check_aborted() {
  local name=$1 trace=$2 pattern=$3
  CHECKS=$((CHECKS + 1))
  if rc_is_clean_error "$RUN_RC" && grep -q -- "$pattern" "$WORK/$name.rawerr"; then
    pass "$name: rrx record fails (exit $RUN_RC): $(grep -m1 -o -- "$pattern" "$WORK/$name.rawerr")"
  else
    fail "$name: rrx record exit $RUN_RC, expected a clean failure with: $pattern"
    show_file "record stderr" "$WORK/$name.rawerr"
  fi
  check "$name: no copy or temporary of big.bin left in files/" \
    test -z "$(find "$trace/files" \( -name big.bin -o -name '*.rrxtmp' \) -print)"
  rrx_run "$WORK/$name.info" info "$trace"
  check "$name: rrx info says the trace is incomplete because the recording was aborted" \
    grep -q 'INCOMPLETE: the recording was aborted: ' "$WORK/$name.info.out"
  rrx_run "$WORK/$name.rep" replay --autopilot "$trace"
  CHECKS=$((CHECKS + 1))
  if rc_is_clean_error "$RUN_RC" && grep -q 'cannot replay .*: the recording was aborted: ' "$WORK/$name.rep.rawerr" &&
    [[ ! -s $WORK/$name.rep.out ]]; then
    pass "$name: rrx replay refuses the trace (exit $RUN_RC)"
  else
    fail "$name: rrx replay exit $RUN_RC, expected a refusal naming the abort"
    show_file "replay stdout" "$WORK/$name.rep.out"
    show_file "replay stderr" "$WORK/$name.rep.rawerr"
  fi
}

# The free-space check: the program maps a file with 48 MiB of data, and the
# recorder is told that 96 MiB are free: 48 MiB + the 64 MiB margin do not fit.
RRX_TEST_FREE_SPACE=$((96 << 20)) rrx_run "$WORK/nospace" record -o "$WORK/nospace.trace" -- "$SP" dense "$DATA" 48
check_aborted nospace "$WORK/nospace.trace" \
  'not enough free space to store a copy of .*/big.bin in the trace: its data takes 48.0 MiB (50331648 bytes)'

# ENOSPC during the copy, on a real small file system: a tmpfs mounted in a
# user namespace, where rrx records; the trace is copied out before the
# namespace (and its tmpfs) goes away.
MNT=$WORK/small
mkdir -p "$MNT"
if timeout 10 unshare -rm true 2>/dev/null; then
  RRX_TEST_FREE_SPACE=$((1 << 40)) timeout -k 10 "$_RR_TIMEOUT" unshare -rm bash -c '
    mount -t tmpfs -o size=24m tmpfs "$1/small" || exit 99
    rc=0
    "$2" record -o "$1/small/trace" -- "$3" dense "$4" 48 >"$1/enospc.out" 2>"$1/enospc.rawerr" || rc=$?
    echo "$rc" >"$1/enospc.rc"
    cp -a "$1/small/trace" "$1/enospc.trace"' _ "$WORK" "$RRX" "$SP" "$DATA" || true
  if [[ -f $WORK/enospc.rc ]]; then
    RUN_RC=$(cat "$WORK/enospc.rc")
    check_aborted enospc "$WORK/enospc.trace" "no space left on the trace's file system while writing the copy of .*/big.bin"
  else
    note "skip: enospc: cannot mount a tmpfs in a user namespace here"
  fi
else
  note "skip: enospc: user namespaces (unshare -rm) are not available here"
fi

rr_finish
