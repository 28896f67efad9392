# shellcheck shell=bash
# The benchmark workloads (sourced by bench/run.sh). Every workload is
# self-contained: it reads system files (/usr, /dev/zero, python3's stdlib)
# or inputs it generates itself.
#   workload_cmd NAME      sets CMD (argv), IN (stdin file), KIND, DESC,
#                          TARGET (issue 13's record target as a multiple of
#                          native, empty where the issue sets none) and NEEDS
#                          (the programs it runs)
#   workload_prepare NAME  generates NAME's inputs (once per bench/run.sh)
#   workload_reset NAME    undoes what a run of NAME left (before every run,
#                          untimed), so that each run does the same work
# Needs: DATA (cached generated text, kept between runs), WORKDIR (this run's
# temporary directory), PROGS (built test programs), QUICK (1: small inputs).

WORKLOADS=(dd-512 dd-512-write find-usr python-startup sqlite-inserts git-commit-log make-j2 tar-czf
  compute-loop gzip-20M shared-map)

# The size of the generated text a workload reads, by mode.
text_file() {  # text_file FULL_BYTES: prints the path
  local bytes=$1
  ((QUICK)) && bytes=2097152
  echo "$DATA/text-$((bytes / 1048576))M"
}

workload_cmd() {
  IN=/dev/null TARGET="" NEEDS=()
  local blocks=102400  # 50 MiB in 512-byte blocks
  ((QUICK)) && blocks=2048
  local mib=$((blocks / 2048))
  case $1 in
    dd-512)
      KIND=syscalls TARGET=3 DESC="dd bs=512 of a $mib MiB file to /dev/null ($((blocks / 1024))k reads, as many writes)"
      CMD=(dd if="$(text_file 52428800)" of=/dev/null bs=512 count="$blocks") ;;
    dd-512-write)
      KIND=syscalls TARGET=3 DESC="dd bs=512 of $mib MiB from /dev/zero to a new file"
      CMD=(dd if=/dev/zero of="$WORKDIR/dd-out" bs=512 count="$blocks") ;;
    find-usr)
      KIND=syscalls TARGET=3 DESC="find /usr -maxdepth $((QUICK ? 2 : 3))"
      CMD=(find /usr -maxdepth $((QUICK ? 2 : 3))) ;;
    python-startup)
      KIND=syscalls TARGET=2 DESC="python3 -c pass"
      CMD=(/usr/bin/python3 -c pass) ;;
    sqlite-inserts)
      KIND=syscalls TARGET=2 DESC="sqlite3: $(sqlite_rows) inserts into a new database, each its own transaction (rollback journal, synchronous=OFF: syscalls, no fsync)"
      IN=$WORKDIR/inserts.sql
      CMD=(sqlite3 -batch -init /dev/null "$WORKDIR/bench.db") ;;
    git-commit-log)
      KIND=processes TARGET=2 DESC="git init, $(git_commits) commits of a changed file (add + commit each), git log -p, in a new repository"
      CMD=(bash "$WORKDIR/git-bench.sh" "$WORKDIR/git-repo" "$(git_commits)") NEEDS=(bash git) ;;
    make-j2)
      KIND=processes TARGET=2 DESC="make -j2 of a generated C project ($(make_files) .c files, gcc -O1, one link)"
      CMD=(make -s -j2 -C "$WORKDIR/cproject") NEEDS=(make cc) ;;
    tar-czf)
      KIND=compute TARGET=2 DESC="tar czf of a generated directory ($(tar_files) files of text, $((QUICK ? 1 : 12)) MB)"
      CMD=(tar czf "$WORKDIR/tree.tar.gz" -C "$WORKDIR" tree) NEEDS=(tar gzip) ;;
    compute-loop)
      KIND=compute DESC="C loop, ~0.$((QUICK ? 1 : 5)) s (tests/programs/compute_loop.c)"
      CMD=("$PROGS/compute_loop" "$((QUICK ? 0 : 1)).$((QUICK ? 2 : 0))") ;;
    gzip-20M)
      KIND=compute DESC="gzip -c of a $((QUICK ? 2 : 20)) MiB file > /dev/null"
      CMD=(gzip -c "$(text_file 20971520)") ;;
    shared-map)
      KIND=syscalls DESC="2 processes, 20,000 pwrites into a 16 MiB memfd both map shared"
      CMD=("$PROGS/shared_map" bench) ;;
    *)
      echo "unknown workload: $1 (known: ${WORKLOADS[*]})" >&2
      return 1 ;;
  esac
  ((${#NEEDS[@]})) || NEEDS=("${CMD[0]}")
}

sqlite_rows() { echo $((QUICK ? 100 : 2000)); }
git_commits() { echo $((QUICK ? 3 : 20)); }
make_files() { echo $((QUICK ? 4 : 20)); }
tar_files() { echo $((QUICK ? 40 : 480)); }

workload_reset() {
  case $1 in
    dd-512-write) rm -f "$WORKDIR/dd-out" ;;
    sqlite-inserts) rm -f "$WORKDIR/bench.db" "$WORKDIR/bench.db-journal" ;;
    git-commit-log) rm -rf "$WORKDIR/git-repo" ;;
    make-j2) rm -f "$WORKDIR"/cproject/*.o "$WORKDIR/cproject/prog" ;;
    tar-czf) rm -f "$WORKDIR/tree.tar.gz" ;;
  esac
}

workload_prepare() {
  case $1 in
    dd-512) generate_text "$(text_file 52428800)" ;;
    gzip-20M) generate_text "$(text_file 20971520)" ;;
    sqlite-inserts) generate_sql "$WORKDIR/inserts.sql" "$(sqlite_rows)" ;;
    git-commit-log) generate_git_script "$WORKDIR/git-bench.sh" ;;
    make-j2) generate_c_project "$WORKDIR/cproject" "$(make_files)" ;;
    tar-czf) generate_tree "$WORKDIR/tree" "$(tar_files)" ;;
  esac
}

# Deterministic, compressible text (words from a seeded generator), cached in
# DATA: generate_text PATH (its size is in its name, text-NM).
generate_text() {
  local path=$1 size
  size=$(($(basename "$path" | tr -dc 0-9) * 1048576))
  [[ -f $path && $(stat -c %s "$path") == "$size" ]] && return 0
  mkdir -p "$(dirname "$path")"
  echo "bench: generating $path" >&2
  python3 - "$path" "$size" <<'PY'
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
}

# One CREATE TABLE and ROWS single-row INSERTs: without BEGIN/COMMIT each
# INSERT is a transaction of its own (journal created, written,
# deleted: ~15 syscalls each).
generate_sql() {
  local path=$1 rows=$2 i
  {
    echo "PRAGMA synchronous=OFF;"
    echo "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, value REAL);"
    for ((i = 1; i <= rows; i++)); do
      echo "INSERT INTO t(name, value) VALUES('row $i of the benchmark', $i.5);"
    done
    echo "SELECT count(*), sum(value) FROM t;"
  } >"$path"
}

# git-bench.sh REPO COMMITS: a fresh repository, COMMITS commits of a
# growing file and a new one each, then the log with patches. The user's and
# the system's git configuration are kept out.
generate_git_script() {
  cat >"$1" <<'SH'
set -e
repo=$1 commits=$2
export HOME=$repo.home XDG_CONFIG_HOME=$repo.home GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.org GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.org
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
mkdir -p "$repo" "$HOME"
cd "$repo"
git init -q -b main .
for ((i = 1; i <= commits; i++)); do
  echo "line $i of the benchmark file" >>notes.txt
  printf 'file %d\n' "$i" >"file$i.txt"
  git add notes.txt "file$i.txt"
  git commit -q -m "commit $i"
done
git log -p >/dev/null
git log --oneline | wc -l
SH
}

# A C project of FILES translation units, a shared header and a Makefile
# (one object per file, one link).
generate_c_project() {
  local dir=$1 files=$2 i
  mkdir -p "$dir"
  cat >"$dir/common.h" <<'C'
#include <stdint.h>
#include <stdio.h>
#include <string.h>
struct item { uint64_t key; double weight; char name[32]; };
C
  for ((i = 0; i < files; i++)); do
    cat >"$dir/unit$i.c" <<C
#include "common.h"
static int cmp_items_$i(const void* a, const void* b) {
  const struct item* x = a; const struct item* y = b;
  return x->key < y->key ? -1 : x->key > y->key;
}
uint64_t unit_$i(struct item* items, int n) {
  uint64_t h = $i;
  for (int k = 0; k < n; k++) {
    items[k].key = (h = h * 6364136223846793005ull + 1442695040888963407ull) >> 7;
    items[k].weight = (double)(items[k].key % 1000) / 7.0;
    snprintf(items[k].name, sizeof items[k].name, "item-%d-%d", $i, k);
  }
  qsort(items, n, sizeof *items, cmp_items_$i);
  for (int k = 0; k < n; k++) h ^= items[k].key + (uint64_t)strlen(items[k].name);
  return h;
}
C
  done
  {
    echo '#include <stdlib.h>'
    echo '#include "common.h"'
    for ((i = 0; i < files; i++)); do echo "uint64_t unit_$i(struct item*, int);"; done
    echo 'int main(void) { static struct item items[256]; uint64_t h = 0;'
    for ((i = 0; i < files; i++)); do echo "  h ^= unit_$i(items, 256);"; done
    echo '  printf("%llu\n", (unsigned long long)h); return 0; }'
  } >"$dir/main.c"
  {
    echo 'CFLAGS = -O1 -g -Wall'
    echo "OBJS = main.o $(for ((i = 0; i < files; i++)); do printf 'unit%d.o ' "$i"; done)"
    echo 'prog: $(OBJS)'
    printf '\t$(CC) -o $@ $(OBJS)\n'
    echo '%.o: %.c common.h'
    printf '\t$(CC) $(CFLAGS) -c -o $@ $<\n'
  } >"$dir/Makefile"
}

# A directory of FILES text files in 8 subdirectories (about 25 KB each).
generate_tree() {
  local dir=$1 files=$2
  rm -rf "$dir"
  python3 - "$dir" "$files" <<'PY'
import os, random, sys
root, files = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))
         for _ in range(3000)]
for i in range(files):
    sub = os.path.join(root, "dir%d" % (i % 8))
    os.makedirs(sub, exist_ok=True)
    lines = []
    size = 0
    while size < 25000:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(4, 14)))
        lines.append(line)
        size += len(line) + 1
    with open(os.path.join(sub, "file%04d.txt" % i), "w") as f:
        f.write("\n".join(lines) + "\n")
PY
}
