#!/usr/bin/env bash
# sqlite3 creating a database, inserting, querying; WAL mode with several
# processes sharing the -shm index (a MAP_SHARED file); memory-mapped I/O
# (the database file mapped shared, written with pwrite64).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SQLITE=$(command -v sqlite3 || true)
[[ -n $SQLITE ]] || skip_all "sqlite3 is not installed (bash scripts/setup.sh installs it)"

DB=$WORK/tmp/test.db
rr_check sqlite_create -- "$SQLITE" -batch -init /dev/null "$DB" \
  "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, value REAL, created TEXT DEFAULT CURRENT_TIMESTAMP);
   INSERT INTO t(name, value) VALUES ('alpha', 1.5), ('beta', 2.25), ('gamma', -3);
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
     INSERT INTO t(name, value) SELECT 'row' || i, i * 0.5 FROM n;
   SELECT count(*), sum(value) FROM t;"
rr_check sqlite_query -- "$SQLITE" -batch -init /dev/null -header -column "$DB" \
  "SELECT id, name, value FROM t WHERE id <= 5 OR name LIKE 'row49%' ORDER BY value DESC;
   SELECT name FROM t ORDER BY name LIMIT 3;"
rr_check sqlite_random -- "$SQLITE" -batch -init /dev/null :memory: \
  "SELECT random(), hex(randomblob(16)), datetime('now'), julianday('now');"
rr_check sqlite_update -- "$SQLITE" -batch -init /dev/null "$DB" \
  "BEGIN; UPDATE t SET value = value * 2 WHERE id % 7 = 0; DELETE FROM t WHERE id > 400; COMMIT;
   PRAGMA integrity_check; SELECT count(*), total(value) FROM t;"
# WAL mode: the -shm index is a file every connection maps MAP_SHARED;
# three processes write with a busy timeout while one reads.
WAL=$WORK/tmp/wal.db
rr_check sqlite_wal --stdout-has "ok" -- bash -c '
  db=$1; sq=$2
  run() { "$sq" -batch -init /dev/null -cmd ".timeout 5000" "$db" "$1"; }
  run "PRAGMA journal_mode=WAL; CREATE TABLE t(a); INSERT INTO t VALUES (1), (2);"
  for i in 1 2 3; do run "INSERT INTO t SELECT a * $i FROM t LIMIT 5;" & done
  run "SELECT count(*) >= 2 FROM t;"
  wait
  run "SELECT count(*) > 5, sum(a) > 0 FROM t; PRAGMA integrity_check;"' _ "$WAL" "$SQLITE"
# Memory-mapped I/O (mmap_size) with WAL: the database file is mapped
# shared and the checkpoint writes it with pwrite64 (buffered, the preload
# library making them on replay), two processes in turn.
MM=$WORK/tmp/mmap.db
rr_check sqlite_mmap --stdout-has "ok" -- bash -c '
  db=$1; sq=$2
  run() { "$sq" -batch -init /dev/null -cmd ".timeout 5000" -cmd "PRAGMA mmap_size=268435456" "$db" "$1"; }
  run "PRAGMA journal_mode=WAL; CREATE TABLE t(a INTEGER, b TEXT);
       WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
         INSERT INTO t SELECT i, printf(\"%.*c\", i % 300, \"x\") FROM n;
       PRAGMA wal_checkpoint(TRUNCATE);"
  run "UPDATE t SET b = upper(b) WHERE a % 3 = 0; PRAGMA wal_checkpoint(TRUNCATE);"
  run "SELECT count(*), sum(a), sum(length(b)) FROM t WHERE b GLOB \"X*\"; PRAGMA integrity_check;"' _ "$MM" "$SQLITE"
rr_check sqlite_error --status 1 -- "$SQLITE" -batch -init /dev/null "$DB" "SELECT * FROM no_such_table;"

rr_finish
