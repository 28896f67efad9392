#!/bin/bash
# Fuzzes the gdb stub's packet decoder and packet dispatch
# (tests/fuzz/gdb_packet_fuzzer.cpp, over the unit tests' MockTarget) with
# libFuzzer, ASan and UBSan for ${RRX_FUZZ_SECONDS:-30} seconds. Fails on any
# crash, leak, undefined behaviour, timeout or out-of-memory; exits 77
# (skipped) when clang's libFuzzer runtime is missing and cannot be installed.
#
# Environment: RRX_SOURCE_DIR, RRX_BUILD_DIR (set by CTest), RRX_FUZZ_SECONDS,
# RRX_FUZZ_JOBS (parallel fuzzing processes, default 1), CLANGXX.
set -euo pipefail

SRC=${RRX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${RRX_BUILD_DIR:-$SRC/build}
OUT=$BUILD/fuzz/gdb_packet
FUZZ_SECONDS=${RRX_FUZZ_SECONDS:-30}
JOBS=${RRX_FUZZ_JOBS:-1}
FUZZ_NAME=fuzz_gdb_packet
source "$(dirname "$0")/lib/libfuzzer.sh"
fuzz_find_compiler

error_sources=("$SRC/src/core/error.cpp")

COMMON=(-std=c++20 -g -O1 -fno-omit-frame-pointer -I"$SRC/src" -I"$SRC" -I"$SRC/tests/unit"
  -DRRX_VERSION=\"fuzz\")
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=all)

echo "fuzz_gdb_packet: building with $CXX" >&2
"$CXX" "${COMMON[@]}" "${SAN[@]}" -fsanitize=fuzzer \
  "$SRC/tests/fuzz/gdb_packet_fuzzer.cpp" "$SRC"/gdbserver/*.cpp "${error_sources[@]}" -lfmt -lpthread \
  -o "$OUT/gdb_packet_fuzzer"

# Seeds: the first byte selects the mode (bit 0: raw payload to the
# dispatcher; else framed bytes through the decoder), the rest is data.
mkdir -p "$OUT/corpus" "$OUT/seeds" "$OUT/artifacts"
seed() { printf '%b' "$2" >"$OUT/seeds/$1"; }
seed qsupported '\x00+$qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386#00'
seed session '\x02+$QStartNoAckMode#b0+$?#3f$g#67$p39#00$Hg3f2#00$qfThreadInfo#00$qsThreadInfo#00\x03'
seed memory '\x00$m400000,10#00$x400000,8#00$M400000,1:00#00$X400000,2:}]*#00'
seed xfer '\x01qXfer:features:read:target.xml:0,3fb'
seed xfer_threads '\x01qXfer:threads:read::10,20'
seed xfer_auxv '\x01qXfer:auxv:read::0,8'
seed vcont '\x03vCont;s:3f2;c'
seed vcont2 '\x05vCont;C0b:p3e8.3e8;S05:-1;t'
seed breakpoints '\x00$Z0,401000,1#00$z0,401000,1#00$Z2,400010,4;X1,0#00'
seed rcmd '\x01qRcmd,7768656e'
seed reverse '\x06$bc#00$bs#00$vRun;2f62696e2f74727565#00$vKill;3e8#00$k#00'
seed vfile '\x00$vFile:setfs:0#00$vFile:open:2f6574632f686f73746e616d65,0,0#00$vFile:pread:3,40,0#00$vFile:fstat:3#00$vFile:close:3#00'
seed rle '\x08$0* 1}\x03*"#00$'

cat >"$OUT/gdb.dict" <<'EOF'
"$"
"#"
"}"
"*"
"\x03"
"+"
"-"
"qSupported:"
"QStartNoAckMode"
"qXfer:features:read:target.xml:"
"qXfer:auxv:read::"
"qXfer:exec-file:read:"
"vFile:open:"
"vFile:pread:"
"vFile:setfs:"
"qXfer:threads:read::"
"qRcmd,"
"vCont;"
"vCont?"
"vRun;"
"vKill;"
"qfThreadInfo"
"qsThreadInfo"
"Hg"
"Hc"
"p3e8.3f2"
"-1"
"swbreak+"
EOF

fuzz_run "$OUT/gdb_packet_fuzzer" -dict="$OUT/gdb.dict" -max_len=70000
