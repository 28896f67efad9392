# Helpers for the fuzz scripts (sourced by tests/fuzz/fuzz_*.sh), which set
# FUZZ_NAME, OUT, FUZZ_SECONDS and JOBS first.
#     fuzz_find_compiler   sets CXX to a clang++ (CLANGXX, clang++, clang++-14)
#                          that links libFuzzer, installing clang's runtime
#                          when run as root; exits 77 (skipped) without one.
#                          Leaves a scratch directory in $probe_dir.
#     fuzz_run BINARY ARGS...
#                          fuzzes $OUT/corpus (seeded from $OUT/seeds) for
#                          $FUZZ_SECONDS with ASan/UBSan options that fail on
#                          any report; ARGS are extra libFuzzer flags.

fuzz_find_compiler() {
  CXX=${CLANGXX:-}
  if [ -z "$CXX" ]; then
    for c in clang++ clang++-14; do
      if command -v "$c" >/dev/null; then CXX=$c; break; fi
    done
  fi
  if [ -z "$CXX" ]; then
    echo "$FUZZ_NAME: clang++ not found; skipping" >&2
    exit 77
  fi
  mkdir -p "$OUT"
  probe_dir=$(mktemp -d)
  trap 'rm -rf "$probe_dir"' EXIT
  if ! fuzz_have_libfuzzer; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "$FUZZ_NAME: installing libclang-rt-14-dev for libFuzzer" >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q libclang-rt-14-dev >&2 || true
    fi
    if ! fuzz_have_libfuzzer; then
      echo "$FUZZ_NAME: clang's libFuzzer runtime is missing; skipping" >&2
      exit 77
    fi
  fi
}

fuzz_have_libfuzzer() {
  echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
    >"$probe_dir/probe.cpp"
  "$CXX" -fsanitize=fuzzer "$probe_dir/probe.cpp" -o "$probe_dir/probe" >/dev/null 2>&1
}

fuzz_run() {
  local binary=$1
  shift
  echo "$FUZZ_NAME: fuzzing for ${FUZZ_SECONDS}s" >&2
  cd "$OUT"
  local args=("$OUT/corpus" "$OUT/seeds" "$@" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048
    -malloc_limit_mb=1024 -artifact_prefix="$OUT/artifacts/" -print_final_stats=1)
  if [ "$JOBS" -gt 1 ]; then
    args+=(-fork="$JOBS")
  fi
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$binary" "${args[@]}"
  echo "$FUZZ_NAME: no crashes" >&2
}
