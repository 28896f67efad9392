// Traced calls that complete at their seccomp stop while recording: one
// ptrace stop instead of two (used by recorder.cpp).
//
// A traced call costs an entry (seccomp) stop and an exit stop. For most of
// the calls the recorder cannot buffer in-process, above all the dynamic
// loader's (mmap, mprotect, close, munmap... ~40 per exec, before the
// preload library exists), the exit stop reads the result and nothing
// else: no memory the kernel wrote, no bytes sent, no signal state. For
// those, at the seccomp stop, the recorder points the thread's rip at a
// return stub and lets the call run with no exit stop: the kernel returns
// into the stub (by iret, leaving rcx the program's return address and r11
// its flags, as a sysret would), which stores rax into the process's
// *return slot* and jumps to the program's return address:
//
//     movabs %rax, SLOT      (48 a3 imm64: no register or flag changed)
//     jmp    *%rcx
//
// The recorder takes the result from the slot at the thread's next stop,
// whatever that is (its next call's seccomp stop, a signal, a preemption),
// before anything else of that stop, and writes the call's event then: the
// recorder runs one thread at a time, so no event of another thread can come
// between (see Recorder::complete_at_next_stop). A stop inside the stub (a
// signal that was pending when the call returned) finds the result still in
// rax; the recorder then does the stub's work itself (rip = rcx), so the
// signal is delivered at the syscall's return address, as after an exit stop.
//
// The slot lives in one private anonymous page the recorder maps into each
// process at its exec's exit stop (an injected mmap, beside the library's
// rrx page at 0x70000000, so that the program's maps lie where they would
// without it; a fork's copy has it at the same address); the stub in the
// spare bytes past the vDSO's ELF image, where replay puts its own return
// stubs (core/vdso.h). Neither is in the trace: replay maps recorded calls
// at their recorded addresses and never needs the page. (A call whose range
// spans the page and fails on a hole, mprotect or madvise, would succeed
// when recorded and fail on replay: the page is where programs do not map.)
// A call that could unmap, remap or protect the page or the vDSO loses them
// for the process (it goes back to exit stops), a buffered one too (seen at
// the flush that comes before any later use), one of a vfork child (which
// runs in its parent's memory until it execs) too; a fork's copy is checked
// (the page's cookie, the stub) before its first use.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <signal.h>

namespace rrx {
class Task;
namespace sys {
struct SyscallDesc;
}
}  // namespace rrx

namespace rrx::record {

// Whether a call may complete at its seccomp stop by its row: the recorder
// needs nothing at its exit but the result. Not a call that writes memory,
// sends bytes, may block (others would run user code while its thread is
// still in the kernel), changes signal state or a file, nor a special one
// but mmap; an mmap only when private (a shared map makes a shared object).
// A call that makes memory executable only when `code_ok`: no rdtsc site of
// the new code has to be patched before it runs (rdtsc traps; the rdrand
// search of a mapped file is made at the next stop). (The recorder adds what
// depends on the thread:
// with a buffer, not a call that raises the library's fd epoch, nor one
// whose site is to be patched at its exit.)
bool completes_at_seccomp_stop(const sys::SyscallDesc& desc, const uint64_t args[6], bool code_ok);

// The stub's code for a slot at `slot`.
std::string return_slot_stub(uint64_t slot);
inline constexpr size_t kReturnSlotStubBytes = 12;

class ReturnSlots {
 public:
  struct Place {
    uint64_t stub = 0;  // the return stub's address (in the vDSO)
    uint64_t slot = 0;  // where it stores rax
    // Whether `ip` lies in the stub (the thread has not passed it yet).
    bool in_stub(uint64_t ip) const { return ip >= stub && ip < stub + kReturnSlotStubBytes; }
  };

  // At an exec's exit stop of thread `t` of process `tgid`: maps the page
  // (a remote mmap from `scratch`, an executable address), writes the stub
  // past the vDSO at `vdso_base`. Nothing (the process goes with exit
  // stops) when either cannot be done. Signals that arrive meanwhile are
  // appended to `arrived`.
  // `seccomp_traced`: rrx's filter traces the injected mmap (remote_syscall).
  void on_exec(Task& t, pid_t tgid, uint64_t vdso_base, uint64_t scratch, std::vector<siginfo_t>* arrived,
               bool seccomp_traced = false);
  // A new process `child` whose memory is a copy of `parent`'s (fork): its
  // page is at the same address; or the same memory (vfork, CLONE_VM):
  // `child` stands for `parent` here (its mapping calls reach the parent's
  // page) until it execs.
  void on_fork(pid_t parent, pid_t child, bool same_memory);
  // An exec of `tgid` (a new address space), or its end.
  void forget(pid_t tgid);

  // A mapping call (kMapsMemory) of process `tgid`, traced and about to
  // run, or buffered and seen at a flush (before any later use): when it
  // could unmap, remap or protect the page or the stub, they are lost.
  void on_mapping_call(pid_t tgid, int64_t nr, const uint64_t args[6]);
  // The page or the stub turned out to be gone (a fault in the stub).
  void lose(pid_t tgid);

  // The place for a call of thread `t` of process `tgid`, checked when
  // needed; nullopt when the process has none.
  std::optional<Place> usable(Task& t, pid_t tgid);

 private:
  struct Proc {
    Place place;
    uint64_t page = 0;
    uint64_t vdso = 0;
    uint64_t cookie = 0;
    bool checked = true;
  };
  bool check(Task& t, const Proc& p) const;
  // The process whose memory `tgid` runs in.
  pid_t owner(pid_t tgid) const {
    auto it = shared_with_.find(tgid);
    return it == shared_with_.end() ? tgid : it->second;
  }
  std::map<pid_t, Proc> procs_;
  std::map<pid_t, pid_t> shared_with_;  // a vfork child -> the process whose memory it runs in
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace rrx::record
