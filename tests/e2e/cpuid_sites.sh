#!/usr/bin/env bash
# cpuid answered in the process (record/cpuid_sites.h): with CPUID faulting,
# rrx patches the cpuid instructions of each exec'd program and its
# interpreter (ld.so's ~70 at start-up) to look its answers up in a table it
# maps at exec, and a site that traps later at its first trap. The program
# sees exactly the answers the trap gives (--no-cpuid-patching), only a few
# cpuid stops remain, and the replay (which applies the same table and
# patches) reproduces it byte for byte, for a program calling cpuid in
# loops from two threads and for real programs (bash, python3, a dynamically
# linked C program that execs others).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

if ! grep -qw cpuid_fault /proc/cpuinfo; then
  note "(this machine has no CPUID faulting: nothing to patch)"
  rr_finish
fi
CL=$(prog cpuid_loops)

rr_check cpuid_loops --stdout-has "rdrand no" -- "$CL"
T=$(rr_trace cpuid_loops)

# Few cpuid events: ld.so's refused sites (a function with a jump table), the
# program's three lookups of a leaf past the highest, not its ~11,000 cpuids.
CHECKS=$((CHECKS + 1))
rrx_run "$WORK/dump" dump "$T"
events=$(grep -c ' cpuid leaf ' "$WORK/dump.out" || true)
patched=$(grep -c -- '--- cpuid table of [0-9]* entries at 0x[0-9a-f]* .* sites\? patched' "$WORK/dump.out" || true)
if ((RUN_RC == 0 && events < 20 && patched == 1)); then
  pass "$events cpuid events (instead of ~11,000), the table and patches shown by rrx dump"
else
  fail "rrx dump (exit $RUN_RC): $events cpuid events, $patched cpuid-patches lines with a table"
  show_file "dump" "$WORK/dump.out" 20
fi

# The table hides what the trap hides: rdrand, rdseed, rtm, hle.
CHECKS=$((CHECKS + 1))
rrx_run "$WORK/dumpj" dump --json "$T"
bad=$(python3 -c '
import json, sys
rows = bad = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    for r in e.get("table", []):
        rows += 1
        if r["leaf"] == 1 and r["ecx"] & (1 << 30): bad += 1
        if r["leaf"] == 7 and r.get("subleaf") == 0 and r["ebx"] & ((1 << 18) | (1 << 11) | (1 << 4)): bad += 1
print(bad if rows else "no table")' "$WORK/dumpj.out")
if [[ $bad == 0 ]]; then
  pass "the cpuid table hides rdrand, rdseed, rtm and hle"
else
  fail "the cpuid table: $bad entries show rdrand/rdseed/rtm/hle"
fi

CHECKS=$((CHECKS + 1))
rrx_run "$WORK/info" info "$T"
if grep -q '^cpuid: *trapped (CPUID faulting): [0-9]* cpuid instructions answered by rrx, .*; [1-9][0-9]* cpuid sites patched' "$WORK/info.out"; then
  pass "rrx info counts the patched cpuid sites"
else
  fail "rrx info does not count the patched cpuid sites"
  show_file "info" "$WORK/info.out"
fi

# The same answers as the trap gives, every one (on one CPU: leaf 1 and leaf
# 0xb carry the APIC id of the CPU that answers).
CHECKS=$((CHECKS + 1))
run_capture "$WORK/pinned" -- taskset -c 0 "$RRX" record -o "$WORK/pinned.trace" -- "$CL"
run_capture "$WORK/trapped" -- taskset -c 0 "$RRX" record --no-cpuid-patching -o "$WORK/trapped.trace" -- "$CL"
if [[ $(cat "$WORK/pinned.rc") == 0 && $(cat "$WORK/trapped.rc") == 0 ]] && cmp -s "$WORK/pinned.out" "$WORK/trapped.out"; then
  pass "in-process answers are the trap's answers (the same digest of ~11,000 cpuids)"
else
  fail "in-process answers differ from the trap's"
  show_file "patched" "$WORK/pinned.out"
  show_file "trapped" "$WORK/trapped.out"
fi
CHECKS=$((CHECKS + 1))
rrx_run "$WORK/tdump" dump "$WORK/trapped.trace"
if ((RUN_RC == 0)) && ! grep -q -- '--- cpuid' "$WORK/tdump.out" && (($(grep -c ' cpuid leaf ' "$WORK/tdump.out") > 10000)); then
  pass "--no-cpuid-patching: every cpuid trapped, nothing patched"
else
  fail "--no-cpuid-patching: patches in the trace, or too few cpuid events"
fi

# Real programs: a shell that forks and execs, python3 (a pyenv shim is a
# bash script that execs python), a C program with its libraries.
rr_check bash -- bash -c 'for i in 1 2 3; do echo "$i $(uname -s)"; done; ls / >/dev/null; exec true'
if command -v python3 >/dev/null; then
  rr_check python3 -- python3 -c 'import hashlib, json; print(json.dumps({"h": hashlib.sha256(b"rrx").hexdigest()}))'
fi
rr_check random_device -- "$(prog random_device)"

rr_finish
