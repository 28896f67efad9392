#!/usr/bin/env bash
# Everyday single-process coreutils programs: record, replay, compare.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# A fixed tree to look at.
T=$WORK/tree
mkdir -p "$T/sub/deeper" "$T/empty"
printf 'pear\napple\nfig\nbanana\napple\ncherry\n' >"$T/fruits.txt"
seq 1 2000 >"$T/numbers.txt"
printf 'one\ntwo\nthree\n' >"$T/sub/small.txt"
head -c 100000 /dev/urandom >"$T/sub/deeper/random.bin"
ln -s fruits.txt "$T/link-to-fruits"
touch -d '2001-02-03 04:05:06' "$T/fruits.txt"
cp "$T/numbers.txt" "$T/to-compress.txt"
cat "$T/fruits.txt" "$T/sub/small.txt" >>"$T/to-compress.txt"

rr_check ls -- ls -la "$T"
rr_check ls_recursive -- ls -laR --time-style=full-iso "$T"
# cat copies with copy_file_range(2) when its stdout is a regular file (as
# here): the replay must still re-emit the bytes that went to fd 1.
rr_check cat -- cat "$T/fruits.txt" "$T/sub/small.txt"
rr_check cat_binary -- cat "$T/sub/deeper/random.bin"
rr_check cat_stdin --stdin "$T/numbers.txt" -- cat
rr_check cat_missing --status 1 -- cat "$T/does-not-exist"
rr_check sort -- sort --parallel=1 "$T/fruits.txt"
rr_check sort_unique_numeric -- sort --parallel=1 -u -n -r "$T/numbers.txt"
rr_check wc -- wc "$T/fruits.txt" "$T/numbers.txt" "$T/sub/deeper/random.bin"
rr_check sha256sum -- sha256sum "$T/fruits.txt" "$T/sub/deeper/random.bin"
rr_check date -- date
rr_check date_ns -- date +%s.%N
rr_check find -- find "$T"
rr_check find_files_sizes -- find "$T" -type f -printf '%p %s %T@\n'
rr_check head -- head -n 5 "$T/numbers.txt"
rr_check head_bytes -- head -c 1000 "$T/sub/deeper/random.bin"
rr_check seq -- seq 1 3 10000
rr_check stat -- stat "$T/fruits.txt" "$T/link-to-fruits" "$T/empty"
rr_check true -- true
rr_check false --status 1 -- false

# gzip then gunzip, through files. (gunzip is a shell script that execs
# gzip: use gzip -d directly to stay single-process without an exec chain.)
rr_check gzip -- gzip -k -9 "$T/to-compress.txt"
if [[ -f $T/to-compress.txt.gz ]]; then
  rr_check gunzip -- gzip -d -c "$T/to-compress.txt.gz"
  CHECKS=$((CHECKS + 1))
  if cmp -s "$WORK/gunzip.rec.out" "$T/to-compress.txt"; then
    pass "gzip round trip restores the original"
  else
    fail "gzip -d -c of the recorded gzip's output differs from the original"
  fi
else
  CHECKS=$((CHECKS + 1))
  fail "the recorded gzip -k did not create $T/to-compress.txt.gz"
fi

rr_finish
