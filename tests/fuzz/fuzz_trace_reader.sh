#!/bin/bash
# Fuzzes the trace reader (tests/fuzz/trace_reader_fuzzer.cpp) with libFuzzer,
# ASan and UBSan for ${RRX_FUZZ_SECONDS:-30} seconds. Fails on any crash, leak,
# undefined behaviour, timeout or out-of-memory; exits 77 (skipped) when
# clang's libFuzzer runtime is missing and cannot be installed.
#
# Environment: RRX_SOURCE_DIR, RRX_BUILD_DIR (set by CTest), RRX_FUZZ_SECONDS,
# RRX_FUZZ_JOBS (parallel fuzzing processes, default 1), CLANGXX.
set -euo pipefail

SRC=${RRX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${RRX_BUILD_DIR:-$SRC/build}
OUT=$BUILD/fuzz/trace_reader
FUZZ_SECONDS=${RRX_FUZZ_SECONDS:-30}
JOBS=${RRX_FUZZ_JOBS:-1}
FUZZ_NAME=fuzz_trace_reader
source "$(dirname "$0")/lib/libfuzzer.sh"
fuzz_find_compiler
if ! command -v capnp >/dev/null; then
  echo "fuzz_trace_reader: the capnp compiler is missing; skipping" >&2
  exit 77
fi

# The generated Cap'n Proto code, from the schema in the source tree.
GEN=$OUT/gen
mkdir -p "$GEN/trace_format"
capnp compile -oc++:"$GEN/trace_format" --src-prefix="$SRC/src/trace_format" \
  "$SRC/src/trace_format/trace.capnp"

COMMON=(-std=c++20 -g -O1 -fno-omit-frame-pointer -I"$SRC/src" -I"$SRC" -I"$GEN"
  -I"$SRC/tests/unit" -DRRX_VERSION=\"fuzz\")
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=all)
LIBS=(-lcapnp -lkj -lzstd)
READER_SOURCES=("$SRC/src/trace_format/trace_reader.cpp" "$SRC/src/trace_format/chunk_format.cpp" "$SRC/src/trace_format/message_check.cpp"
  "$SRC/src/trace_format/chunk_prefetch.cpp" "$SRC/src/core/cpu_binding.cpp"
  "$SRC/src/core/hash.cpp" "$GEN/trace_format/trace.capnp.c++")

echo "fuzz_trace_reader: building with $CXX" >&2
"$CXX" "${COMMON[@]}" "${SAN[@]}" -fsanitize=fuzzer \
  "$SRC/tests/fuzz/trace_reader_fuzzer.cpp" "${READER_SOURCES[@]}" "${LIBS[@]}" -pthread \
  -o "$OUT/trace_reader_fuzzer"

# Seeds: valid traces (closed, cut off, with and without index) from a
# generator built from the same file without libFuzzer.
"$CXX" "${COMMON[@]}" -DRRX_FUZZ_SEED_GENERATOR \
  "$SRC/tests/fuzz/trace_reader_fuzzer.cpp" "${READER_SOURCES[@]}" \
  "$SRC/src/trace_format/trace_writer.cpp" "$SRC/src/trace_format/chunk_sink.cpp" "$SRC/src/core/error.cpp" \
  "${LIBS[@]}" -pthread \
  -o "$OUT/trace_seed_generator"
mkdir -p "$OUT/corpus" "$OUT/seeds" "$OUT/artifacts"
"$OUT/trace_seed_generator" "$OUT/seeds"

fuzz_run "$OUT/trace_reader_fuzzer" -max_len=65536
