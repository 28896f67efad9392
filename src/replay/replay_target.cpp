#include "replay/replay_target.h"

#include <sys/user.h>

#include <cstddef>
#include <cstring>
#include <sstream>

#include "trace_format/trace_dir.h"

namespace rrx::replay {

namespace {

constexpr uint8_t kInt3 = 0xcc;
const char* kWriteRefusal =
    "rrx: the replay is read-only: writing memory or registers (set var, print x=1, call f()) "
    "would change the recorded execution";

size_t debugreg_offset(int i) { return offsetof(struct user, u_debugreg) + static_cast<size_t>(i) * 8; }

}  // namespace

ReplayTarget::ReplayTarget(ReplayOptions options, int focus_pid)
    : options_(std::move(options)), focus_pid_(focus_pid) {
  start_session();
}

int ReplayTarget::focus() const { return focus_pid_ != 0 ? focus_pid_ : session_->recorded_pid(); }

int ReplayTarget::focus_tid() {
  int cur = session_->current_tid();
  if (session_->has_task(cur) && session_->pid_of(cur) == focus()) return cur;
  auto tids = session_->tids_of(focus());
  return tids.empty() ? cur : tids.front();
}

ReplayTarget::~ReplayTarget() = default;

void ReplayTarget::start_session() {
  session_ = std::make_unique<ReplaySession>(options_);
  session_->memory_write_hook = [this](int, uint64_t addr, uint64_t len) { return watched(addr, len); };
  session_->new_task_hook = [this](int tid) {
    bool any = false;
    for (const auto& s : slots_) any = any || s.used;
    if (any && session_->pid_of(tid) == focus()) apply_debug_registers(session_->task(tid));
  };
  session_->start();
  if (focus_pid_ != 0 && focus_pid_ != session_->recorded_pid()) {
    // Replay without the debugger until the chosen process has exec'd.
    session_->exec_hook = [this](int tid) { return session_->pid_of(tid) == focus_pid_; };
    for (;;) {
      ReplaySession::Stop s = session_->cont();
      if (s.kind == ReplaySession::StopKind::Exec) break;
      if (s.kind == ReplaySession::StopKind::Exited || s.kind == ReplaySession::StopKind::TraceEnd) {
        throw Error("process " + std::to_string(focus_pid_) + " never ran a program in this recording");
      }
    }
    session_->exec_hook = nullptr;
  }
  session_->set_current_tid(focus_tid());
  exited_ = false;
  last_stop_ = gdb::StopReason{};
  last_stop_.kind = gdb::StopReason::Kind::Signal;
  last_stop_.signo = SIGTRAP;
  last_stop_.tid = session_->recorded_tid();
  last_stop_.pid = session_->recorded_pid();
}

int ReplayTarget::pid() { return focus(); }
std::vector<int> ReplayTarget::threads() {
  if (exited_) return {};
  return session_->tids_of(focus());
}
int ReplayTarget::current_thread() { return focus_tid(); }
bool ReplayTarget::set_current_thread(int tid) {
  if (tid <= 0) return true;
  if (!session_->has_task(tid)) return false;
  session_->set_current_tid(tid);
  return true;
}
std::string ReplayTarget::thread_name(int tid) {
  std::string exe = session_->exe_of(tid);
  size_t slash = exe.rfind('/');
  std::string name = slash == std::string::npos ? exe : exe.substr(slash + 1);
  return name.substr(0, 15);
}

bool ReplayTarget::read_registers(int tid, gdb::ThreadRegisters& out) {
  if (exited_ || !session_->alive()) return false;
  Task& t = tid > 0 && session_->has_task(tid) ? session_->task(tid) : session_->task(focus_tid());
  out.gpr = t.regs();
  out.fpr = t.fpregs();
  out.has_avx = t.ymm_high(out.ymmh);
  return true;
}

size_t ReplayTarget::read_memory(uint64_t addr, void* buf, size_t len) {
  if (exited_ || !session_->alive()) return 0;
  size_t n = session_->task(focus_tid()).read_mem(addr, buf, len);
  // Show the program's bytes, not the breakpoints.
  for (auto it = sw_breakpoints_.lower_bound(addr); it != sw_breakpoints_.end() && it->first < addr + n; ++it) {
    static_cast<uint8_t*>(buf)[it->first - addr] = it->second;
  }
  return n;
}

bool ReplayTarget::write_registers_allowed(std::string& why) {
  why = kWriteRefusal;
  return false;
}

bool ReplayTarget::write_memory_allowed(std::string& why) {
  why = kWriteRefusal;
  return false;
}

void ReplayTarget::apply_debug_registers() {
  for (int tid : session_->tids_of(focus())) apply_debug_registers(session_->task(tid));
}

void ReplayTarget::apply_debug_registers(Task& t) {
  uint64_t dr7 = 0;
  for (int i = 0; i < 4; ++i) {
    const DebugSlot& s = slots_[i];
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

bool ReplayTarget::insert_breakpoint(gdb::BreakpointKind kind, uint64_t addr, uint64_t len) {
  if (exited_ || !session_->alive()) return false;
  if (kind == gdb::BreakpointKind::Software) {
    if (sw_breakpoints_.count(addr)) return true;
    uint8_t orig;
    Task& t = session_->task(focus_tid());
    if (!t.read_exact(addr, &orig, 1)) return false;
    if (!t.write_mem(addr, &kInt3, 1)) return false;
    sw_breakpoints_[addr] = orig;
    return true;
  }
  if (kind != gdb::BreakpointKind::Hardware) {
    if (len != 1 && len != 2 && len != 4 && len != 8) return false;
    if (addr % len != 0) return false;  // the debug registers need aligned ranges
  }
  for (auto& s : slots_) {
    if (!s.used) {
      s = DebugSlot{true, kind, addr, kind == gdb::BreakpointKind::Hardware ? 1 : len};
      try {
        apply_debug_registers();
      } catch (const Error&) {
        s.used = false;
        return false;
      }
      return true;
    }
  }
  return false;  // all four debug registers are in use
}

bool ReplayTarget::remove_breakpoint(gdb::BreakpointKind kind, uint64_t addr, uint64_t len) {
  if (kind == gdb::BreakpointKind::Software) {
    auto it = sw_breakpoints_.find(addr);
    if (it == sw_breakpoints_.end()) return true;
    if (!exited_ && session_->alive()) session_->task(focus_tid()).write_mem(addr, &it->second, 1);
    sw_breakpoints_.erase(it);
    return true;
  }
  for (auto& s : slots_) {
    if (s.used && s.kind == kind && s.addr == addr &&
        (kind == gdb::BreakpointKind::Hardware || s.len == len)) {
      s.used = false;
      if (!exited_ && session_->alive()) apply_debug_registers();
      return true;
    }
  }
  return true;
}

bool ReplayTarget::watched(uint64_t addr, uint64_t len) const {
  for (const auto& s : slots_) {
    if (!s.used || s.kind == gdb::BreakpointKind::Hardware || s.kind == gdb::BreakpointKind::ReadWatch) continue;
    if (addr < s.addr + s.len && s.addr < addr + len) return true;
  }
  return false;
}

gdb::StopReason ReplayTarget::translate(const ReplaySession::Stop& stop) {
  gdb::StopReason r;
  r.tid = stop.tid > 0 && session_->has_task(stop.tid) ? stop.tid : session_->current_tid();
  r.pid = focus();
  if (r.tid > 0 && session_->has_task(r.tid)) session_->set_current_tid(r.tid);
  switch (stop.kind) {
    case ReplaySession::StopKind::Stepped:
      r.kind = gdb::StopReason::Kind::Signal;
      r.signo = SIGTRAP;
      break;
    case ReplaySession::StopKind::Trap: {
      r.kind = gdb::StopReason::Kind::Signal;
      r.signo = SIGTRAP;
      Task& t = session_->task(r.tid);
      uint64_t dr6 = t.peek_user(debugreg_offset(6));
      bool hw = false;
      for (int i = 0; i < 4; ++i) {
        if ((dr6 & (1ull << i)) && slots_[i].used) {
          hw = true;
          if (slots_[i].kind == gdb::BreakpointKind::Hardware) {
            r.hardware_breakpoint = true;
          } else {
            r.watchpoint = true;
            r.watch_kind = slots_[i].kind;
            r.watch_addr = slots_[i].addr;
          }
          break;
        }
      }
      if (dr6 & 0xf) t.poke_user(debugreg_offset(6), 0);
      if (!hw) {
        user_regs_struct regs = t.regs();
        if (sw_breakpoints_.count(regs.rip - 1)) {
          regs.rip -= 1;  // report the breakpoint's address, as swbreak promises
          t.set_regs(regs);
          r.software_breakpoint = true;
        }
      }
      break;
    }
    case ReplaySession::StopKind::Signal:
      r.kind = gdb::StopReason::Kind::Signal;
      r.signo = stop.sig;
      break;
    case ReplaySession::StopKind::Interrupted:
      r.kind = gdb::StopReason::Kind::Signal;
      r.signo = SIGINT;
      break;
    case ReplaySession::StopKind::MemoryWatch:
      r.kind = gdb::StopReason::Kind::Signal;
      r.signo = SIGTRAP;
      r.watchpoint = true;
      for (const auto& s : slots_) {
        bool writes = s.kind == gdb::BreakpointKind::WriteWatch || s.kind == gdb::BreakpointKind::AccessWatch;
        if (s.used && writes && stop.watch_addr < s.addr + s.len && s.addr < stop.watch_addr + stop.watch_len) {
          r.watch_kind = s.kind;
          r.watch_addr = s.addr;
          break;
        }
      }
      break;
    case ReplaySession::StopKind::Exited:
    case ReplaySession::StopKind::TraceEnd:
      exited_ = true;
      if (stop.kind == ReplaySession::StopKind::Exited && stop.killed) {
        r.kind = gdb::StopReason::Kind::Terminated;
        r.signo = stop.exit_code;
      } else {
        r.kind = gdb::StopReason::Kind::Exited;
        r.code = stop.kind == ReplaySession::StopKind::Exited ? stop.exit_code
                                                              : session_->recorded_exit_status();
      }
      break;
  }
  return r;
}

gdb::StopReason ReplayTarget::resume(gdb::ResumeKind kind, int tid) {
  if (exited_) return last_stop_;
  ReplaySession::Stop stop;
  try {
    for (;;) {
      if (kind == gdb::ResumeKind::Continue) {
        stop = session_->cont();
      } else {
        stop = session_->step(tid > 0 && session_->has_task(tid) ? tid : focus_tid());
      }
      bool ours = stop.tid == 0 || session_->pid_of(stop.tid) == focus() || !session_->has_task(stop.tid);
      if (stop.kind == ReplaySession::StopKind::Exited || stop.kind == ReplaySession::StopKind::TraceEnd) break;
      if (session_->tids_of(focus()).empty()) {
        // The debugged process is gone; the others replay along.
        if (auto e = session_->process_exit(focus())) stop = *e;
        else stop.kind = ReplaySession::StopKind::TraceEnd;
        break;
      }
      if (ours && stop.kind != ReplaySession::StopKind::Exec) break;
      // A stop in another process of the tree: not the debugger's business.
    }
  } catch (const Divergence& d) {
    std::fprintf(stderr, "rrx: %s\n", d.what());
    session_->kill();
    exited_ = true;
    last_stop_ = gdb::StopReason{};
    last_stop_.kind = gdb::StopReason::Kind::Terminated;
    last_stop_.signo = SIGKILL;
    return last_stop_;
  }
  last_stop_ = translate(stop);
  last_siginfo_.clear();
  if (stop.kind == ReplaySession::StopKind::Signal || stop.kind == ReplaySession::StopKind::Trap) {
    last_siginfo_.assign(reinterpret_cast<const char*>(&stop.siginfo), sizeof stop.siginfo);
  }
  return last_stop_;
}

void ReplayTarget::request_interrupt() { session_->request_interrupt(); }

std::string ReplayTarget::auxv() { return session_->auxv_of(focus_tid()); }

std::string ReplayTarget::exec_file() { return session_->exe_copy_of(focus_tid()).string(); }

std::string ReplayTarget::siginfo(int) { return last_siginfo_; }

std::string ReplayTarget::monitor(const std::string& command, bool& ok) {
  ok = true;
  std::istringstream in(command);
  std::string verb;
  in >> verb;
  if (verb == "when") {
    return "Current event: " + std::to_string(session_->next_event()) + " (of " +
           std::to_string(session_->event_count()) + " in the trace)\n";
  }
  if (verb == "info-trace") {
    auto h = session_->reader().header();
    std::ostringstream out;
    out << "trace: " << session_->reader().dir().string() << "\n";
    out << "command:";
    for (auto a : h.getArgv()) out << " " << a.cStr();
    out << "\nrecorded on Linux " << h.getKernelRelease().cStr() << ", " << h.getCpu().getVendor().cStr() << "\n";
    out << "events: " << session_->event_count() << ", next: " << session_->next_event() << "\n";
    out << "skip strategy: " << skip_strategy_name(session_->strategy()) << "\n";
    out << (session_->reader().complete() ? "complete" : "incomplete: " + session_->reader().incomplete_reason())
        << "\n";
    return out.str();
  }
  if (verb == "help" || verb.empty()) {
    return "rrx monitor commands:\n"
           "  when        the current event number\n"
           "  info-trace  what the trace holds\n";
  }
  ok = false;
  return "unknown monitor command '" + verb + "'; try 'monitor help'";
}

bool ReplayTarget::restart() {
  sw_breakpoints_.clear();
  for (auto& s : slots_) s.used = false;
  session_.reset();
  start_session();
  return true;
}

}  // namespace rrx::replay
