#!/usr/bin/env bash
# The syscall buffer's wider cover (rrx record --syscallbuf): fcntl commands
# (F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD/SETFD, F_GETFL/SETFL, F_SETLK/F_GETLK),
# ioctl FIONBIO/FIOCLEX/TCGETS/TIOCGWINSZ, a query of a signal action or a
# resource limit, dup, unlink, mkdir, rename, rmdir, chmod, fchmod, fchown,
# umask, statfs, fstatfs, sysinfo, getrusage, link, symlink, renameat(2),
# linkat, symlinkat, chown & co, fchmodat, utimensat, chdir, fchdir, dup2,
# dup3, opens of /dev/null and /dev/urandom are buffered; writes to rrx's
# stdout and stderr when those are files are buffered without asking the
# recorder, and replay shows them again byte for byte; once a file is mapped
# shared, writes to it stay traced (the library knows it from the recorder's
# list of shared files, without asking). Then dd
# writing 512-byte blocks to rrx's own stdout (a file): buffered, replayed.
# rrx-e2e: one record mode (each recording names its mode)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

P=$(prog syscallbuf_cover)
mkdir -p "$WORK/files"
rr_check cover --stdout-has "through /proc/self/mem: 11" --record-arg --syscallbuf -- "$P" "$WORK/files"
T=$(rr_trace cover)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/cover.dump" dump "$T"
  D=$WORK/cover.dump.out
  for call in 'fcntl\(.*F_DUPFD_CLOEXEC' 'fcntl\(.*F_DUPFD,' 'fcntl\(.*F_SETFD' 'fcntl\(.*F_SETFL' 'fcntl\(.*F_SETLK' \
    'fcntl\(.*F_GETLK' 'ioctl\(.*FIONBIO' 'ioctl\(.*FIOCLEX' 'ioctl\(.*TCGETS' 'ioctl\(.*TIOCGWINSZ' \
    'rt_sigaction\(SIGTERM, NULL' 'prlimit64\(0, [0-9A-Z_]+, NULL' 'dup\(' 'unlink\(' 'mkdir\(' 'rename\(' 'rmdir\(' \
    'chmod\(' 'fchmod\(' 'fchown\(' 'umask\(' 'statfs\(' 'fstatfs\(' 'sysinfo\(' 'getrusage\(' \
    'link\(' 'symlink\(' 'renameat\(' 'renameat2\(' 'symlinkat\(' 'linkat\(' 'chown\(' 'lchown\(' 'fchownat\(' \
    'fchmodat\(' 'utimensat\(' 'chdir\(' 'fchdir\(' 'dup2\(' 'dup3\(' 'openat\(AT_FDCWD, "/dev/null"' \
    'openat\(AT_FDCWD, "/dev/urandom"'; do
    check "cover: ${call//\\/}... is buffered" grep -qE "^ *[0-9]+ \[[0-9]+\] $call.*\(buffered\)$" "$D"
  done
  n=$(grep -cE '^ *[0-9]+ .* write\(1, .*\(buffered\)$' "$D" || true)
  check "cover: writes to stdout (a file) are buffered (got $n)" test "$n" -ge 12
  check "cover: a write to stderr (a file) is buffered" grep -qE '^ *[0-9]+ .* write\(2, .*\(buffered\)$' "$D"
  # The library knows the shared file from the recorder's facts; it asks
  # about /proc/self/mem only (a file on procfs).
  n=$(grep -c 'rrx_fd_info' "$D" || true)
  check "cover: the library asks the recorder about one fd only, /proc/self/mem (asked $n times)" test "$n" -eq 1
  # pwrite64 to the shared file: buffered (after the first at its site)
  # with the change it made (buffer ABI 14); write and writev stay traced.
  n=$(grep -cE '^ *[0-9]+ .* pwrite64\(.*\) = 1 (\(buffered\) )?\[shared object 1: 1 bytes at' "$D" || true)
  check "cover: writes to the shared file record their change (got $n of 3)" test "$n" -eq 3
  n=$(grep -cE '^ *[0-9]+ .* pwrite64\(.*\) = 1 \(buffered\) \[shared object' "$D" || true)
  check "cover: pwrite64 to the shared file is buffered (got $n of 3)" test "$n" -ge 2
  n=$(grep -E '^ *[0-9]+ .* pwrite64\(' "$D" | grep -vc 'shared object' || true)
  check "cover: writes to /proc/self/mem stay traced (got $n of 3)" bash -c \
    "test $n -eq 3 && ! grep -E 'pwrite64\(' '$D' | grep -v 'shared object' | grep -q '(buffered)'"
  check "cover: the setting of a signal action stays traced" \
    bash -c "grep 'rt_sigaction(' '$D' | grep -v ', NULL, ' | grep -vq '(buffered)' || ! grep 'rt_sigaction(' '$D' | grep -vq ', NULL, '"
fi

# dd writing to fd 1, which is rrx's stdout (a file here): buffered.
rr_record dd_null --record-arg --syscallbuf -- dd if=/dev/zero bs=512 count=3000 status=none
T=$(rr_trace dd_null)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/dd_null.dump" dump "$T"
  n=$(grep -cE 'write\(1, .*\(buffered\)$' "$WORK/dd_null.dump.out" || true)
  check "cover: dd's writes to rrx's stdout (here a file) are buffered (got $n)" test "$n" -ge 2900
fi
rr_replay_check dd_null

rr_finish
