#!/usr/bin/env bash
# python3 start-up, json, random (seeded and not), time, file round trip.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

PY=/usr/bin/python3
[[ -x $PY ]] || skip_all "$PY is not installed"

rr_check py_pass -- "$PY" -I -c pass
rr_check py_print -- "$PY" -I -c 'import sys; print("hello from python", sys.version_info[:2]); print("to stderr", file=sys.stderr)'
rr_check py_json -- "$PY" -I "$E2E_DATA/json_roundtrip.py"
rr_check py_random_seeded -- "$PY" -I -c 'import random; random.seed(1234); print([random.randint(0, 10**6) for _ in range(10)])'
rr_check py_random -- "$PY" -I -c 'import random, os, uuid; print(random.random(), os.urandom(16).hex(), uuid.uuid4())'
rr_check py_hash_seed -- "$PY" -I -c 'print(hash("randomized per process"), {"b", "a", "c", "d"})'
rr_check py_time -- "$PY" -I -c 'import time; print(time.time(), time.monotonic(), time.perf_counter_ns(), time.process_time()); print(time.ctime())'
rr_check py_files -- "$PY" -I "$E2E_DATA/file_roundtrip.py" "$WORK/tmp/py-files"
rr_check py_exception --status 1 -- "$PY" -I -c 'raise ValueError("recorded traceback")'

rr_finish
