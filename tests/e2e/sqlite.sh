#!/usr/bin/env bash
# sqlite3 creating a database, inserting, querying.
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
rr_check sqlite_error --status 1 -- "$SQLITE" -batch -init /dev/null "$DB" "SELECT * FROM no_such_table;"

rr_finish
