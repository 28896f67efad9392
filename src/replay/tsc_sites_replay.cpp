// The replay's side of the patched rdtsc sites (record/tsc_sites.h): at the
// event the task stands where the recorder patched (an exec's exit stop, or
// the exit of the mmap or mprotect that made the code executable); the same
// hlt bytes are written at the same sites, on any machine (where the trap
// works too), so the replayed thread stops at each site as the recorded one
// did and gets its Rdtsc event's value. Each site is kept as a patched jump
// (site_patch_replay.cpp): the debugger sees the original bytes.
#include "record/tsc_sites.h"
#include "replay/event_text.h"
#include "replay/replay_session.h"

namespace rrx::replay {

void ReplaySession::apply_tsc_patches(RTask& t, schema::TscPatches::Reader patches) {
  Task& task = *t.task;
  // The recorder patched at the execve's exit stop.
  to_exec_exit(t, "the rdtsc site patches after an exec");
  auto& jumps = patched_jumps_[t.pid];
  for (auto s : patches.getSites()) {
    const uint64_t addr = s.getAddr();
    auto orig = s.getOriginal();
    std::vector<uint8_t> now(orig.size());
    now.resize(task.read_mem(addr, now.data(), now.size()));
    if (hide_debugger_bytes) hide_debugger_bytes(t.pid, addr, now.data(), now.size());
    if (now.size() != orig.size() || !std::equal(now.begin(), now.end(), orig.begin())) {
      diverge("the rdtsc site patch at 0x" + fmt_hex(addr), "other bytes there than the recorded instruction's");
    }
    const std::vector<uint8_t> patch = record::tsc_patch_bytes(orig.size());
    if (!task.write_mem(addr, patch.data(), patch.size())) {
      diverge("the rdtsc site patch at 0x" + fmt_hex(addr), "it cannot be written");
    }
    PatchedJump j{addr, addr + patch.size(), next_number_, std::move(now)};
    j.tsc = s.getIsRdtscp() ? 2 : 1;
    bool known = false;  // (replayed again after a restore)
    for (const PatchedJump& k : jumps) known = known || (k.from == j.from && k.event == j.event);
    if (!known) jumps.push_back(std::move(j));
  }
  for (uint64_t addr : patches.getUnconfirmed()) {  // (named by a divergence as a possible cause)
    if (unpatched_tsc_.size() < 3) unpatched_tsc_.push_back(addr);
    ++unpatched_tsc_count_;
  }
  // The debugger's breakpoints in the rewritten bytes (replay/breakpoints.h).
  patching_event_ = next_number_;
  if (address_space_hook) address_space_hook(t.tid, false);
  patching_event_ = UINT64_MAX;
}

}  // namespace rrx::replay
