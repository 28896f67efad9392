#!/usr/bin/env bash
# The recorded exit status is replayed: normal exits, a crash, python's sys.exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

rr_check exit_0 --status 0 -- "$(prog exit_code)" 0
rr_check exit_3 --status 3 -- "$(prog exit_code)" 3
rr_check exit_255 --status 255 -- "$(prog exit_code)" 255
rr_check segv --status 139 --stdout-has "about to write to NULL" -- "$(prog segv)"
rr_check python_exit_7 --status 7 -- /usr/bin/python3 -I -c 'import sys; print("exiting with 7"); sys.exit(7)'
rr_check python_abort --status 134 -- /usr/bin/python3 -I -c 'import os; print("aborting", flush=True); os.abort()'

rr_finish
