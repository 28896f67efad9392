// The replay's side of the fast path's site patches (record/site_patch.h):
// at the event, the task sits at the exit of the call that was patched; the
// stub arena is mapped at the recorded address, the recorded bytes written
// and the ip moved exactly as the recorder did, so the replayed program runs
// the same code from there on.
#include <sys/mman.h>
#include <sys/syscall.h>

#include "core/cpuid_table.h"
#include "core/remote_syscall.h"
#include "replay/event_text.h"
#include "replay/replay_session.h"

namespace rrx::replay {

void ReplaySession::apply_site_patch(RTask& t, schema::SitePatch::Reader patch) {
  Task& task = *t.task;
  const uint64_t site = patch.getSite();
  if (patch.getArenaLen() != 0) {
    // Injected from the site itself, which still holds its syscall instruction.
    int64_t got = remote_syscall(task, site, SYS_mmap,
                                 {patch.getArenaAddr(), patch.getArenaLen(), PROT_READ | PROT_EXEC,
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, static_cast<uint64_t>(-1), 0},
                                 nullptr, nullptr, seccomp_entries_);
    if (got != static_cast<int64_t>(patch.getArenaAddr())) {
      diverge("patch of the syscall site 0x" + fmt_hex(site) + " with a stub arena at 0x" +
                  fmt_hex(patch.getArenaAddr()),
              "the arena's mmap returned " + std::to_string(got));
    }
  }
  std::vector<uint8_t> original;
  if (patch.getWrites().size() != 0) {
    auto jump = patch.getWrites()[patch.getWrites().size() - 1];
    original.resize(jump.getData().size());
    original.resize(task.read_mem(jump.getAddr(), original.data(), original.size()));
    if (hide_debugger_bytes) hide_debugger_bytes(t.pid, jump.getAddr(), original.data(), original.size());
  }
  for (auto w : patch.getWrites()) {
    auto d = w.getData();
    if (!task.write_mem(w.getAddr(), d.begin(), d.size())) {
      diverge("patch of the syscall site 0x" + fmt_hex(site), "cannot write 0x" + fmt_hex(w.getAddr()));
    }
  }
  if (patch.getWrites().size() != 0) {
    // The last write is the jump at the site (record/site_patch.h).
    auto jump = patch.getWrites()[patch.getWrites().size() - 1];
    PatchedJump j{jump.getAddr(), jump.getAddr() + jump.getData().size(), next_number_, std::move(original)};
    if (patch.getWrites().size() > 1) {
      auto stub = patch.getWrites()[0];
      j.stub = stub.getAddr();
      j.stub_end = stub.getAddr() + stub.getData().size();
    }
    auto& jumps = patched_jumps_[t.pid];
    bool known = false;  // (replayed again after a restore)
    for (const PatchedJump& k : jumps) known = known || (k.from == j.from && k.event == j.event);
    if (!known) jumps.push_back(j);
  }
  if (patch.getNewIp() != 0) {
    user_regs_struct r = task.regs();
    r.rip = patch.getNewIp();
    task.set_regs(r);
  }
  // The debugger's breakpoints in the rewritten bytes (replay/breakpoints.h).
  // (The patch is in effect already, though its event is the next one until consumed.)
  patching_event_ = next_number_;
  if (address_space_hook) address_space_hook(t.tid, false);
  patching_event_ = UINT64_MAX;
}

template <typename F>
void ReplaySession::for_each_patch_in_effect(int pid, F&& f) const {
  auto it = patched_jumps_.find(pid);
  auto task = tasks_.find(pid);
  if (it == patched_jumps_.end()) return;
  const uint64_t image = task == tasks_.end() ? 0 : task->second.image_event;
  for (const PatchedJump& j : it->second) {
    bool applied = j.event < next_number_ || j.event == patching_event_;
    if (applied && j.event >= image) f(j);
  }
}

bool ReplaySession::inside_patched_jump(int pid, uint64_t addr) const {
  bool inside = false;
  for_each_patch_in_effect(pid, [&](const PatchedJump& j) { inside = inside || (addr > j.from && addr < j.to); });
  return inside;
}

void ReplaySession::hide_patches(int pid, uint64_t addr, void* buf, size_t len) const {
  auto* out = static_cast<uint8_t*>(buf);
  for_each_patch_in_effect(pid, [&](const PatchedJump& j) {
    for (size_t i = 0; i < j.original.size(); ++i) {
      const uint64_t a = j.from + i;
      if (a >= addr && a - addr < len) out[a - addr] = j.original[i];
    }
  });
}

bool ReplaySession::in_patch_stub(int pid, uint64_t addr) const {
  bool in = false;
  for_each_patch_in_effect(pid, [&](const PatchedJump& j) { in = in || (addr >= j.stub && addr < j.stub_end); });
  return in;
}

std::optional<uint64_t> ReplaySession::cpuid_site_pc(int pid, uint64_t addr) const {
  std::optional<uint64_t> pc;
  for_each_patch_in_effect(pid, [&](const PatchedJump& j) {
    if (j.lookup == 0) return;
    if (addr == j.lookup) pc = j.cpuid_site;
    if (addr == j.lookup + kCpuidLookupBytes) pc = j.cpuid_site + 2;
  });
  return pc;
}

void ReplaySession::to_exec_exit(RTask& t, const char* what) {
  if (t.cur.action != Action::Exec) return;
  t.task->resume_syscall(0);
  WaitStatus w = t.task->wait();
  if (w.kind != WaitStatus::Kind::SyscallStop) diverge(what, "after the exec: " + w.describe());
  on_exit(t, t.task->syscall_info());
}

// (Here, with the template it uses: tsc_sites_replay.cpp applies the patches.)
std::optional<std::pair<SpecialInsn, size_t>> ReplaySession::tsc_site_at(int pid, uint64_t ip) const {
  std::optional<std::pair<SpecialInsn, size_t>> found;
  for_each_patch_in_effect(pid, [&](const PatchedJump& j) {
    if (j.tsc != 0 && j.from == ip) found = {j.tsc == 2 ? SpecialInsn::Rdtscp : SpecialInsn::Rdtsc, j.to - j.from};
  });
  return found;
}

void ReplaySession::copy_patched_jumps(int parent_pid, int child_pid) {
  auto it = patched_jumps_.find(parent_pid);
  if (it == patched_jumps_.end() || parent_pid == child_pid) return;
  auto& child = patched_jumps_[child_pid];
  for (const PatchedJump& j : it->second) {
    if (j.event >= next_number_) continue;  // a later patch of the parent's, from a replay before a restore
    bool known = false;
    for (const PatchedJump& k : child) known = known || (k.from == j.from && k.event == j.event);
    if (!known) child.push_back(j);
  }
}

}  // namespace rrx::replay
