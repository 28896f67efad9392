#!/usr/bin/env bash
# Node.js under rrx: the event loop's timers (setTimeout, setInterval,
# setImmediate, promises, nextTick) and a loopback HTTP server queried with
# http.get (libuv's epoll loop, its thread pool, V8's worker threads). The
# script's output does not depend on scheduling, so the recording must also
# match a native run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

NODE=$(command -v node || command -v nodejs || true)
[[ -n $NODE ]] || skip_all "node is not installed (Debian package nodejs)"

rr_check_native node_hello --stdout-has "hello from node" -- "$NODE" -e 'console.log("hello from node", [3, 1, 2].sort().join(","))'
rr_check_native node_timers_http --stdout-has "served 7 requests" -- "$NODE" "$E2E_DATA/node_timers_http.js"
check_dump_tree node_timers_http 2 '\bclone3?\('

rr_finish
