#!/usr/bin/env bash
# A trace whose files/ copy of the program or of a mapped file was changed or
# truncated after the recording: replay must say which copy is damaged and
# exit non-zero at once, never spin re-delivering a fault or run on with
# other bytes. Also after a replay that remembered the copy's hash as
# checked (trace_format/verified_hashes.h), and with the copy's size and
# mtime put back after the change.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
export XDG_CACHE_HOME=$WORK/cache

# A private copy of the program (files outside /usr and /lib are copied into
# the trace, never hard-linked: editing the trace's copy cannot harm it).
mkdir -p "$WORK/bin"
cp "$(prog exit_code)" "$WORK/bin/exit_code"
printf 'mapped file contents\n%.0s' {1..200} >"$WORK/mapped.txt"
cp "$(prog mmap_file)" "$WORK/bin/mmap_file"

damage() {  # damage NAME FILE_IN_TRACE HOW
  local name=$1 file=$2 how=$3
  chmod u+w "$file"
  # An intact replay first: it remembers the copy as checked (as it is now:
  # the chmod changed its ctime, the change below must be all that does).
  rrx_run "$WORK/$name.intact" replay --autopilot "$(rr_trace "$name")"
  check "$name: the intact trace replays" test "$RUN_RC" = "$(cat "$WORK/$name.rec.rc")"
  check "$name: the check of $(basename "$file") is remembered" \
    grep -q " $(stat -c %i "$file") .* $(stat -c %.9Z "$file" | tr -d .) $(basename "$(dirname "$file")") #[0-9a-f]\{8\}\$" \
    "$XDG_CACHE_HOME/rrx/verified-hashes"
  touch -r "$file" "$WORK/$name.mtime"
  case $how in
    truncate) truncate -s $(($(stat -c %s "$file") / 2)) "$file" ;;
    flip)
      printf '\x5a' | dd of="$file" bs=1 seek=$(($(stat -c %s "$file") - 100)) conv=notrunc status=none
      touch -m -r "$WORK/$name.mtime" "$file"  # same size, same mtime: only the ctime tells
      ;;
  esac
  rrx_run "$WORK/$name.damaged" replay --autopilot "$(rr_trace "$name")"
  CHECKS=$((CHECKS + 1))
  if rc_is_clean_error "$RUN_RC" && grep -q 'damaged' "$WORK/$name.damaged.rawerr" &&
     grep -qF "$(basename "$file")" "$WORK/$name.damaged.rawerr"; then
    pass "$name: the $how copy of $(basename "$file") is reported (exit $RUN_RC)"
  else
    fail "$name: replay with a damaged $(basename "$file") exited $RUN_RC"
    show_file "replay stderr" "$WORK/$name.damaged.rawerr"
  fi
}

copy_of() {  # copy_of NAME BASENAME: the trace's copy of that file
  find "$(rr_trace "$1")/files" -type f -name "$2" | head -1
}

if rr_record exe_truncated --status 3 -- "$WORK/bin/exit_code" 3; then
  damage exe_truncated "$(copy_of exe_truncated exit_code)" truncate
fi
if rr_record exe_flipped --status 3 -- "$WORK/bin/exit_code" 3; then
  damage exe_flipped "$(copy_of exe_flipped exit_code)" flip
fi
if rr_record map_flipped -- "$WORK/bin/mmap_file" "$WORK/mapped.txt"; then
  damage map_flipped "$(copy_of map_flipped mapped.txt)" flip
fi

rr_finish
