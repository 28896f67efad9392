// A scripted gdb::Target for the gdb stub tests and the fuzzer.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "gdbserver/target.h"

namespace rrx::gdb::testing {

class MockTarget : public Target {
 public:
  static constexpr uint64_t kMemBase = 0x400000;
  static constexpr size_t kMemSize = 0x2000;
  static constexpr int kPid = 1000;
  static constexpr int kTid1 = 1000;
  static constexpr int kTid2 = 0x3f2;  // 1010

  struct BreakpointCall {
    bool insert;
    BreakpointKind kind;
    uint64_t addr, len;
  };
  struct ResumeCall {
    ResumeKind kind;
    int tid;
  };

  MockTarget() {
    memory.resize(kMemSize);
    for (size_t i = 0; i < kMemSize; ++i) memory[i] = static_cast<uint8_t>(i * 7 + 3);
    // Recognisable first bytes.
    const uint8_t head[] = {0xde, 0xad, 0xbe, 0xef, '$', '#', '}', '*'};
    std::memcpy(memory.data(), head, sizeof head);
    regs1 = make_regs(1);
    regs2 = make_regs(2);
    last.kind = StopReason::Kind::Signal;
    last.tid = kTid1;
    last.pid = kPid;
    last.signo = 5;
  }

  static ThreadRegisters make_regs(int which) {
    ThreadRegisters r;
    r.gpr.rax = 0x1111111111111111ull * which;
    r.gpr.rbx = 0x2222;
    r.gpr.rcx = 0x3333;
    r.gpr.rdx = 0x4444;
    r.gpr.rsi = 0x5555;
    r.gpr.rdi = 0x6666;
    r.gpr.rbp = 0x7ffe0000ull + which;
    r.gpr.rsp = 0x7ffd0000ull + which;
    r.gpr.r8 = 8;
    r.gpr.r15 = 15;
    r.gpr.rip = kMemBase + 0x100 * which;
    r.gpr.eflags = 0x246;
    r.gpr.cs = 0x33;
    r.gpr.ss = 0x2b;
    r.gpr.fs_base = 0x7f0000001000ull + which;
    r.gpr.gs_base = 0x7f0000002000ull;
    r.gpr.orig_rax = 0x3c;
    r.fpr.cwd = 0x37f;
    r.fpr.swd = 0;
    r.fpr.ftw = 0;  // all empty
    r.fpr.mxcsr = 0x1f80;
    r.fpr.fop = 0xffff;
    r.fpr.rip = 0x1122334455667788ull;
    for (int i = 0; i < 16; ++i) {
      auto* x = reinterpret_cast<uint8_t*>(r.fpr.xmm_space) + 16 * i;
      for (int b = 0; b < 16; ++b) x[b] = static_cast<uint8_t>(i * 16 + b);
      for (int b = 0; b < 16; ++b) r.ymmh[i][b] = static_cast<uint8_t>(0x80 + i);
    }
    r.has_avx = true;
    return r;
  }

  int pid() override { return kPid; }
  std::vector<int> threads() override { return thread_ids; }
  int current_thread() override { return current; }
  bool set_current_thread(int tid) override {
    for (int t : thread_ids)
      if (t == tid) {
        current = tid;
        return true;
      }
    return false;
  }
  std::string thread_name(int tid) override { return tid == kTid1 ? "main" : "worker<1>"; }

  bool read_registers(int tid, ThreadRegisters& out) override {
    ++register_reads;
    if (tid == kTid1) out = regs1;
    else if (tid == kTid2) out = regs2;
    else return false;
    return true;
  }

  size_t read_memory(uint64_t addr, void* buf, size_t len) override {
    if (addr < kMemBase || addr >= kMemBase + kMemSize) return 0;
    size_t n = std::min<uint64_t>(len, kMemBase + kMemSize - addr);
    std::memcpy(buf, memory.data() + (addr - kMemBase), n);
    return n;
  }

  bool write_registers_allowed(std::string& why) override {
    why = "rrx: cannot write registers during a replay: it would change the recorded execution";
    return false;
  }
  bool write_memory_allowed(std::string& why) override {
    why = "rrx: cannot write memory during a replay: it would change the recorded execution";
    return false;
  }

  bool insert_breakpoint(BreakpointKind kind, uint64_t addr, uint64_t len) override {
    breakpoints.push_back({true, kind, addr, len});
    return !(kind != BreakpointKind::Software && hw_slots_full);
  }
  bool remove_breakpoint(BreakpointKind kind, uint64_t addr, uint64_t len) override {
    breakpoints.push_back({false, kind, addr, len});
    return true;
  }

  StopReason resume(ResumeKind kind, int tid, bool /*others_held*/) override {
    resumes.push_back({kind, tid});
    if (block_until_interrupt) {
      std::unique_lock lock(mu);
      cv.wait_for(lock, std::chrono::seconds(20), [&] { return interrupted.load(); });
      interrupted = false;
      StopReason s;
      s.kind = StopReason::Kind::Signal;
      s.signo = 2;
      s.tid = kTid1;
      s.pid = kPid;
      last = s;
      return s;
    }
    const bool step = kind == ResumeKind::Step || kind == ResumeKind::ReverseStep;
    if (step && !steps_use_script) {
      // A step moves one byte, forwards or backwards.
      ThreadRegisters& r = (tid == kTid2) ? regs2 : regs1;
      r.gpr.rip += kind == ResumeKind::Step ? 1 : -1;
      last = StopReason{};
      last.tid = tid == kTid2 ? kTid2 : kTid1;
      last.pid = kPid;
    } else if (!script.empty()) {
      last = script.front();
      script.pop_front();
      if (!effects.empty()) {
        if (effects.front()) effects.front()(*this);
        effects.pop_front();
      }
    } else {
      last = StopReason{};
      last.tid = kTid1;
      last.pid = kPid;
    }
    return last;
  }
  bool can_reverse() override { return reverse; }
  void request_interrupt() override {
    ++interrupt_requests;
    std::lock_guard lock(mu);
    interrupted = true;
    cv.notify_all();
  }
  StopReason last_stop() override { return last; }

  struct CatchCall {
    bool on;
    std::vector<int64_t> numbers;
  };
  std::vector<CatchCall> catch_calls;
  bool catch_syscalls(bool on, const std::vector<int64_t>& numbers) override {
    catch_calls.push_back({on, numbers});
    return true;
  }

  std::string auxv() override { return auxv_data; }
  std::string exec_file() override { return exec_path; }
  std::string siginfo(int) override { return siginfo_bytes; }
  std::string siginfo_bytes;  // what qXfer:siginfo:read returns (empty: no signal)
  std::vector<MemoryRegion> memory_map() override { return regions; }
  std::vector<MemoryRegion> regions;  // what qMemoryRegionInfo answers from (empty: unknown)

  std::string monitor(const std::string& command, bool& ok) override {
    monitor_commands.push_back(command);
    ok = true;
    if (command == "help")
      return "rrx monitor commands:\n  when        show the current event\n  goto EVENT  go to an event\n";
    if (command == "when") return "Current event: 42";
    if (command == "big") return std::string(10000, 'z');
    ok = false;
    return "rrx: unknown monitor command '" + command + "'";
  }

  bool restart(const std::vector<std::string>& args, std::string& why) override {
    ++restarts;
    restart_args = args;
    if (!can_restart) why = "rrx: cannot restart this one";
    last = StopReason{};
    last.tid = kTid1;
    last.pid = kPid;
    return can_restart;
  }

  // State and scripts, public for the tests.
  std::vector<std::string> restart_args;
  std::vector<uint8_t> memory;
  ThreadRegisters regs1, regs2;
  std::vector<int> thread_ids{kTid1, kTid2};
  int current = kTid1;
  std::vector<BreakpointCall> breakpoints;
  std::vector<ResumeCall> resumes;
  std::deque<StopReason> script;                          // stops returned by resume()
  std::deque<std::function<void(MockTarget&)>> effects;  // run with each scripted stop
  bool steps_use_script = true;  // false: steps move rip by one byte and stop with SIGTRAP
  StopReason last;
  bool reverse = true;
  bool hw_slots_full = false;
  bool can_restart = true;
  bool block_until_interrupt = false;
  std::atomic<int> interrupt_requests{0};
  std::atomic<bool> interrupted{false};
  int restarts = 0;
  int register_reads = 0;
  std::vector<std::string> monitor_commands;
  std::string auxv_data = std::string("\x21\0\0\0\0\0\0\0$#}*\0\0\0\0\0\0\0\0\0\0\0\0", 24);
  std::string exec_path = "/bin/true";
  std::mutex mu;
  std::condition_variable cv;
};

}  // namespace rrx::gdb::testing
