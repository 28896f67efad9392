#include "replay/breakpoints.h"

#include <sys/user.h>

#include <cstddef>

namespace rrx::replay {

namespace {

constexpr uint8_t kInt3 = 0xcc;

size_t debugreg_offset(int i) { return offsetof(struct user, u_debugreg) + static_cast<size_t>(i) * 8; }

}  // namespace

Breakpoints::Breakpoints(ReplaySession& session, std::function<int()> focus)
    : session_(session), focus_(std::move(focus)) {}

Task* Breakpoints::focus_task() {
  if (!session_.alive()) return nullptr;
  int cur = session_.current_tid();
  if (session_.has_task(cur) && session_.pid_of(cur) == focus_()) return &session_.task(cur);
  auto tids = session_.tids_of(focus_());
  if (tids.empty()) return nullptr;
  return &session_.task(tids.front());
}

bool Breakpoints::insert(gdb::BreakpointKind kind, uint64_t addr, uint64_t len) {
  if (kind == gdb::BreakpointKind::Software) {
    if (user_sw_.count(addr)) return true;
    if (!focus_task()) return false;
    // An address not mapped here (gdb's libraries are those of another
    // point of the recording, e.g. libc's write at _start) waits for the
    // replay to map it: on_address_space_change().
    user_sw_.insert(addr);
    sync();
    return true;
  }
  if (kind != gdb::BreakpointKind::Hardware) {
    if (len != 1 && len != 2 && len != 4 && len != 8) return false;
    if (addr % len != 0) return false;  // the debug registers need aligned ranges
  }
  for (auto& s : slots_) {
    if (s.used) continue;
    s = Slot{true, kind, addr, kind == gdb::BreakpointKind::Hardware ? 1 : len};
    debug_regs_dirty_ = true;
    try {
      sync();
    } catch (const Error&) {
      s.used = false;
      debug_regs_dirty_ = true;
      return false;
    }
    return true;
  }
  return false;  // all four debug registers are in use
}

bool Breakpoints::remove(gdb::BreakpointKind kind, uint64_t addr, uint64_t len) {
  if (kind == gdb::BreakpointKind::Software) {
    user_sw_.erase(addr);
  } else {
    for (auto& s : slots_) {
      if (s.used && s.kind == kind && s.addr == addr && (kind == gdb::BreakpointKind::Hardware || s.len == len)) {
        s.used = false;
        debug_regs_dirty_ = true;
        break;
      }
    }
  }
  if (session_.alive()) sync();
  return true;
}

void Breakpoints::clear() {
  user_sw_.clear();
  for (auto& s : slots_) s.used = false;
  debug_regs_dirty_ = true;
  if (session_.alive()) sync();
}

void Breakpoints::set_user_enabled(bool on) {
  if (on == user_enabled_) return;
  user_enabled_ = on;
  debug_regs_dirty_ = true;
  sync();
}

void Breakpoints::add_internal(uint64_t addr) {
  internal_.insert(addr);
  sync();
}

void Breakpoints::catch_syscalls(bool on, const std::vector<int64_t>& numbers) {
  catch_syscalls_ = on;
  caught_syscalls_ = on ? std::set<int64_t>(numbers.begin(), numbers.end()) : std::set<int64_t>();
}

bool Breakpoints::catches_syscall(int tid, int64_t nr, bool entry) const {
  if (entry && internal_entry_tid_ != 0 && tid == internal_entry_tid_) return true;
  if (!catch_syscalls_ || !user_enabled_ || session_.pid_of(tid) != focus_()) return false;
  return caught_syscalls_.empty() || caught_syscalls_.count(nr) != 0;
}

Breakpoints::Hit Breakpoints::classify_syscall(const ReplaySession::Stop& stop) const {
  Hit hit;
  const bool entry = stop.kind == ReplaySession::StopKind::SyscallEntry;
  if (!entry && stop.kind != ReplaySession::StopKind::SyscallExit) return hit;
  hit.syscall = catch_syscalls_ && user_enabled_ &&
                (caught_syscalls_.empty() || caught_syscalls_.count(stop.syscall_nr) != 0);
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

void Breakpoints::sync() {
  Task* t = focus_task();
  if (!t) return;
  std::set<uint64_t> want = internal_;
  if (user_enabled_) want.insert(user_sw_.begin(), user_sw_.end());
  for (auto it = inserted_.begin(); it != inserted_.end();) {
    if (want.count(it->first)) {
      ++it;
      continue;
    }
    t->write_mem(it->first, &it->second, 1);
    it = inserted_.erase(it);
  }
  for (uint64_t addr : want) {
    if (inserted_.count(addr)) continue;
    uint8_t orig;
    if (t->read_exact(addr, &orig, 1) && t->write_mem(addr, &kInt3, 1)) inserted_[addr] = orig;
  }
  if (debug_regs_dirty_) {
    for (int tid : session_.tids_of(focus_())) {
      Task& t = session_.task(tid);
      try {
        write_debug_registers(t);
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
    debug_regs_dirty_ = false;
  }
}

void Breakpoints::after_restore() {
  inserted_.clear();
  debug_regs_dirty_ = true;
  sync();
}

void Breakpoints::on_new_task(int tid) {
  if (session_.pid_of(tid) != focus_()) return;
  bool any = false;
  for (const auto& s : slots_) any = any || s.used;
  if (any && user_enabled_) write_debug_registers(session_.task(tid));
}

void Breakpoints::on_address_space_change(int tid, bool exec) {
  if (!session_.has_task(tid) || session_.pid_of(tid) != focus_()) return;
  if (exec) {
    inserted_.clear();  // a new image: none of the old bytes are there
    debug_regs_dirty_ = true;
  } else {
    Task& t = session_.task(tid);
    for (auto it = inserted_.begin(); it != inserted_.end();) {
      uint8_t byte;
      if (t.read_exact(it->first, &byte, 1) && byte == kInt3) {
        ++it;
      } else {
        it = inserted_.erase(it);  // unmapped, or mapped anew: the original byte is there
      }
    }
  }
  sync();
}

void Breakpoints::write_debug_registers(Task& t) {
  uint64_t dr7 = 0;
  for (int i = 0; i < 4 && user_enabled_; ++i) {
    const Slot& s = slots_[i];
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

void Breakpoints::hide_in(uint64_t addr, void* buf, size_t len) const {
  for (auto it = inserted_.lower_bound(addr); it != inserted_.end() && it->first < addr + len; ++it) {
    static_cast<uint8_t*>(buf)[it->first - addr] = it->second;
  }
}

void Breakpoints::hide_in_copy(int pid, Task& frozen) const {
  if (pid != focus_()) return;
  for (const auto& [addr, orig] : inserted_) frozen.write_mem(addr, &orig, 1);
}

bool Breakpoints::watches_writes_to(uint64_t addr, uint64_t len) const {
  if (!user_enabled_) return false;
  for (const auto& s : slots_) {
    if (!s.used || s.kind == gdb::BreakpointKind::Hardware || s.kind == gdb::BreakpointKind::ReadWatch) continue;
    if (addr < s.addr + s.len && s.addr < addr + len) return true;
  }
  return false;
}

std::string Breakpoints::describe_user_set() const {
  std::string out;
  if (catch_syscalls_) {
    out += "c";
    for (int64_t nr : caught_syscalls_) out += std::to_string(nr) + ",";
    out += ";";
  }
  for (uint64_t a : user_sw_) out += "s" + std::to_string(a) + ";";
  for (const auto& s : slots_) {
    if (s.used) out += "h" + std::to_string(static_cast<int>(s.kind)) + ":" + std::to_string(s.addr) + ":" +
                       std::to_string(s.len) + ";";
  }
  return out;
}

Breakpoints::Hit Breakpoints::classify_trap(int tid) {
  Hit hit;
  Task& t = session_.task(tid);
  uint64_t dr6 = t.peek_user(debugreg_offset(6));
  for (int i = 0; i < 4; ++i) {
    if (!(dr6 & (1ull << i)) || !slots_[i].used || !user_enabled_) continue;
    if (slots_[i].kind == gdb::BreakpointKind::Hardware) {
      hit.hardware = true;
    } else if (!hit.watch) {
      hit.watch = true;
      hit.watch_kind = slots_[i].kind;
      hit.watch_addr = slots_[i].addr;
    }
  }
  if (dr6 & 0xf) t.poke_user(debugreg_offset(6), 0);
  if (!hit.hardware && !hit.watch) {
    user_regs_struct regs = t.regs();
    uint64_t at = regs.rip - 1;
    if (inserted_.count(at)) {
      regs.rip = at;  // report the breakpoint's address, as swbreak promises
      t.set_regs(regs);
      hit.software = user_enabled_ && user_sw_.count(at) != 0;
      hit.internal = internal_.count(at) != 0;
    }
  }
  return hit;
}

Breakpoints::Hit Breakpoints::classify_step(int tid) {
  Hit hit;
  if (!session_.has_task(tid)) return hit;
  Task& t = session_.task(tid);
  uint64_t dr6 = t.peek_user(debugreg_offset(6));
  for (int i = 0; i < 4 && user_enabled_; ++i) {
    const Slot& s = slots_[i];
    if (!(dr6 & (1ull << i)) || !s.used || s.kind == gdb::BreakpointKind::Hardware) continue;
    hit.watch = true;
    hit.watch_kind = s.kind;
    hit.watch_addr = s.addr;
    break;
  }
  if (dr6 & 0xf) t.poke_user(debugreg_offset(6), 0);
  return hit;
}

ReplaySession::Stop Breakpoints::step_over(int tid) {
  uint64_t pc = session_.task(tid).regs().rip;
  auto it = inserted_.find(pc);
  if (it == inserted_.end()) return session_.step(tid);
  Task* t = focus_task();
  if (t) t->write_mem(pc, &it->second, 1);
  ReplaySession::Stop s = session_.step(tid);
  t = focus_task();
  if (t && !t->write_mem(pc, &kInt3, 1)) inserted_.erase(pc);
  return s;
}

Breakpoints::Hit Breakpoints::classify_kernel_write(uint64_t addr, uint64_t len) const {
  Hit hit;
  for (const auto& s : slots_) {
    bool writes = s.kind == gdb::BreakpointKind::WriteWatch || s.kind == gdb::BreakpointKind::AccessWatch;
    if (user_enabled_ && s.used && writes && addr < s.addr + s.len && s.addr < addr + len) {
      hit.watch = true;
      hit.watch_kind = s.kind;
      hit.watch_addr = s.addr;
      break;
    }
  }
  return hit;
}

Breakpoints::WatchedBytes Breakpoints::watched_bytes() {
  WatchedBytes out;
  Task* t = focus_task();
  for (int i = 0; i < 4 && t; ++i) {
    const Slot& s = slots_[i];
    if (!s.used || (s.kind != gdb::BreakpointKind::WriteWatch && s.kind != gdb::BreakpointKind::AccessWatch)) continue;
    std::string bytes(s.len, '\0');
    if (t->read_exact(s.addr, bytes.data(), bytes.size())) out[i] = std::move(bytes);
  }
  return out;
}

Breakpoints::Hit Breakpoints::watch_changed_since(const WatchedBytes& before) {
  Hit hit;
  WatchedBytes now = watched_bytes();
  for (int i = 0; i < 4; ++i) {
    if (now[i].empty() || before[i].empty() || now[i] == before[i]) continue;
    hit.watch = true;
    hit.watch_kind = slots_[i].kind;
    hit.watch_addr = slots_[i].addr;
    break;
  }
  return hit;
}

}  // namespace rrx::replay
