#!/usr/bin/env bash
# A process ends while its other threads are blocked in the kernel (read,
# nanosleep, poll, futex, epoll_wait), loop on clock_gettime or spin: by
# exit() in main, return from main, exit_group in a worker, exec in a worker,
# abort() and a SIGSEGV in a worker. The kernel kills each sibling where it
# is; the replay must end them the same way (never let one run on), with
# every skip strategy. Three rounds of the blocked threads (21 of them) make
# the order of their deaths vary between recordings.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

P=$(prog mt_exit_blocked)
rr_check_native main_exit --status 6 --stdout-has "main ends" -- "$P" main-exit
rr_check_native main_return --status 5 -- "$P" main-return 3
rr_check_native worker_exit --status 7 --stdout-has "worker ends" -- "$P" worker-exit 3
rr_check_native exec_over_threads --status 0 --stdout-has "exec'd over" -- "$P" exec 3
rr_check abort --status 134 --stdout-has "main ends" -- "$P" abort 3
rr_check segv_in_worker --status 139 --stdout-has "worker ends" -- "$P" segv 3

rr_finish
