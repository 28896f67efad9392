#!/usr/bin/env bash
# gdb reads the recorded program's files through the stub (vFile, `set
# sysroot target:`): the trace's copies of the executable and of the
# libraries it linked and dlopen'd, not what the host has at those paths by
# the time of the replay. The program and its two libraries are built into
# a temporary directory, recorded, then the libraries are rebuilt with other
# code and the program deleted: bt, info sharedlibrary, break and symbols
# must still be the recorded ones, in the gdb rrx starts and in a plain gdb
# connected to `rrx replay -s`.
source "$(dirname "$0")/lib/gdb_common.sh"

command -v cc >/dev/null || { echo "no C compiler: skipped"; exit 77; }
B=$WORK/build
mkdir -p "$B"

# build_libs VARIANT: $B/libhf_linked.so and $B/libhf_loaded.so; the
# recorded variant (sources in $B) has hf_recorded_only, the rebuilt one
# (sources in $B/rebuilt, so that gdb still lists the recorded lines)
# hf_rebuilt_only instead, and other line numbers.
build_libs() {
  local variant=$1 src=$B
  if [[ $variant == recorded ]]; then
    cat >"$B/hf_linked.c" <<'EOF'
#include <unistd.h>
int hf_recorded_only(int x) { return x * 3; }
int hf_linked(int x) {
  int y = hf_recorded_only(x);
  write(1, "linked\n", 7);
  return y + 1;
}
EOF
    cat >"$B/hf_loaded.c" <<'EOF'
#include <unistd.h>
int hf_loaded(int x) {
  write(1, "loaded\n", 7);
  return x + 2;
}
EOF
  else
    src=$B/rebuilt
    mkdir -p "$src"
    cat >"$src/hf_linked.c" <<'EOF'
/* rebuilt after the recording: other functions, other lines */


int hf_rebuilt_only(int x) { return x - 100; }
int hf_linked(int x) { return hf_rebuilt_only(x); }
EOF
    cat >"$src/hf_loaded.c" <<'EOF'
/* rebuilt */
int hf_rebuilt_loaded(int x) { return x; }
int hf_loaded(int x) { return hf_rebuilt_loaded(x) * 7; }
EOF
  fi
  cc -g -O0 -fPIC -shared -o "$B/libhf_linked.so" "$src/hf_linked.c"
  cc -g -O0 -fPIC -shared -o "$B/libhf_loaded.so" "$src/hf_loaded.c"
}

build_libs recorded
cat >"$B/hf_main.c" <<'EOF'
#include <dlfcn.h>
#include <stdio.h>
int hf_linked(int x);
int main(int argc, char** argv) {
  int a = hf_linked(argc);
  void* h = dlopen(argv[1], RTLD_NOW);
  if (!h) return 2;
  int (*loaded)(int) = (int (*)(int))dlsym(h, "hf_loaded");
  int b = loaded(a);
  printf("%d %d\n", a, b);
  return 0;
}
EOF
cc -g -O0 -o "$B/hf_main" "$B/hf_main.c" -L"$B" -lhf_linked -Wl,-rpath,"$B" -ldl
gdb_record hf -- "$B/hf_main" "$B/libhf_loaded.so"
CHECKS=$((CHECKS + 1))
if grep -qx '7 9' "$WORK/hf.rec.out"; then echo "ok:   the program ran"; else fail "recording: $(cat "$WORK/hf.rec.out")"; fi

# The host changes under the trace.
build_libs rebuilt
rm -f "$B/hf_main"

GDB_SCRIPT='
set breakpoint pending on
break hf_linked
break hf_loaded
continue
echo ==linked==\n
bt
info symbol hf_recorded_only
echo ==end==\n
continue
echo ==loaded==\n
bt
info sharedlibrary
info functions hf_re
echo ==end==\n
echo ==maps==\n
info proc mappings
echo ==end==\n
reverse-continue
echo ==reverse==\n
bt 1
echo ==end==\n'

gdb_run hf "$GDB_SCRIPT"
OUT=$WORK/hf.gdb.out
expect_in linked '^#0  hf_linked \(x=2\) at .*hf_linked.c:4$'
expect_in linked '^#1  .* main \(argc=2, argv=.*\) at .*hf_main.c:5$'
expect_in linked '^hf_recorded_only in section \.text of .*libhf_linked\.so$'
expect_in loaded '^#0  hf_loaded \(x=7\) at .*hf_loaded.c:3$'
expect_in loaded "^0x[0-9a-f]+ +0x[0-9a-f]+ +Yes +(target:)?$B/libhf_linked.so$"
expect_in loaded "^0x[0-9a-f]+ +0x[0-9a-f]+ +Yes +(target:)?$B/libhf_loaded.so$"
expect_in loaded '^[0-9]+:	int hf_recorded_only\(int\);$'
expect_in reverse '^#0  hf_linked \(x=2\) at .*hf_linked.c:4$'
# gdb's /proc/PID/... reads (recorded ids) are the replaying process's.
expect_in maps '^ +0x[0-9a-f]+ +0x[0-9a-f]+ +0x[0-9a-f]+ +0x0 +rw-p +\[stack\]$'
reject hf 'hf_rebuilt|warning: .*(does not match|mismatch)|unable to open /proc file'

# A gdb that rrx did not start, given no program: it learns the program
# from the stub and reads it and the libraries through it.
serve_stub plain "$WORK/hf.trace"
PORT=$SERVE_PORT
printf 'set pagination off\nset confirm off\ntarget extended-remote 127.0.0.1:%s\n%s\n' "$PORT" "$GDB_SCRIPT" \
  >"$WORK/plain.gdb"
timeout "$GDB_TIMEOUT" gdb -nx -batch -x "$WORK/plain.gdb" >"$WORK/plain.gdb.out" 2>&1 </dev/null || true
wait "$SERVE_PID" || true
OUT=$WORK/plain.gdb.out
expect_in linked '^#0  hf_linked \(x=2\) at .*hf_linked.c:4$'
expect_in linked '^hf_recorded_only in section \.text of .*libhf_linked\.so$'
expect_in loaded '^#0  hf_loaded \(x=7\) at .*hf_loaded.c:3$'
expect_in loaded "^0x[0-9a-f]+ +0x[0-9a-f]+ +Yes +(target:)?$B/libhf_loaded.so$"
expect_in maps '^ +0x[0-9a-f]+ +0x[0-9a-f]+ +0x[0-9a-f]+ +0x0 +rw-p +\[stack\]$'
reject plain 'hf_rebuilt|unable to open /proc file'

gdb_finish
