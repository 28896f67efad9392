#!/usr/bin/env bash
# Sets up a Debian 12 machine to build and test rrx, then builds it.
#
#   bash scripts/setup.sh
#
# Idempotent. As root, installs the Debian packages that are missing (apt-get
# update runs only when something is missing); as another user, prints the
# apt-get command to run and exits 1. Then configures (once) and builds with
# Ninja into ${RRX_BUILD_DIR:-build}. When everything is there already, this
# is just `cmake --build`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${RRX_BUILD_DIR:-build}
BUILD_TYPE=${CMAKE_BUILD_TYPE:-RelWithDebInfo}

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  capnproto libcapnp-dev libzstd-dev
  catch2 libcli11-dev libfmt-dev nlohmann-json3-dev
  gdb gdbserver lldb clang libclang-rt-14-dev strace sqlite3 python3
  gzip coreutils findutils make libzydis-dev libdw-dev
  util-linux procps bubblewrap linux-libc-dev
  golang-go nodejs default-jdk-headless
)

say() { printf 'setup: %s\n' "$*"; }

if [[ $(uname -s) != Linux || $(uname -m) != x86_64 ]]; then
  say "rrx needs Linux on x86-64 (this is $(uname -s) $(uname -m))" >&2
  exit 1
fi

# ---- packages
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$p")
  done
else
  say "no dpkg-query: not a Debian system; make sure these are installed: ${PACKAGES[*]}" >&2
fi

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) != 0 ]]; then
    say "missing Debian packages: ${missing[*]}" >&2
    say "install them as root with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# ---- ptrace permission (a warning only: the build does not need it)
if [[ -r /proc/sys/kernel/yama/ptrace_scope ]]; then
  scope=$(cat /proc/sys/kernel/yama/ptrace_scope)
  if ((scope >= 3)); then
    say "warning: kernel.yama.ptrace_scope = $scope: ptrace is disabled until reboot; rrx cannot work" >&2
  elif ((scope == 2)) && [[ $(id -u) != 0 ]]; then
    say "warning: kernel.yama.ptrace_scope = 2: only root may use ptrace; as root run: sysctl -w kernel.yama.ptrace_scope=1" >&2
  fi
fi

# ---- configure (once) and build
if [[ -f $BUILD/CMakeCache.txt ]]; then
  generator=$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$BUILD/CMakeCache.txt")
  if [[ $generator != Ninja ]]; then
    say "$BUILD was configured with '$generator', not Ninja: remove it or set RRX_BUILD_DIR" >&2
    exit 1
  fi
else
  say "configuring $BUILD ($BUILD_TYPE, Ninja)"
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE"
fi
say "building $BUILD"
cmake --build "$BUILD"
say "done: $BUILD/bin/rrx"
