#!/usr/bin/env bash
# rrx pack: a packed trace is self-contained. Recorded program built in the
# work directory; then the trace is packed (no hard link left in files/,
# every copy read-only, `rrx info` says packed; packing again changes
# nothing), moved to another directory, the program rebuilt with different
# code at the same path, and the trace replayed by a relative path, also in
# a mount namespace where /lib/x86_64-linux-gnu/libc.so.6 is another file
# (a copy with its version string changed). The archive (rrx pack
# --archive) round-trips: every command takes it, it unpacks once into the
# cache, GNU tar reads it too, and a damaged or truncated archive is a clear
# error that leaves no cache entry behind. Damaged copies make pack fail.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
export XDG_CACHE_HOME=$WORK/cache

command -v cc >/dev/null || skip_all "no C compiler (cc) to build the recorded program"
SRC=$WORK/version.c
cat >"$SRC" <<'C'
#include <gnu/libc-version.h>
#include <stdio.h>
int main(void) {
  printf("variant %s, libc %s\n", VARIANT, gnu_get_libc_version());
  return 0;
}
C
mkdir -p "$WORK/bin"
cc -O1 -DVARIANT='"A"' -o "$WORK/bin/version" "$SRC"

cd "$WORK/bin"
rr_record packed --status 0 -- ./version
T=$(rr_trace packed)

rrx_run "$WORK/info0" info "$T"
check "info of a fresh trace: not packed" grep -q '^packed: *no: [1-9][0-9]* of its files are hard links' "$WORK/info0.out"

rrx_run "$WORK/pack1" pack "$T"
check "rrx pack exits 0" test "$RUN_RC" = 0
check "no hard links left in files/" test -z "$(find "$T/files" -type f -links +1)"
check "no writable file or directory in files/" test -z "$(find "$T/files" -perm /222)"
rrx_run "$WORK/info1" info "$T"
check "info says packed" grep -q '^packed: *yes: packed ' "$WORK/info1.out"
listing() { (cd "$1" && find . -printf '%p %m %n %s\n' | sort && cat packed); }
listing "$T" >"$WORK/listing1"
rrx_run "$WORK/pack2" pack "$T"
listing "$T" >"$WORK/listing2"
check "rrx pack again: exit 0, nothing changed" test "$RUN_RC" = 0 -a -z "$(diff "$WORK/listing1" "$WORK/listing2")"

# The archive, written before anything moves.
rrx_run "$WORK/arch" pack --archive "$WORK/packed.tar.zst" "$T"
check "rrx pack --archive writes one file" test "$RUN_RC" = 0 -a -f "$WORK/packed.tar.zst"
check "GNU tar lists the archive" bash -c 'tar --zstd -tf "$0" >/dev/null' "$WORK/packed.tar.zst"

# Move the trace, rebuild the program with other code at the same path.
mkdir -p "$WORK/elsewhere"
mv "$T" "$WORK/elsewhere/moved"
cc -O1 -DVARIANT='"B, rebuilt"' -o "$WORK/bin/version" "$SRC"
check "the rebuilt program differs" grep -q 'rebuilt' <("$WORK/bin/version")
cd "$WORK/elsewhere"
run_capture "$WORK/moved" -- "$RRX" replay --autopilot moved
CHECKS=$((CHECKS + 1))
_rr_compare moved "replay of the moved trace by a relative path, program rebuilt" "$WORK/packed.rec" "$WORK/moved" &&
  pass "moved + rebuilt + relative path: replays identically"

# A different libc at the recorded path (a mount namespace; rrx itself runs
# with it too, so the copy must work: only its version string changes).
if unshare -m true 2>/dev/null || unshare -rm true 2>/dev/null; then
  userns=-m
  unshare -m true 2>/dev/null || userns=-rm
  python3 - "$WORK/libc.so.6" <<'PY'
import re, sys
data = open("/lib/x86_64-linux-gnu/libc.so.6", "rb").read()
m = re.search(rb"NPTL (\d+\.\d+)\x00", data)  # gnu_get_libc_version's string is this one's tail
new = re.sub(rb"\d", b"9", m.group(1))
data = data[:m.start(1)] + new + data[m.end(1):]
open(sys.argv[1], "wb").write(data)
PY
  chmod 755 "$WORK/libc.so.6"
  OTHER_LIBC=(unshare "$userns" sh -c 'mount --bind "$0" /lib/x86_64-linux-gnu/libc.so.6 && exec "$@"' "$WORK/libc.so.6")
  run_capture "$WORK/native-other" -- "${OTHER_LIBC[@]}" "$WORK/bin/version"
  check "the namespace's libc is another one (native run prints libc 9.99)" grep -q 'libc 9\.99' "$WORK/native-other.out"
  run_capture "$WORK/other-libc" -- "${OTHER_LIBC[@]}" "$RRX" replay --autopilot moved
  CHECKS=$((CHECKS + 1))
  _rr_compare other-libc "replay with another libc" "$WORK/packed.rec" "$WORK/other-libc" &&
    pass "moved + rebuilt + relative path + another libc: replays identically"
  run_capture "$WORK/other-libc-archive" -- "${OTHER_LIBC[@]}" "$RRX" replay --autopilot "$WORK/packed.tar.zst"
  CHECKS=$((CHECKS + 1))
  _rr_compare other-libc-archive "replay of the archive with another libc" "$WORK/packed.rec" "$WORK/other-libc-archive" &&
    pass "the archive, with another libc: replays identically"
else
  note "skip: another libc (no mount namespace here: unshare -m and unshare -rm both fail)"
fi

# The archive from another directory, by a relative path; once into the cache.
cp "$WORK/packed.tar.zst" "$WORK/elsewhere/copy.tar.zst"
run_capture "$WORK/arch-replay" -- "$RRX" replay --autopilot copy.tar.zst
CHECKS=$((CHECKS + 1))
_rr_compare archive "replay of the archive" "$WORK/packed.rec" "$WORK/arch-replay" && pass "the archive replays identically"
for cmd in info dump ps; do
  rrx_run "$WORK/arch-$cmd" "$cmd" copy.tar.zst
  check "rrx $cmd ARCHIVE exits 0" test "$RUN_RC" = 0 -a -s "$WORK/arch-$cmd.out"
done
check "info of the archive: packed" grep -q '^packed: *yes' "$WORK/arch-info.out"
check "one cache entry for the archive" test "$(find "$XDG_CACHE_HOME/rrx/archives" -mindepth 1 -maxdepth 1 | wc -l)" = 1
rm -rf "$XDG_CACHE_HOME"

# tar's own extraction is the same trace.
mkdir -p "$WORK/untarred"
tar --zstd -xf "$WORK/packed.tar.zst" -C "$WORK/untarred"
run_capture "$WORK/untarred-replay" -- "$RRX" replay --autopilot "$WORK/untarred/packed.trace"
CHECKS=$((CHECKS + 1))
_rr_compare untarred "replay of tar's extraction" "$WORK/packed.rec" "$WORK/untarred-replay" && pass "tar -x of the archive replays identically"

# Sparse copies stay sparse through the archive: a 50 GiB file and a 1 TiB
# memfd with a few pages of data each (pax sparse entries).
mkdir -p "$WORK/sparse-data"
rr_record sparse --status 0 -- "$(prog sparse_maps)" sparse "$WORK/sparse-data"
rrx_run "$WORK/sparse-pack" pack --archive "$WORK/sparse.tar.zst" "$(rr_trace sparse)"
check "sparse trace: archive written" test "$RUN_RC" = 0
check "sparse trace: the archive is small (< 10 MiB)" test "$(stat -c %s "$WORK/sparse.tar.zst")" -lt $((10 << 20))
run_capture "$WORK/sparse-replay" -- "$RRX" replay --autopilot "$WORK/sparse.tar.zst"
CHECKS=$((CHECKS + 1))
_rr_compare sparse-archive "replay of the sparse archive" "$WORK/sparse.rec" "$WORK/sparse-replay" &&
  pass "the sparse trace's archive replays identically"
check "sparse trace: its unpacked copy takes little disk (< 50 MiB)" \
  test "$(du -sk "$XDG_CACHE_HOME/rrx/archives" | cut -f1)" -lt 51200
check "sparse trace: GNU tar reads the sparse entries" bash -c 'tar --zstd -tvf "$0" | grep -q "GNUSparseFile\|[0-9]\{11\} "' "$WORK/sparse.tar.zst"

# Damaged and truncated archives: clear errors, nothing left in the cache.
size=$(stat -c %s "$WORK/packed.tar.zst")
head -c $((size / 2)) "$WORK/packed.tar.zst" >"$WORK/truncated.tar.zst"
cp "$WORK/packed.tar.zst" "$WORK/damaged.tar.zst"
printf 'XXXXXXXX' | dd of="$WORK/damaged.tar.zst" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
for bad in truncated damaged; do
  rrx_run "$WORK/bad-$bad" info "$WORK/$bad.tar.zst"
  check "$bad archive: a clean error naming it" rc_is_clean_error "$RUN_RC"
  check "$bad archive: the message says what" grep -q "cannot unpack the trace archive $WORK/$bad.tar.zst" "$WORK/bad-$bad.rawerr"
  check "$bad archive: no cache entry left" test "$(find "$XDG_CACHE_HOME/rrx/archives" -mindepth 1 -maxdepth 1 | wc -l)" = 1
  show_file "$bad archive: rrx's message" "$WORK/bad-$bad.rawerr" 3
done

# A damaged copy in an unpacked trace: pack fails and names it.
cd "$WORK/bin"
rr_record damaged --status 0 -- ./version
D=$(rr_trace damaged)
victim=$(find "$D/files" -type f -links 1 | head -n 1)
chmod u+w "$victim"
printf 'garbage' | dd of="$victim" bs=1 seek=100 conv=notrunc 2>/dev/null
rrx_run "$WORK/pack-bad" pack "$D"
check "pack of a trace with a damaged copy fails cleanly" rc_is_clean_error "$RUN_RC"
check "the error names the damaged copy" grep -qF "$victim is damaged" "$WORK/pack-bad.rawerr"
check "the damaged trace is not marked packed" test ! -e "$D/packed"

cd "$WORK"
rr_finish
