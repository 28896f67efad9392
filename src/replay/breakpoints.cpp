#include "replay/breakpoints.h"
#include "core/debug_regs_probe.h"
#include "replay/site_view.h"
#include "replay/syscallbuf_replay.h"

#include <sys/user.h>

#include <cstddef>

namespace rrx::replay {

namespace {

constexpr uint8_t kInt3 = 0xcc;

size_t debugreg_offset(int i) { return offsetof(struct user, u_debugreg) + static_cast<size_t>(i) * 8; }

}  // namespace

Breakpoints::Breakpoints(ReplaySession& session) : session_(session), soft_(!debug_registers_fire()) {}

Task* Breakpoints::task_of(int pid) {
  if (!session_.alive() || pid == 0) return nullptr;
  int cur = session_.current_tid();
  if (session_.has_task(cur) && session_.pid_of(cur) == pid) return &session_.task(cur);
  auto tids = session_.tids_of(pid);
  if (tids.empty()) return nullptr;
  return &session_.task(tids.front());
}

int Breakpoints::memory_of(int pid) const {
  auto it = vfork_parent_.find(pid);
  return it == vfork_parent_.end() ? pid : it->second;
}

bool Breakpoints::active(int pid, const Proc& p) {
  if (!user_enabled_) return false;
  if (p.image == 0) return true;
  auto tids = session_.tids_of(pid);
  return !tids.empty() && session_.image_of(tids.front()) == p.image;
}

const Breakpoints::Int3s* Breakpoints::int3s(int pid) const {
  auto it = inserted_.find(memory_of(pid));
  return it == inserted_.end() ? nullptr : &it->second;
}

const Breakpoints::Slot* Breakpoints::slots(int pid) const {
  auto it = procs_.find(pid);
  return it == procs_.end() ? nullptr : it->second.slots;
}

bool Breakpoints::insert(int pid, gdb::BreakpointKind kind, uint64_t addr, uint64_t len, uint64_t image) {
  if (!task_of(pid)) return false;
  Proc& p = procs_[pid];
  if (image != 0 && p.image != image) {
    p.image = image;
    p.debug_regs_dirty = true;
  }
  if (kind == gdb::BreakpointKind::Software) {
    if (p.sw.count(addr)) return true;
    // An address not mapped here (gdb's libraries are those of another
    // point of the recording, e.g. libc's write at _start) waits for the
    // replay to map it: on_address_space_change().
    p.sw.insert(addr);
    sync();
    return true;
  }
  if (soft_ && kind == gdb::BreakpointKind::Hardware) {
    // An int3 stops there as well (reported as the hardware breakpoint).
    if (p.hw.count(addr)) return true;
    p.hw.insert(addr);
    sync();
    return true;
  }
  // A comparison of the bytes cannot see a read.
  if (soft_ && kind != gdb::BreakpointKind::WriteWatch) return false;
  if (kind != gdb::BreakpointKind::Hardware) {
    if (len != 1 && len != 2 && len != 4 && len != 8) return false;
    if (addr % len != 0) return false;  // the debug registers need aligned ranges
  }
  for (auto& s : p.slots) {
    if (s.used) continue;
    s = Slot{true, kind, addr, kind == gdb::BreakpointKind::Hardware ? 1 : len};
    p.debug_regs_dirty = true;
    try {
      sync();
    } catch (const Error&) {
      s.used = false;
      p.debug_regs_dirty = true;
      return false;
    }
    return true;
  }
  return false;  // all four debug registers are in use
}

bool Breakpoints::remove(int pid, gdb::BreakpointKind kind, uint64_t addr, uint64_t len) {
  auto it = procs_.find(pid);
  if (it == procs_.end()) return true;
  Proc& p = it->second;
  if (kind == gdb::BreakpointKind::Software) {
    p.sw.erase(addr);
  } else if (soft_ && kind == gdb::BreakpointKind::Hardware) {
    p.hw.erase(addr);
  } else {
    for (auto& s : p.slots) {
      if (s.used && s.kind == kind && s.addr == addr && (kind == gdb::BreakpointKind::Hardware || s.len == len)) {
        s.used = false;
        p.debug_regs_dirty = true;
        break;
      }
    }
  }
  if (session_.alive()) sync();
  return true;
}

void Breakpoints::clear() {
  for (auto& [pid, p] : procs_) {
    p.sw.clear();
    p.hw.clear();
    for (auto& s : p.slots) s.used = false;
    p.debug_regs_dirty = true;
  }
  if (session_.alive()) sync();
  procs_.clear();
}

void Breakpoints::clear_process(int pid) {
  auto it = procs_.find(pid);
  if (it == procs_.end()) return;
  it->second.sw.clear();
  it->second.hw.clear();
  for (auto& s : it->second.slots) s.used = false;
  it->second.debug_regs_dirty = true;
  if (session_.alive()) sync();
  procs_.erase(pid);
}

void Breakpoints::set_user_enabled(bool on) {
  if (on == user_enabled_) return;
  user_enabled_ = on;
  for (auto& [pid, p] : procs_) p.debug_regs_dirty = true;
  sync();
}

void Breakpoints::add_internal(int pid, uint64_t addr) {
  if (!internal_.empty() && internal_pid_ != pid) {
    internal_.clear();
    sync();
  }
  internal_pid_ = pid;
  internal_.insert(addr);
  sync();
}

void Breakpoints::catch_syscalls(bool on, const std::vector<int64_t>& numbers) {
  catch_syscalls_ = on;
  caught_syscalls_ = on ? std::set<int64_t>(numbers.begin(), numbers.end()) : std::set<int64_t>();
}

bool Breakpoints::catches_syscall(int tid, int64_t nr, bool entry) const {
  if (entry && internal_entry_tid_ != 0 && tid == internal_entry_tid_) return true;
  if (!catch_syscalls_ || !user_enabled_ || !debugged(session_.pid_of(tid))) return false;
  return (caught_syscalls_.empty() || caught_syscalls_.count(nr) != 0) && program_call(tid, nr);
}

bool Breakpoints::program_call(int tid, int64_t nr) const {
  if (!session_.has_task(tid)) return true;
  Task& t = const_cast<ReplaySession&>(session_).task(tid);
  return program_made_syscall(t, t.regs(), nr);
}

Breakpoints::Hit Breakpoints::classify_syscall(const ReplaySession::Stop& stop) const {
  Hit hit;
  const bool entry = stop.kind == ReplaySession::StopKind::SyscallEntry;
  if (!entry && stop.kind != ReplaySession::StopKind::SyscallExit) return hit;
  hit.syscall = catch_syscalls_ && user_enabled_ && session_.has_task(stop.tid) &&
                debugged(session_.pid_of(stop.tid)) &&
                (caught_syscalls_.empty() || caught_syscalls_.count(stop.syscall_nr) != 0) &&
                program_call(stop.tid, stop.syscall_nr);
  hit.internal = entry && stop.tid == internal_entry_tid_;
  hit.syscall_entry = entry;
  hit.syscall_nr = stop.syscall_nr;
  return hit;
}

void Breakpoints::clear_internal() {
  internal_entry_tid_ = 0;
  if (internal_.empty()) return;
  internal_.clear();
  sync();
}

void Breakpoints::sync_memory(int pid) {
  Task* t = task_of(pid);
  if (!t) return;
  std::set<uint64_t> want;
  if (!internal_.empty() && memory_of(internal_pid_) == pid) want = internal_;
  for (auto& [q, p] : procs_) {
    if (memory_of(q) != pid || !active(q, p)) continue;
    want.insert(p.sw.begin(), p.sw.end());
    want.insert(p.hw.begin(), p.hw.end());
  }
  Int3s& in = inserted_[pid];
  for (auto it = in.begin(); it != in.end();) {
    if (want.count(it->first)) {
      ++it;
      continue;
    }
    t->write_mem(it->first, &it->second, 1);
    it = in.erase(it);
  }
  for (uint64_t addr : want) {
    if (in.count(addr)) continue;
    // Code a site patch moved into its stub no longer runs here: an int3
    // inside the patch's jump would only change where the jump goes.
    if (session_.inside_patched_jump(pid, addr)) continue;
    uint8_t orig;
    if (t->read_exact(addr, &orig, 1) && t->write_mem(addr, &kInt3, 1)) in[addr] = orig;
  }
}

void Breakpoints::sync() {
  if (!session_.alive()) return;
  std::set<int> live;
  for (int tid : session_.tids()) live.insert(session_.pid_of(tid));
  for (auto it = inserted_.begin(); it != inserted_.end();) it = live.count(it->first) ? std::next(it) : inserted_.erase(it);
  for (auto it = vfork_parent_.begin(); it != vfork_parent_.end();) {
    it = live.count(it->first) && live.count(it->second) ? std::next(it) : vfork_parent_.erase(it);
  }
  for (int pid : live) {
    if (memory_of(pid) == pid) sync_memory(pid);
  }
  for (auto& [pid, p] : procs_) {
    if (!p.debug_regs_dirty || !live.count(pid)) continue;
    const bool on = active(pid, p);
    for (int tid : session_.tids_of(pid)) {
      Task& t = session_.task(tid);
      try {
        write_debug_registers(t, on ? &p : nullptr);
      } catch (const Error&) {
        // A thread that is exiting (its exit event still to come) takes
        // nothing; one that is alive refused the address.
        bool alive = true;
        try {
          t.poke_user(debugreg_offset(7), 0);
        } catch (const Error&) {
          alive = false;
        }
        if (alive) throw;
      }
    }
    p.debug_regs_dirty = false;
  }
}

void Breakpoints::after_restore() {
  inserted_.clear();
  vfork_parent_.clear();
  for (auto& [pid, p] : procs_) p.debug_regs_dirty = true;
  sync();
}

void Breakpoints::on_new_task(int tid) {
  auto it = procs_.find(session_.pid_of(tid));
  if (it == procs_.end()) return;
  bool any = false;
  for (const auto& s : it->second.slots) any = any || s.used;
  if (any && active(it->first, it->second)) write_debug_registers(session_.task(tid), &it->second);
}

void Breakpoints::on_fork(int parent_tid, int child_tid, bool vfork, bool inherit) {
  if (!session_.has_task(parent_tid) || !session_.has_task(child_tid)) return;
  const int parent = session_.pid_of(parent_tid);
  const int child = session_.pid_of(child_tid);
  if (vfork) {
    vfork_parent_[child] = memory_of(parent);
  } else if (const Int3s* in = int3s(parent)) {
    inserted_[child] = *in;  // the copied memory holds the parent's int3 bytes
  }
  if (inherit && !procs_.count(child) && procs_.count(parent)) {
    procs_[child] = procs_[parent];
    procs_[child].debug_regs_dirty = true;
  }
  sync();
}

void Breakpoints::on_address_space_change(int tid, bool exec) {
  if (!session_.has_task(tid)) return;
  const int pid = session_.pid_of(tid);
  if (exec) {
    vfork_parent_.erase(pid);
    inserted_.erase(pid);  // a new image: none of the old bytes are there
    auto it = procs_.find(pid);
    if (it != procs_.end()) it->second.debug_regs_dirty = true;
  } else if (inserted_.count(memory_of(pid))) {
    Task& t = session_.task(tid);
    Int3s& in = inserted_[memory_of(pid)];
    for (auto it = in.begin(); it != in.end();) {
      uint8_t byte;
      // (A site patch's jump is the code there now, whatever its bytes.)
      if (t.read_exact(it->first, &byte, 1) && byte == kInt3 &&
          !session_.inside_patched_jump(memory_of(pid), it->first)) {
        ++it;
      } else {
        it = in.erase(it);  // unmapped, or mapped anew: the original byte is there
      }
    }
  }
  sync();
}

void Breakpoints::write_debug_registers(Task& t, const Proc* p) {
  if (soft_) return;  // (they would not fire)
  uint64_t dr7 = 0;
  for (int i = 0; i < 4 && p && user_enabled_; ++i) {
    const Slot& s = p->slots[i];
    if (!s.used) continue;
    t.poke_user(debugreg_offset(i), s.addr);
    uint64_t rw = 0, len = 0;
    switch (s.kind) {
      case gdb::BreakpointKind::Hardware: rw = 0; break;
      case gdb::BreakpointKind::WriteWatch: rw = 1; break;
      default: rw = 3; break;  // x86 has no read-only watch: read/write, reported as asked
    }
    if (s.kind != gdb::BreakpointKind::Hardware) {
      switch (s.len) {
        case 1: len = 0; break;
        case 2: len = 1; break;
        case 8: len = 2; break;
        default: len = 3; break;
      }
    }
    dr7 |= (1ull << (i * 2)) | (rw << (16 + i * 4)) | (len << (18 + i * 4));
  }
  t.poke_user(debugreg_offset(7), dr7);
}

bool Breakpoints::has_int3_at(int pid, uint64_t addr) const {
  const Int3s* in = int3s(pid);
  return in && in->count(addr) != 0;
}

void Breakpoints::hide_in(int pid, uint64_t addr, void* buf, size_t len) const {
  const Int3s* in = int3s(pid);
  if (!in) return;
  for (auto it = in->lower_bound(addr); it != in->end() && it->first < addr + len; ++it) {
    static_cast<uint8_t*>(buf)[it->first - addr] = it->second;
  }
}

void Breakpoints::hide_in_copy(int pid, Task& frozen) const {
  auto it = inserted_.find(pid);
  if (it == inserted_.end()) return;
  for (const auto& [addr, orig] : it->second) frozen.write_mem(addr, &orig, 1);
}

bool Breakpoints::watches_writes_to(int pid, uint64_t addr, uint64_t len) const {
  const Slot* sl = slots(pid);
  if (!user_enabled_ || !sl) return false;
  for (int i = 0; i < 4; ++i) {
    const Slot& s = sl[i];
    if (!s.used || s.kind == gdb::BreakpointKind::Hardware || s.kind == gdb::BreakpointKind::ReadWatch) continue;
    if (addr < s.addr + s.len && s.addr < addr + len) return true;
  }
  return false;
}

bool Breakpoints::allows_stop_free(int tid) const {
  if (!internal_.empty() || internal_entry_tid_ != 0) return false;
  if (!user_enabled_) return true;
  if (catch_syscalls_) return false;
  for (const auto& [pid, p] : procs_) {
    for (const Slot& s : p.slots) {
      if (s.used && s.kind == gdb::BreakpointKind::ReadWatch) return false;
    }
  }
  if (!session_.has_task(tid)) return false;
  auto it = procs_.find(session_.pid_of(tid));
  if (it == procs_.end()) return true;
  pid_t live = const_cast<ReplaySession&>(session_).task(tid).tid();
  for (uint64_t addr : it->second.sw) {
    if (in_buffer_code(live, addr)) return false;
  }
  for (uint64_t addr : it->second.hw) {
    if (in_buffer_code(live, addr)) return false;
  }
  for (const Slot& s : it->second.slots) {
    if (s.used && s.kind == gdb::BreakpointKind::Hardware && in_buffer_code(live, s.addr)) return false;
  }
  return true;
}

std::string Breakpoints::describe_user_set() const {
  std::string out;
  if (catch_syscalls_) {
    out += "c";
    for (int64_t nr : caught_syscalls_) out += std::to_string(nr) + ",";
    out += ";";
  }
  for (const auto& [pid, p] : procs_) {
    out += "p" + std::to_string(pid) + ":" + std::to_string(p.image) + ";";
    for (uint64_t a : p.sw) out += "s" + std::to_string(a) + ";";
    for (uint64_t a : p.hw) out += "i" + std::to_string(a) + ";";
    for (const auto& s : p.slots) {
      if (s.used) out += "h" + std::to_string(static_cast<int>(s.kind)) + ":" + std::to_string(s.addr) + ":" +
                         std::to_string(s.len) + ";";
    }
  }
  return out;
}

Breakpoints::Hit Breakpoints::classify_trap(int tid) {
  Hit hit;
  Task& t = session_.task(tid);
  const int pid = session_.pid_of(tid);
  auto proc = procs_.find(pid);
  const bool on = proc != procs_.end() && active(pid, proc->second);
  uint64_t dr6 = t.peek_user(debugreg_offset(6));
  for (int i = 0; i < 4 && on; ++i) {
    const Slot& s = proc->second.slots[i];
    if (!(dr6 & (1ull << i)) || !s.used) continue;
    if (s.kind == gdb::BreakpointKind::Hardware) {
      hit.hardware = true;
    } else if (!hit.watch) {
      hit.watch = true;
      hit.watch_kind = s.kind;
      hit.watch_addr = s.addr;
    }
  }
  if (dr6 & 0xf) t.poke_user(debugreg_offset(6), 0);
  if (!hit.hardware && !hit.watch) {
    user_regs_struct regs = t.regs();
    uint64_t at = regs.rip - 1;
    if (has_int3_at(pid, at)) {
      regs.rip = at;  // report the breakpoint's address, as swbreak promises
      t.set_regs(regs);
      // Its own, or (a vfork child) its parent's in the memory they share.
      bool wanted = on && proc->second.sw.count(at) != 0;
      auto owner = procs_.find(memory_of(pid));
      if (!wanted && on && owner != procs_.end()) wanted = owner->second.sw.count(at) != 0;
      hit.software = wanted;
      // gdb's hardware breakpoint as an int3 (no working debug registers).
      hit.hardware = !wanted && on && proc->second.hw.count(at) != 0;
      hit.internal = internal_.count(at) != 0 && memory_of(internal_pid_) == memory_of(pid);
    }
  }
  return hit;
}

Breakpoints::Hit Breakpoints::classify_step(int tid) {
  Hit hit;
  if (!session_.has_task(tid)) return hit;
  Task& t = session_.task(tid);
  const int pid = session_.pid_of(tid);
  auto proc = procs_.find(pid);
  const bool on = proc != procs_.end() && active(pid, proc->second);
  uint64_t dr6 = t.peek_user(debugreg_offset(6));
  for (int i = 0; i < 4 && on; ++i) {
    const Slot& s = proc->second.slots[i];
    if (!(dr6 & (1ull << i)) || !s.used || s.kind == gdb::BreakpointKind::Hardware) continue;
    hit.watch = true;
    hit.watch_kind = s.kind;
    hit.watch_addr = s.addr;
    break;
  }
  if (dr6 & 0xf) t.poke_user(debugreg_offset(6), 0);
  if (soft_ && !hit.watch) {
    if (soft_hit_ && soft_hit_->first == tid) {
      hit = soft_hit_->second;
    } else if (on) {
      hit = soft_compare(tid);
    }
  }
  soft_hit_.reset();
  return hit;
}

bool Breakpoints::soft_watches(int pid, const Proc& p) const {
  if (!soft_ || !user_enabled_) return false;
  bool any = false;
  for (const Slot& s : p.slots) any = any || (s.used && s.kind == gdb::BreakpointKind::WriteWatch);
  if (!any) return false;
  if (p.image == 0) return true;
  auto tids = session_.tids_of(pid);
  return !tids.empty() && session_.image_of(tids.front()) == p.image;
}

bool Breakpoints::single_steps(int tid) const {
  if (!soft_ || !user_enabled_ || procs_.empty() || !session_.has_task(tid)) return false;
  auto it = procs_.find(session_.pid_of(tid));
  return it != procs_.end() && soft_watches(it->first, it->second);
}

void Breakpoints::soft_snapshot() {
  soft_before_.clear();
  soft_hit_.reset();
  if (!soft_ || !user_enabled_ || !session_.alive()) return;
  for (const auto& [pid, p] : procs_) {
    if (soft_watches(pid, p)) soft_before_[pid] = watched_bytes(pid);
  }
}

Breakpoints::Hit Breakpoints::soft_compare(int tid) {
  Hit hit;
  if (!session_.has_task(tid)) return hit;
  const int pid = session_.pid_of(tid);
  auto proc = procs_.find(pid);
  if (proc == procs_.end() || !soft_watches(pid, proc->second)) return hit;
  WatchedBytes now = watched_bytes(pid);
  auto before = soft_before_.find(pid);
  if (before != soft_before_.end()) {
    for (int i = 0; i < 4; ++i) {
      if (now[i].empty() || before->second[i].empty() || now[i] == before->second[i]) continue;
      hit.watch = true;
      hit.watch_kind = proc->second.slots[i].kind;
      hit.watch_addr = proc->second.slots[i].addr;
      break;
    }
  }
  soft_before_[pid] = std::move(now);
  return hit;
}

ReplaySession::Stop Breakpoints::cont() {
  bool any = false;
  for (const auto& [pid, p] : procs_) any = any || soft_watches(pid, p);
  if (!any) return session_.cont();
  soft_snapshot();
  for (;;) {
    ReplaySession::Stop s = session_.cont();
    if (s.kind != ReplaySession::StopKind::Stepped) {
      soft_before_.clear();
      return s;
    }
    Hit hit = soft_compare(s.tid);
    if (hit.watch) {
      soft_hit_ = std::make_pair(s.tid, hit);
      return s;
    }
  }
}

ReplaySession::Stop Breakpoints::step_over(int tid) {
  const int mem = memory_of(session_.pid_of(tid));
  uint64_t pc = session_.task(tid).regs().rip;
  auto in = inserted_.find(mem);
  if (in == inserted_.end() || !in->second.count(pc)) return session_.step(tid);
  uint8_t orig = in->second[pc];
  Task* t = task_of(mem);
  if (t) t->write_mem(pc, &orig, 1);
  ReplaySession::Stop s = session_.step(tid);
  t = task_of(mem);
  if (t && !t->write_mem(pc, &kInt3, 1)) inserted_[mem].erase(pc);
  return s;
}

Breakpoints::Hit Breakpoints::classify_kernel_write(int pid, uint64_t addr, uint64_t len) const {
  Hit hit;
  const Slot* sl = slots(pid);
  for (int i = 0; i < 4 && sl && user_enabled_; ++i) {
    const Slot& s = sl[i];
    bool writes = s.kind == gdb::BreakpointKind::WriteWatch || s.kind == gdb::BreakpointKind::AccessWatch;
    if (s.used && writes && addr < s.addr + s.len && s.addr < addr + len) {
      hit.watch = true;
      hit.watch_kind = s.kind;
      hit.watch_addr = s.addr;
      break;
    }
  }
  return hit;
}

Breakpoints::WatchedBytes Breakpoints::watched_bytes(int pid) {
  WatchedBytes out;
  Task* t = task_of(pid);
  const Slot* sl = slots(pid);
  for (int i = 0; i < 4 && t && sl; ++i) {
    const Slot& s = sl[i];
    if (!s.used || (s.kind != gdb::BreakpointKind::WriteWatch && s.kind != gdb::BreakpointKind::AccessWatch)) continue;
    std::string bytes(s.len, '\0');
    if (t->read_exact(s.addr, bytes.data(), bytes.size())) out[i] = std::move(bytes);
  }
  return out;
}

Breakpoints::Hit Breakpoints::watch_changed_since(int pid, const WatchedBytes& before) {
  Hit hit;
  WatchedBytes now = watched_bytes(pid);
  const Slot* sl = slots(pid);
  for (int i = 0; i < 4 && sl; ++i) {
    if (now[i].empty() || before[i].empty() || now[i] == before[i]) continue;
    hit.watch = true;
    hit.watch_kind = sl[i].kind;
    hit.watch_addr = sl[i].addr;
    break;
  }
  return hit;
}

}  // namespace rrx::replay
