#!/usr/bin/env bash
# Namespaces inside a recording (issue 16): unshare -Urn (a user and a
# network namespace), unshare -p -f --mount-proc (a pid namespace, ps reading
# its own /proc), a program that is pid 1 of a new pid namespace (getpid,
# CLONE_CHILD_SETTID and process_vm_writev by namespace pid), setns back into
# a UTS namespace, a mount namespace where a path names another file than
# outside, and bubblewrap. Each is recorded and replayed twice and with every
# skip strategy, byte for byte; replay makes no namespace of its own.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

P=$(prog namespaces)
# Root makes any namespace; another user needs a user namespace first.
if [[ $(id -u) == 0 ]]; then U=(); else U=(-U -r); fi
if ! unshare "${U[@]}" -n true 2>/dev/null; then
  skip_all "unshare ${U[*]} -n does not work on this machine (no namespaces to record)"
fi

rr_check userns_net --stdout-has "lo:" -- unshare -Urn sh -c 'id -u; id -g; cat /proc/net/dev'
if unshare -U --map-user=1234 --map-group=1234 true 2>/dev/null; then
  rr_check userns_map --stdout-has "1234" -- unshare -U --map-user=1234 --map-group=1234 -n sh -c 'id -u; id -g'
fi

if command -v ps >/dev/null; then
  rr_check pidns_ps --stdout-has "ps ax" -- unshare "${U[@]}" -p -f --mount-proc sh -c 'echo $$; ps ax'
fi

rr_check pidns --stdout-has 'g_buf "written by pid 2"' -- "$P" pidns
if [[ -f $WORK/pidns.rec.out ]]; then
  check "pidns: CLONE_CHILD_SETTID wrote the namespace's tid (1) when recording" \
    grep -q 'CLONE_CHILD_SETTID wrote 1$' "$WORK/pidns.rec.out"
fi

rr_check setns --stdout-has "hostname" -- "$P" setns

# A mount namespace where the program's path names another file: the trace
# keeps the file the program ran (a tmpfs copy over the directory), not the
# one at that path outside. (Not with mount(8): it is setuid, and exec of a
# setuid file turns address-space randomization back on, which replay does
# not reproduce.)
D=$WORK/shadowed
mkdir -p "$D"
cp /bin/true "$D/prog"
rr_check mountns --stdout-has "hello from the namespaces test program" -- "$P" mountns "$D"

if command -v bwrap >/dev/null; then
  rr_check bwrap --stdout-has "getpid 2," -- \
    bwrap --ro-bind / / --dev /dev --proc /proc --unshare-pid --unshare-net "$P" ids
else
  note "  note: bwrap (Debian bubblewrap) is not installed: its case is not run"
fi
rr_finish
