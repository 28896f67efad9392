#!/usr/bin/env bash
# cpuid, rdrand and rdseed. With CPUID faulting (the default where the
# machine has it) every cpuid is trapped, answered with rdrand/rdseed/rtm/hle
# hidden and recorded (here with --no-cpuid-patching, so that every cpuid
# traps; cpuid_sites.sh tests the patched sites that answer in the process),
# so programs fall back to recorded sources of randomness and replay
# identically, also after further execs and in other threads. Without it (forced here with --no-cpuid-faulting or
# RRX_NO_CPUID_FAULTING=1) rrx record names the program's rdrand site, rrx
# info lists the sites, and a replay that diverges names them as a cause. A
# replay that cannot trap cpuid warns and runs it natively.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

RD=$(prog random_device)
RG=$(prog rdrand_guarded)
cpu_has() { grep -qw "$1" /proc/cpuinfo; }

# ------------------------------------------------------------ with faulting
if cpu_has cpuid_fault; then
  rr_check random_device -- "$RD"
  rr_check rdrand_guarded --stdout-has "main: getrandom (cpuid says no rdrand)" -- "$RG"
  rr_check rdrand_trapped --record-arg --no-cpuid-patching --stdout-has "main: getrandom (cpuid says no rdrand)" -- "$RG"
  # The flag does not survive exec: each program of the chain gets it again.
  rr_check exec_chain --stdout-has "thread: getrandom (cpuid says no rdrand)" -- \
    /bin/sh -c "$RG; $RD; exec $RG"

  T=$(rr_trace rdrand_trapped)
  CHECKS=$((CHECKS + 1))
  rrx_run "$WORK/dump" dump "$T"
  n=$(grep -c ' cpuid leaf ' "$WORK/dump.out" || true)
  if ((RUN_RC == 0 && n > 0)) && grep -q ' cpuid leaf 0x1 subleaf ' "$WORK/dump.out"; then
    pass "rrx dump shows the trapped cpuid instructions ($n, ld.so's included)"
  else
    fail "rrx dump (exit $RUN_RC) shows no cpuid events"
    show_file "dump" "$WORK/dump.out"
  fi

  # Leaf 1 as the program saw it: rdrand (ECX bit 30) clear.
  CHECKS=$((CHECKS + 1))
  rrx_run "$WORK/dumpj" dump --json "$T"
  bad=$(python3 -c '
import json, sys
bad = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["kind"] == "cpuid" and e["leaf"] == 1 and e["ecx"] & (1 << 30): bad += 1
    if e["kind"] == "cpuid" and e["leaf"] == 7 and e["subleaf"] == 0 and e["ebx"] & ((1 << 18) | (1 << 11) | (1 << 4)): bad += 1
print(bad)' "$WORK/dumpj.out")
  if [[ $bad == 0 ]]; then
    pass "recorded cpuid answers hide rdrand, rdseed, rtm and hle"
  else
    fail "$bad recorded cpuid answers show rdrand/rdseed/rtm/hle"
  fi

  CHECKS=$((CHECKS + 1))
  rrx_run "$WORK/info" info "$T"
  if grep -q '^cpuid: *trapped (CPUID faulting)' "$WORK/info.out"; then
    pass "rrx info says cpuid was trapped"
  else
    fail "rrx info does not say cpuid was trapped"
    show_file "info" "$WORK/info.out"
  fi

  # A replay that cannot trap cpuid (forced with RRX_NO_CPUID_FAULTING=1)
  # warns and goes on with native cpuid: a program that does not look at
  # cpuid replays as recorded; one that uses rdrand when it sees it diverges,
  # and the message says why.
  if rr_record untrapped --status 3 -- "$(prog exit_code)" 3; then
    CHECKS=$((CHECKS + 1))
    run_capture "$WORK/untrapped.rep" -- env RRX_NO_CPUID_FAULTING=1 "$RRX" replay --autopilot "$(rr_trace untrapped)"
    if _rr_compare untrapped "replay without cpuid trapping" "$WORK/untrapped.rec" "$WORK/untrapped.rep" &&
       grep -q '^rrx: warning: the recording trapped cpuid .* but this replay cannot' "$WORK/untrapped.rep.rawerr"; then
      pass "a replay without cpuid trapping warns and replays a program that does not use cpuid"
    else
      fail "a replay without cpuid trapping: no warning, or not the recorded run"
      show_file "replay stderr" "$WORK/untrapped.rep.rawerr"
    fi
  fi
  # With the sites patched, the program's own cpuid looks the recorded
  # answers up in the process: that replay goes as recorded.
  CHECKS=$((CHECKS + 1))
  run_capture "$WORK/untrapped3" -- env RRX_NO_CPUID_FAULTING=1 "$RRX" replay --autopilot "$(rr_trace rdrand_guarded)"
  if ((RUN_RC == 0)) && _rr_compare rdrand_guarded "replay without cpuid trapping" "$WORK/rdrand_guarded.rec" "$WORK/untrapped3"; then
    pass "rdrand_guarded (cpuid sites patched) replays as recorded without cpuid trapping"
  else
    fail "rdrand_guarded (cpuid sites patched) replayed without cpuid trapping: exit $RUN_RC or not the recorded run"
    show_file "replay stderr" "$WORK/untrapped3.rawerr"
  fi
  if cpu_has rdrand; then
    CHECKS=$((CHECKS + 1))
    run_capture "$WORK/untrapped2" -- env RRX_NO_CPUID_FAULTING=1 "$RRX" replay --autopilot "$T"
    if ((RUN_RC == 125)) && grep -q 'possible cause: the recording trapped cpuid and this replay cannot' "$WORK/untrapped2.rawerr"; then
      pass "rdrand_guarded replayed without cpuid trapping diverges, and the message says why"
    else
      fail "rdrand_guarded replayed without cpuid trapping: exit $RUN_RC, no 'possible cause' naming cpuid trapping"
      show_file "replay stderr" "$WORK/untrapped2.rawerr"
    fi
  fi
else
  note "(this machine has no CPUID faulting: only the fallback is tested)"
fi

# ------------------------------------------------------- without faulting
# The address of the program's rdrand as objdump shows it.
site=$(objdump -d --no-show-raw-insn "$RG" | awk '$2 == "rdrand" && !found { sub(":", "", $1); print $1; found = 1 }')
CHECKS=$((CHECKS + 1))
F=$WORK/fallback.trace
rrx_run "$WORK/fallback" record --no-cpuid-faulting -o "$F" -- "$RG"
warning=$(grep '^rrx: warning: rdrand at ' "$WORK/fallback.rawerr" || true)
if ((RUN_RC == 0)) && [[ -n $site && $warning == *"rdrand at rdrand_guarded+0x$site: its values are not recorded"* ]] &&
   [[ $(grep -c '^rrx: warning:' "$WORK/fallback.rawerr") == 1 ]]; then
  pass "--no-cpuid-faulting: one warning naming rdrand at rdrand_guarded+0x$site"
else
  fail "--no-cpuid-faulting: expected one warning 'rdrand at rdrand_guarded+0x$site: ...' (exit $RUN_RC)"
  show_file "record stderr" "$WORK/fallback.rawerr"
fi

CHECKS=$((CHECKS + 1))
rrx_run "$WORK/finfo" info "$F"
if grep -q "rdrand at .*/rdrand_guarded+0x$site (address 0x[0-9a-f]* in process [0-9]*) in the program" "$WORK/finfo.out" &&
   grep -q '^cpuid: *not trapped' "$WORK/finfo.out"; then
  pass "rrx info lists the rdrand site"
else
  fail "rrx info does not list rdrand at rdrand_guarded+0x$site"
  show_file "info" "$WORK/finfo.out" 40
fi

# The CPU makes up another value in the replay: the output differs, and the
# divergence names the site.
if cpu_has rdrand; then
  CHECKS=$((CHECKS + 1))
  rrx_run "$WORK/frep" replay --autopilot "$F"
  if ((RUN_RC != 0)) && grep -q "possible cause: rdrand at rdrand_guarded+0x$site" "$WORK/frep.rawerr"; then
    pass "the replay of the fallback trace diverges and names the rdrand site"
  else
    fail "the replay of the fallback trace (exit $RUN_RC) does not name the rdrand site"
    show_file "replay stderr" "$WORK/frep.rawerr"
  fi
fi

# Shared libraries' sites (libstdc++'s random_device) are listed, not warned
# about; the environment variable forces the fallback too.
CHECKS=$((CHECKS + 1))
run_capture "$WORK/fenv" -- env RRX_NO_CPUID_FAULTING=1 "$RRX" record -o "$WORK/fenv.trace" -- "$RD"
rrx_run "$WORK/fenvinfo" info --json "$WORK/fenv.trace"
libsites=$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print(sum(1 for s in j["random_insns"] if "libstdc++" in s["object"] and not s["in_program"]) if not j["cpuid_faulting"] else -1)' \
  "$WORK/fenvinfo.out" 2>/dev/null || echo error)
libstdcxx=$(ldd "$RD" | awk '/libstdc\+\+/ { print $3 }')
expect_lib=$(objdump -d "$libstdcxx" 2>/dev/null | grep -cE '\s(rdrand|rdseed)\s' || true)
if ((RUN_RC == 0)) && ! grep -q '^rrx: warning:' "$WORK/fenv.rawerr" && [[ $libsites == "$expect_lib" ]]; then
  pass "RRX_NO_CPUID_FAULTING=1: no warning for libstdc++'s $libsites sites, rrx info lists them"
else
  fail "RRX_NO_CPUID_FAULTING=1 on random_device: exit $RUN_RC, libstdc++ sites listed: $libsites (objdump: $expect_lib)"
  show_file "record stderr" "$WORK/fenv.rawerr"
fi

rr_finish
