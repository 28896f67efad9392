# The benchmark workloads (sourced by bench/run.sh). For each name in WORKLOADS,
# workload_cmd NAME sets CMD (argv), IN (stdin file), KIND and DESC.
# Needs: DATA (directory for generated inputs), PROGS (built test programs).

WORKLOADS=(find-usr dd-512 python-startup compute-loop gzip-20M shared-map)

workload_cmd() {
  IN=/dev/null
  case $1 in
    find-usr)
      KIND=syscalls DESC="find /usr -maxdepth 3"
      CMD=(find /usr -maxdepth 3) ;;
    dd-512)
      KIND=syscalls DESC="dd bs=512 of a 50 MB file"
      CMD=(dd if="$DATA/text-50M" of=/dev/null bs=512) ;;
    python-startup)
      KIND=syscalls DESC="python3 -c pass"
      CMD=(/usr/bin/python3 -c pass) ;;
    compute-loop)
      KIND=compute DESC="C loop, ~0.5 s (tests/programs/compute_loop.c)"
      CMD=("$PROGS/compute_loop") ;;
    gzip-20M)
      KIND=compute DESC="gzip -c of a 20 MB file > /dev/null"
      CMD=(gzip -c "$DATA/text-20M") ;;
    shared-map)
      KIND=syscalls DESC="2 processes, 20,000 pwrites into a 16 MiB memfd both map shared"
      CMD=("$PROGS/shared_map" bench) ;;
    *)
      echo "unknown workload: $1 (known: ${WORKLOADS[*]})" >&2
      return 1 ;;
  esac
}

# Deterministic, compressible text (words from a seeded generator).
prepare_data() {
  mkdir -p "$DATA"
  local name size
  for name in text-50M:52428800 text-20M:20971520; do
    size=${name#*:}
    name=${name%%:*}
    if [[ ! -f $DATA/$name || $(stat -c %s "$DATA/$name") != "$size" ]]; then
      echo "bench: generating $DATA/$name" >&2
      python3 - "$DATA/$name" "$size" <<'PY'
import random, sys
path, size = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))
         for _ in range(5000)]
out = bytearray()
while len(out) < size:
    line = " ".join(rng.choice(words) for _ in range(rng.randint(4, 14)))
    out += (line + "\n").encode()
with open(path, "wb") as f:
    f.write(out[:size])
PY
    fi
  done
}
