#!/usr/bin/env bash
# A file mapped during the recording is rewritten, truncated or deleted
# before the replay: the replay must still see the recorded bytes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

MMAP=$(prog mmap_file)
make_file() {  # make_file PATH: ~200 KiB of text, several pages
  { echo "original first line"; seq 1 40000; } >"$1"
}

F=$WORK/rewritten.txt
make_file "$F"
if rr_record rewritten --status 0 --stdout-has "first line: original first line" -- "$MMAP" "$F"; then
  { echo "CHANGED first line"; seq 5 50000; } >"$F"  # other content, other size
  rr_replay_check rewritten
fi

F=$WORK/same-size.txt
make_file "$F"
if rr_record same_size --status 0 -- "$MMAP" "$F"; then
  # Same size, same mtime, different bytes: only the trace's copy is right.
  mtime=$(stat -c %y "$F")
  sed -i 's/original/ORIGINAL/' "$F"
  touch -d "$mtime" "$F"
  rr_replay_check same_size
fi

F=$WORK/truncated.txt
make_file "$F"
if rr_record truncated --status 0 -- "$MMAP" "$F"; then
  : >"$F"
  rr_replay_check truncated
fi

F=$WORK/deleted.txt
make_file "$F"
if rr_record deleted --status 0 -- "$MMAP" "$F"; then
  rm -f "$F"
  rr_replay_check deleted
fi

# The test program's own executable is mapped too: replace it.
cp "$MMAP" "$WORK/mmap_file_copy"
F=$WORK/data2.txt
make_file "$F"
if rr_record exe_replaced --status 0 -- "$WORK/mmap_file_copy" "$F"; then
  cp "$(prog exit_code)" "$WORK/mmap_file_copy.new"
  mv -f "$WORK/mmap_file_copy.new" "$WORK/mmap_file_copy"
  rr_replay_check exe_replaced
fi

rr_finish
