// An in-process conditional breakpoint for reaching a recorded preemption
// point: the replay patches the instruction at the recorded address with a
// jump to a stub that compares the registers with the recorded ones and
// executes int3 only when they all match, so a hot loop runs at native speed
// until its recorded pass instead of stopping at every pass.
//
// Used by ReplaySession::run_to_preemption only, for the length of one run
// of one thread to one preemption point: the stub page is mapped (an
// injected mmap) and the site patched when the run starts, and both are
// undone before the replay reports any stop, so the debugger, memory reads
// and checkpoint copies never see them, and the program's own mappings,
// which change only at its syscalls (none run in between), stay those of
// the recording.
//
// The patch: `jmp rel32` over the instructions that start within the first
// 5 bytes, the rest of them filled with int3. A branch into the middle of
// the patched range (the start of the second displaced instruction, say)
// would run garbage; so the stub is placed where every displaced
// instruction start inside the jmp's 4 displacement bytes lands on a byte
// 0xcc of the displacement ("instruction punning"; where 0xcc cannot be,
// a byte that is an invalid opcode in 64-bit mode): such a branch traps,
// and the replay undoes the patch and goes on the slow way (one stop per
// pass). A start that branches do reach (a loop entered in its middle, a
// function's entry jumping into its loop: one trap per pass) is routed
// instead: its byte is the 0xe9 of a second jmp (punned on the first's
// displacement where it lies there, the patch extended over more displaced
// instructions to hold it) to its own small stub that runs the displaced
// instructions from there on, so such passes run at native speed too. A
// displaced direct call is run as a push of the address after it and a jmp
// to the callee, which returns to the program, not to the stub. Sites that
// cannot be patched (an indirect call, an instruction
// without a rel32 form, a shared mapping, no free place within reach)
// are refused, and the replay goes the slow way.
//
// The stub keeps the program's view intact: it leaves the red zone below
// rsp alone (it moves rsp 128 bytes down first), saves and restores the
// flags, and touches no register on either path. Only the thread the
// preemption belongs to runs while it is in place (the replay runs one
// thread at a time), and the comparison includes rsp, which lies in that
// thread's own stack, so no other thread could match.
//
// The Timeline uses the same stub to find a position again (a Mark: a pass
// of an address with given registers; ReplaySession::set_position_target),
// and, to find the pass before a position, lets it count the passes of the
// address (flag-free: lea on a counter in the stub's page) and trap at a
// given pass instead of comparing registers.
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/ptrace_task.h"

namespace rrx::replay {

class PreemptStub {
 public:
  // Runs a syscall in the stopped thread (ReplaySession::inject).
  using Inject = std::function<int64_t(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                                       uint64_t a5)>;

  // Maps the stub into the process of `task` (stopped, `pid` its thread
  // group) for the site at `ip`, to stop once the registers equal `want`
  // (compared as same_position_regs does); arm() patches the site. `now`:
  // the thread's registers at this stop (a register that differs from
  // `want` is tested first). `routed`: displaced instruction starts after
  // ip that branches reach (seen as JumpedIn), each given a jmp of its own
  // instead of a trapping byte. A refusal says why not.
  static std::variant<std::unique_ptr<PreemptStub>, std::string> install(Task& task, pid_t pid, uint64_t ip,
                                                                         const user_regs_struct& want,
                                                                         const user_regs_struct& now,
                                                                         const Inject& inject);
  // What makes the stub trap (the default: the registers). Passes are
  // those of ip since install(). A stub that counts gets a writable page.
  struct Condition {
    bool compare = true;        // the registers equal `want`
    bool count = false;         // count the passes (passes())
    uint64_t trap_at_pass = 0;  // with count: trap at this pass (1: the first); 0: never
  };
  static std::variant<std::unique_ptr<PreemptStub>, std::string> install(Task& task, pid_t pid, uint64_t ip,
                                                                         const user_regs_struct& want,
                                                                         const user_regs_struct& now,
                                                                         const Inject& inject, Condition cond,
                                                                         const std::vector<uint64_t>& routed = {});
  // Undoes a patch still in place (best effort: the process may be gone).
  ~PreemptStub();
  PreemptStub(const PreemptStub&) = delete;
  PreemptStub& operator=(const PreemptStub&) = delete;

  // What a stop of the thread at registers `r` means for the stub.
  enum class Hit {
    None,       // a stop that is not the stub's
    Matched,    // the stub's int3: the registers matched at ip (or the pass trap_at_pass came)
    JumpedIn,   // a branch into the patched range hit a 0xcc of the patch
  };
  Hit classify(const user_regs_struct& r) const;        // at a SIGTRAP
  Hit classify_fault(const user_regs_struct& r) const;  // at a SIGILL or SIGSEGV
  // A stop `w` of `task`, the thread the stub is for: classifies it
  // (classify, classify_fault), takes the patch out (remove(false)) and
  // gives the thread back the registers the program has there
  // (program_regs; at a JumpedIn fault, the pc stays on the faulting byte).
  Hit settle_stop(Task& task, const WaitStatus& w);

  // The registers the program would have at this stop without the stub: a
  // pc inside the stub goes back to the original instruction it stands for,
  // rsp, flags and rax saved by the comparison are taken back.
  user_regs_struct program_regs(const user_regs_struct& r) const;

  // Restores the original bytes; `unmap` also unmaps the stub page (needs a
  // stop where a syscall can be injected: not a syscall-entry stop).
  void remove(bool unmap);
  // Patches the site (again, after remove(false): the stub stays mapped).
  void arm();
  bool armed() const { return patched_; }
  bool mapped() const { return mapped_; }

  // Passes of ip so far (Condition::count), counting the one it trapped at.
  uint64_t passes() const;
  // Forgets the stub without touching the process (it was replaced by a
  // checkpoint's copy, or is gone).
  void abandon() { patched_ = mapped_ = false; }

  uint64_t site() const { return ip_; }
  uint64_t patched_end() const { return ip_ + original_.size(); }

 private:
  PreemptStub(Task& task, Inject inject) : task_(task), inject_(std::move(inject)) {}

  // How to undo the stub's own work at a pc inside it.
  struct Undo {
    uint64_t program_pc;     // the instruction of the program this pc stands for
    uint32_t rsp_adjust;     // add to rsp
    int flags_slot = -1;     // saved flags at [rsp + slot], or -1
    int rax_slot = -1;       // saved rax at [rsp + slot], or -1
    int rcx_slot = -1;       // saved rcx at [rsp + slot], or -1
  };

  Task& task_;
  Inject inject_;
  uint64_t ip_ = 0;
  std::vector<uint8_t> original_;  // the bytes the patch replaced
  std::vector<uint8_t> patch_;     // the bytes arm() writes
  std::vector<uint64_t> pages_;    // the page pairs mapped: the stub's, then one per routed entry
  uint64_t trap_ = 0;              // the int3 of the match path
  uint64_t count_trap_ = 0;        // the int3 of Condition::trap_at_pass, 0: none
  uint64_t counter_ = 0;           // address of the countdown (Condition::count), 0: none
  uint64_t count_start_ = 0;       // its first value
  std::vector<uint64_t> interior_; // displaced instruction starts inside the patch, except ip and the routed
  std::map<uint64_t, Undo> undo_;
  bool patched_ = false, mapped_ = false;
};

}  // namespace rrx::replay
