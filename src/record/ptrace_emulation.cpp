// Emulated ptrace (ptrace_emulation.h): the requests of a tracer inside the
// recorded tree, answered from rrx's own view of the tracees, which rrx
// traces for real; and the wait statuses those tracees report to it.
#include "record/ptrace_emulation.h"

#include <elf.h>
#include <linux/audit.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/proc_status_file.h"
#include "core/ptrace_task.h"

namespace rrx::record {

namespace {

constexpr long kInterrupt = 0x4207, kListen = 0x4208, kSeize = 0x4206;
constexpr long kGetSigmask = 0x420a, kSetSigmask = 0x420b;
constexpr long kSysemu = 31, kSysemuSinglestep = 32;
constexpr uint64_t kValidOptions = 0x3000ff;  // PTRACE_O_MASK
constexpr int kEventStop = 128;               // PTRACE_EVENT_STOP

int stop_status(int sig, int event = 0) { return (event << 16) | (sig << 8) | 0x7f; }

// The siginfo of a PTRACE_EVENT_STOP (ptrace_do_notify): signal `sig`, the
// stop's status in si_code, the tracee's own pid and uid.
siginfo_t event_stop_info(pid_t tid, int sig) {
  siginfo_t si{};
  si.si_signo = sig;
  si.si_code = sig | (kEventStop << 8);
  si.si_pid = tid;
  si.si_uid = ::getuid();
  return si;
}

siginfo_t trap_info(int code) {
  siginfo_t si{};
  si.si_signo = SIGTRAP;
  si.si_code = code;
  return si;
}

// The parent process of `tid` (its thread group's), from /proc.
pid_t parent_process(pid_t tid) {
  return static_cast<pid_t>(ProcStatusFile::of(tid).int_field("PPid").value_or(0));
}

}  // namespace

bool PtraceEmulation::holds(pid_t tid) const {
  auto it = tracees_.find(tid);
  return it != tracees_.end() && it->second.stopped;
}

bool PtraceEmulation::wants_syscall_stops(pid_t tid) const {
  auto it = tracees_.find(tid);
  return it != tracees_.end() && (it->second.syscall_stops || it->second.sysemu || it->second.single_step);
}

PtraceEmulation::Tracee* PtraceEmulation::tracee_of(pid_t caller, pid_t tid) {
  auto it = tracees_.find(tid);
  if (it == tracees_.end() || it->second.tracer != caller) return nullptr;
  return &it->second;
}

std::optional<user_regs_struct> PtraceEmulation::regs_of(pid_t tid) {
  user_regs_struct r{};
  if (::ptrace(PTRACE_GETREGS, tid, nullptr, &r) == 0) return r;
  return host_.regs_in_kernel(tid);  // running in the kernel: as it entered the call
}

bool PtraceEmulation::write(pid_t tid, uint64_t addr, const void* data, size_t len) {
  Task* t = host_.task(tid);
  return t != nullptr && addr != 0 && t->write_mem(addr, data, len);
}

void PtraceEmulation::stop(pid_t tid, Tracee& t, EmuStop kind, int status, const siginfo_t* si, StopPoint at,
                           bool synchronous) {
  t.stopped = true;
  t.kind = kind;
  t.status = status;
  t.reported = false;
  t.synchronous = synchronous;
  t.si = si ? *si : trap_info((status >> 8) & 0xffff);
  if (!si && ((status >> 8) & 0xff) == SIGSTOP) {
    t.si.si_signo = SIGSTOP;
    t.si.si_code = SI_USER;
  }
  t.no_siginfo = false;
  t.listening = false;
  t.group_event = false;
  t.interrupting = false;  // (any stop takes the place of a pending PTRACE_INTERRUPT's)
  t.regs_before.reset();
  t.xstate_written = false;
  t.sigmask.reset();
  host_.note_stop(tid, at, t.si, synchronous);
  host_.notify_tracer(t.tracer, tid, status);
  wake_waiters(t.tracer_process);
  host_.wake_real_waits(t.tracer_process);
}

int64_t PtraceEmulation::attach(pid_t caller, pid_t pid, bool seize, uint64_t options) {
  if (seize && (options & ~kValidOptions)) return -EINVAL;
  if (!host_.task(pid)) return host_.process_of(pid) == 0 && ::kill(pid, 0) != 0 ? -ESRCH : -EPERM;
  const pid_t tracer_process = host_.process_of(caller);
  if (host_.process_of(pid) == tracer_process || tracees_.count(pid)) return -EPERM;
  Tracee& t = tracees_[pid];
  t.tracer = caller;
  t.tracer_process = tracer_process;
  t.seized = seize;
  t.options = seize ? options : 0;
  // PTRACE_ATTACH sends the tracee SIGSTOP: its attach stop is that
  // signal's delivery stop (stop_for_signal), where the real task takes it:
  // at once for one waiting for the CPU, at the end of a call it is blocked
  // in (cut short: it restarts when the tracer lets it go without the signal).
  if (!seize) host_.send_attach_stop(pid);
  return 0;
}

int64_t PtraceEmulation::request(pid_t caller, const uint64_t args[6]) {
  const long req = static_cast<long>(args[0]);
  const auto pid = static_cast<pid_t>(args[1]);
  const uint64_t addr = args[2], data = args[3];
  switch (req) {
    case PTRACE_TRACEME: {
      if (tracees_.count(caller)) return -EPERM;
      pid_t parent = parent_process(caller);
      if (!host_.task(parent)) return -EPERM;  // a parent outside the recorded tree
      Tracee& t = tracees_[caller];
      t.tracer = parent;
      t.tracer_process = parent;
      return 0;
    }
    case PTRACE_ATTACH: return attach(caller, pid, false, 0);
    case kSeize: return attach(caller, pid, true, data);
    default: break;
  }
  Tracee* t = tracee_of(caller, pid);
  if (!t) return -ESRCH;
  Task* task = host_.task(pid);
  if (!task) return -ESRCH;
  if (req == kInterrupt) {
    if (!t->seized) return -EIO;
    // The stop comes with the real task's trap: at once for one that waits
    // for the CPU, at the end of a call it is blocked in (interrupted and
    // restarted as the kernel does), or, listening in its group-stop, with
    // the stop signal (stop_at_group_stop).
    if ((t->listening || !t->stopped) && !t->interrupting) {
      t->listening = false;
      t->interrupting = true;
      host_.interrupt(pid);
    }
    return 0;
  }
  if (req == PTRACE_KILL) {
    if (!t->stopped) return 0;
    return resume(*t, pid, PTRACE_CONT, SIGKILL);
  }
  if (!t->stopped) return -ESRCH;  // every other request needs the tracee in a stop
  switch (req) {
    case PTRACE_PEEKTEXT:
    case PTRACE_PEEKDATA: {
      uint64_t word = 0;
      if (task->read_mem(addr, &word, sizeof word) != sizeof word) return -EIO;
      return write(caller, data, &word, sizeof word) ? 0 : -EFAULT;
    }
    case PTRACE_PEEKUSER: {
      if ((addr & 7) || addr >= sizeof(struct user)) return -EIO;
      uint64_t word = 0;
      const uint64_t dr0 = offsetof(struct user, u_debugreg);
      if (addr < sizeof(user_regs_struct)) {
        std::optional<user_regs_struct> r = regs_of(pid);
        if (!r) return -EIO;
        std::memcpy(&word, reinterpret_cast<const char*>(&*r) + addr, sizeof word);
      } else if (addr >= dr0 && addr < dr0 + sizeof t->debugreg) {
        word = t->debugreg[(addr - dr0) / 8];
      }
      return write(caller, data, &word, sizeof word) ? 0 : -EFAULT;
    }
    case PTRACE_POKETEXT:
    case PTRACE_POKEDATA:
      return task->write_mem(addr, &data, sizeof data) ? 0 : -EIO;
    case PTRACE_GETREGS: {
      std::optional<user_regs_struct> r = regs_of(pid);
      if (!r) return -EIO;
      return write(caller, data, &*r, sizeof *r) ? 0 : -EFAULT;
    }
    case PTRACE_GETFPREGS: {
      user_fpregs_struct fp{};
      if (::ptrace(PTRACE_GETFPREGS, pid, nullptr, &fp) != 0) {
        fp.cwd = 0x37f;  // in the kernel: the state of a fresh task
        fp.mxcsr = 0x1f80;
      }
      return write(caller, data, &fp, sizeof fp) ? 0 : -EFAULT;
    }
    case PTRACE_GETREGSET: {
      struct iovec iov {};
      Task* me = host_.task(caller);
      if (!me || !me->read_exact(data, &iov, sizeof iov)) return -EFAULT;
      std::string buf;
      if (addr == NT_PRSTATUS) {
        std::optional<user_regs_struct> r = regs_of(pid);
        if (!r) return -EIO;
        buf.assign(reinterpret_cast<const char*>(&*r), sizeof *r);
      } else {
        buf.resize(std::min<size_t>(iov.iov_len, 1u << 16));
        struct iovec real {buf.data(), buf.size()};
        if (::ptrace(PTRACE_GETREGSET, pid, addr, &real) != 0) return errno == ESRCH ? -EIO : -errno;
        buf.resize(real.iov_len);
      }
      size_t n = std::min(buf.size(), iov.iov_len);
      if (!write(caller, reinterpret_cast<uint64_t>(iov.iov_base), buf.data(), n)) return -EFAULT;
      iov.iov_len = n;
      return write(caller, data + offsetof(struct iovec, iov_len), &iov.iov_len, sizeof iov.iov_len) ? 0 : -EFAULT;
    }
    case PTRACE_GETSIGINFO:
      if (t->no_siginfo) return -EINVAL;
      return write(caller, data, &t->si, sizeof t->si) ? 0 : -EFAULT;
    case PTRACE_SETSIGINFO: {
      if (t->no_siginfo) return -EINVAL;
      Task* me = host_.task(caller);
      siginfo_t si{};
      if (!me || !me->read_exact(data, &si, sizeof si)) return -EFAULT;
      t->si = si;
      return 0;
    }
    case PTRACE_GETEVENTMSG:
      return write(caller, data, &t->event_msg, sizeof t->event_msg) ? 0 : -EFAULT;
    case PTRACE_SETOPTIONS:
      if (data & ~kValidOptions) return -EINVAL;
      t->options = data;
      return 0;
    case kPtraceGetSyscallInfo: {
      KernelSyscallInfo info{};
      size_t size = 24;  // op NONE: up to the union
      // (A syscall stop is one for PTRACE_GET_SYSCALL_INFO only with the
      // SIGTRAP|0x80 of PTRACE_O_TRACESYSGOOD.)
      bool real = (t->options & PTRACE_O_TRACESYSGOOD) &&
                  (t->kind == EmuStop::SyscallEntry || (t->kind == EmuStop::SyscallExit && t->in_syscall_stop));
      if (real && ::ptrace(static_cast<__ptrace_request>(kPtraceGetSyscallInfo), pid, sizeof info, &info) > 0) {
        size = info.op == KernelSyscallInfo::kEntry  ? offsetof(KernelSyscallInfo, entry.args) + 48
               : info.op == KernelSyscallInfo::kExit ? offsetof(KernelSyscallInfo, exit.is_error) + 1
                                                     : size;
      } else {
        std::optional<user_regs_struct> r = regs_of(pid);
        info = KernelSyscallInfo{};
        info.arch = AUDIT_ARCH_X86_64;
        if (r) {
          info.instruction_pointer = r->rip;
          info.stack_pointer = r->rsp;
        }
      }
      size_t n = std::min<size_t>(size, addr);
      if (n > 0 && !write(caller, data, &info, n)) return -EFAULT;
      return static_cast<int64_t>(size);
    }
    case kGetSigmask: {
      if (addr != 8) return -EINVAL;
      uint64_t mask = 0;
      if (::ptrace(static_cast<__ptrace_request>(kGetSigmask), pid, 8, &mask) != 0) return -EIO;
      return write(caller, data, &mask, sizeof mask) ? 0 : -EFAULT;
    }
    case PTRACE_CONT:
    case PTRACE_SYSCALL:
    case PTRACE_SINGLESTEP:
    case PTRACE_DETACH:
      return resume(*t, pid, req, data);
    case kSysemu:
    case kSysemuSinglestep:
      return resume(*t, pid, req, data);
    case PTRACE_SETREGS: {
      user_regs_struct r{};
      Task* me = host_.task(caller);
      if (!me || !me->read_exact(data, &r, sizeof r)) return -EFAULT;
      return set_regs(caller, *t, pid, r);
    }
    case PTRACE_POKEUSER:
      return poke_user(caller, *t, pid, addr, data);
    case PTRACE_SETFPREGS: {
      user_fpregs_struct fp{};
      Task* me = host_.task(caller);
      if (!me || !me->read_exact(data, &fp, sizeof fp)) return -EFAULT;
      if (int64_t err = check_writable(caller, *t, "PTRACE_SETFPREGS")) return err;
      if (::ptrace(PTRACE_SETFPREGS, pid, nullptr, &fp) != 0) return errno == ESRCH ? -EIO : -errno;
      t->xstate_written = true;
      return 0;
    }
    case PTRACE_SETREGSET:
      return set_regset(caller, *t, pid, addr, data);
    case kPtraceSetSyscallInfo:
      return set_syscall_info(caller, *t, pid, addr, data);
    case kSetSigmask: {
      if (addr != 8) return -EINVAL;
      uint64_t mask = 0;
      Task* me = host_.task(caller);
      if (!me || !me->read_exact(data, &mask, sizeof mask)) return -EFAULT;
      if (int64_t err = check_writable(caller, *t, "PTRACE_SETSIGMASK")) return err;
      mask &= ~((uint64_t{1} << (SIGKILL - 1)) | (uint64_t{1} << (SIGSTOP - 1)));  // as the kernel does
      if (::ptrace(static_cast<__ptrace_request>(kSetSigmask), pid, 8, &mask) != 0) return errno == ESRCH ? -EIO : -errno;
      t->sigmask = mask;
      return 0;
    }
    case kListen:
      // The kernel's rule: a seized tracee at a PTRACE_EVENT_STOP. It
      // leaves its ptrace-stop (requests fail with ESRCH, wait does not
      // report it again) but stays stopped until SIGCONT or another stop
      // signal wakes it, with a PTRACE_EVENT_STOP for the tracer.
      if (!t->seized || (t->status >> 16) != kEventStop) return -EIO;
      if (t->kind != EmuStop::GroupStop && !t->group_event) {
        // (Its real stop is not a trap rrx can listen in: an interrupt
        // stop, or a new task's first stop.)
        host_.warn_about(caller, "PTRACE_LISTEN outside a group-stop is not supported inside a recording; it "
                                 "failed with EIO");
        return -EIO;
      }
      t->stopped = false;
      t->listening = true;
      host_.listen(pid);
      return 0;
    default:
      return -EIO;
  }
}

// The tracee must stand in one of rrx's own stops at a point the replay
// finds again (PtraceEmulation::stop): not a new task's first stop, where
// it may still have a stop of rrx's own queued (its clone's return).
int64_t PtraceEmulation::check_writable(pid_t caller, const Tracee& t, const char* what) {
  if (t.kind != EmuStop::Held) return 0;
  host_.warn_about(caller, std::string(what) +
                               " at the first stop of a new traced task is not supported inside a recording; it "
                               "failed with EIO");
  return -EIO;
}

int64_t PtraceEmulation::set_regs(pid_t caller, Tracee& t, pid_t tid, const user_regs_struct& r) {
  if (int64_t err = check_writable(caller, t, "writing a tracee's registers")) return err;
  user_regs_struct before{};
  if (::ptrace(PTRACE_GETREGS, tid, nullptr, &before) != 0) return -EIO;
  // The kernel checks each field (segment selectors, fs_base...): the real
  // call answers as it would.
  if (::ptrace(PTRACE_SETREGS, tid, nullptr, &r) != 0) return errno == ESRCH ? -EIO : -errno;
  if (!t.regs_before) t.regs_before = before;
  return 0;
}

int64_t PtraceEmulation::poke_user(pid_t caller, Tracee& t, pid_t tid, uint64_t offset, uint64_t word) {
  if ((offset & 7) || offset >= sizeof(struct user)) return -EIO;
  if (offset < sizeof(user_regs_struct)) {
    std::optional<user_regs_struct> r = regs_of(tid);
    if (!r) return -EIO;
    std::memcpy(reinterpret_cast<char*>(&*r) + offset, &word, sizeof word);
    return set_regs(caller, t, tid, *r);
  }
  const uint64_t dr0 = offsetof(struct user, u_debugreg);
  if (offset < dr0 || offset >= dr0 + sizeof t.debugreg) return 0;  // the kernel ignores the rest
  const size_t n = (offset - dr0) / 8;
  if (n == 4 || n == 5) return -EIO;
  // Debug registers: hardware breakpoints and watchpoints would trap where
  // the replay cannot place them. Addresses and a disabled DR7 are kept
  // (debuggers write them at each resume); enabling one is refused.
  if (n == 7 && (word & 0xff) != 0) {
    host_.warn_about(caller, "hardware breakpoints and watchpoints (debug register DR7) are not supported "
                             "inside a recording; the write failed with EIO");
    return -EIO;
  }
  t.debugreg[n] = word;
  return 0;
}

int64_t PtraceEmulation::set_regset(pid_t caller, Tracee& t, pid_t tid, uint64_t type, uint64_t iov_addr) {
  struct iovec iov {};
  Task* me = host_.task(caller);
  if (!me || !me->read_exact(iov_addr, &iov, sizeof iov)) return -EFAULT;
  if (type == NT_PRSTATUS) {
    // The kernel writes the first iov_len bytes (whole fields) over the current values.
    std::optional<user_regs_struct> r = regs_of(tid);
    if (!r) return -EIO;
    size_t n = std::min(iov.iov_len, sizeof *r) & ~size_t{7};
    if (n != 0 && !me->read_exact(reinterpret_cast<uint64_t>(iov.iov_base), &*r, n)) return -EFAULT;
    return set_regs(caller, t, tid, *r);
  }
  if (type != NT_PRFPREG && type != NT_X86_XSTATE) {
    host_.warn_about(caller, "PTRACE_SETREGSET of note type " + std::to_string(type) +
                                 " is not supported inside a recording; it failed with EIO");
    return -EIO;
  }
  if (int64_t err = check_writable(caller, t, "PTRACE_SETREGSET")) return err;
  std::string buf(std::min<size_t>(iov.iov_len, 1u << 16), '\0');
  if (!buf.empty() && !me->read_exact(reinterpret_cast<uint64_t>(iov.iov_base), buf.data(), buf.size())) return -EFAULT;
  struct iovec real {buf.data(), buf.size()};
  if (::ptrace(PTRACE_SETREGSET, tid, type, &real) != 0) return errno == ESRCH ? -EIO : -errno;
  t.xstate_written = true;
  return 0;
}

// PTRACE_SET_SYSCALL_INFO (Linux 6.16) at the tracee's syscall stop, as the
// kernel does it: the struct whole, flags and reserved 0, the op of the
// current stop; at an entry the number (-1: skip the call) and, unless -1,
// the arguments; at an exit the return value. Done with register writes.
int64_t PtraceEmulation::set_syscall_info(pid_t caller, Tracee& t, pid_t tid, uint64_t size, uint64_t addr) {
  KernelSyscallInfo info{};
  if (size < sizeof info) return -EINVAL;
  Task* me = host_.task(caller);
  if (!me || !me->read_exact(addr, &info, sizeof info)) return -EFAULT;
  if (info.flags != 0 || info.reserved != 0) return -EINVAL;
  const uint8_t op = !(t.options & PTRACE_O_TRACESYSGOOD)                  ? KernelSyscallInfo::kNone
                     : t.kind == EmuStop::SyscallEntry                       ? KernelSyscallInfo::kEntry
                     : t.kind == EmuStop::SyscallExit && t.in_syscall_stop ? KernelSyscallInfo::kExit
                                                                            : KernelSyscallInfo::kNone;
  if (info.op != op || op == KernelSyscallInfo::kNone) return -EINVAL;
  std::optional<user_regs_struct> r = regs_of(tid);
  if (!r) return -EIO;
  if (op == KernelSyscallInfo::kEntry) {
    if (static_cast<uint64_t>(static_cast<int64_t>(static_cast<int>(info.entry.nr))) != info.entry.nr) return -ERANGE;
    r->orig_rax = info.entry.nr;
    if (static_cast<int64_t>(info.entry.nr) != -1) {
      const uint64_t* a = info.entry.args;
      r->rdi = a[0];
      r->rsi = a[1];
      r->rdx = a[2];
      r->r10 = a[3];
      r->r8 = a[4];
      r->r9 = a[5];
    }
  } else {
    r->rax = static_cast<uint64_t>(info.exit.is_error ? static_cast<int64_t>(static_cast<int>(info.exit.rval))
                                                      : info.exit.rval);
  }
  return set_regs(caller, t, tid, *r);
}

int64_t PtraceEmulation::resume(Tracee& t, pid_t tid, int64_t request, uint64_t sig) {
  if (sig >= 65) return -EIO;
  t.stopped = false;
  if (request != PTRACE_DETACH) {
    t.syscall_stops = request == PTRACE_SYSCALL;
    t.sysemu = request == kSysemu || request == kSysemuSinglestep;
    t.single_step = request == PTRACE_SINGLESTEP || request == kSysemuSinglestep;
  } else {
    t.syscall_stops = t.sysemu = t.single_step = false;
  }
  if (t.then_status != 0 && request != PTRACE_DETACH && (!t.then_only_if_syscall || request == PTRACE_SYSCALL)) {
    // The stop that follows at once (an exec's syscall-exit stop, its SIGTRAP).
    // The tracee does not move between the two: what the tracer changed
    // at the first is still to be applied when it goes.
    int status = t.then_status;
    t.then_status = 0;
    auto regs_before = t.regs_before;
    auto xstate_written = t.xstate_written;
    auto sigmask = t.sigmask;
    stop(tid, t, EmuStop::SyscallExit, status);
    t.regs_before = regs_before;
    t.xstate_written = xstate_written;
    t.sigmask = sigmask;
    t.in_syscall_stop = ((status >> 8) & 0x7f) == SIGTRAP && ((status >> 8) & 0x80);
    return 0;
  }
  t.then_status = 0;
  // The kernel ignores the signal given at an event stop (PTRACE_EVENT_*,
  // PTRACE_EVENT_STOP included) and at a group-stop: only PTRACE_KILL's
  // SIGKILL gets through.
  if ((t.kind == EmuStop::GroupStop || (t.status >> 16) != 0) && sig != SIGKILL) sig = 0;
  t.group_event = false;
  EmuRelease how;
  how.stop = t.kind;
  how.detach = request == PTRACE_DETACH;
  how.sig = static_cast<int>(sig);
  how.si = t.si;
  how.si.si_signo = how.sig;
  how.synchronous = t.synchronous;
  how.single_step = t.single_step;
  how.skip_syscall = t.kind == EmuStop::SyscallEntry && t.entry_sysemu;
  how.regs_before = t.regs_before;
  how.xstate_written = t.xstate_written;
  how.sigmask = t.sigmask;
  t.regs_before.reset();
  t.xstate_written = false;
  t.sigmask.reset();
  t.entry_sysemu = false;
  if (how.sig != 0 && how.sig != SIGKILL && t.kind != EmuStop::Signal) t.pass_signal = how.sig;
  if (request == PTRACE_DETACH) tracees_.erase(tid);
  host_.release(tid, how);
  return 0;
}

bool PtraceEmulation::stop_at_syscall_entry(pid_t tid) {
  auto it = tracees_.find(tid);
  if (it == tracees_.end()) return false;
  Tracee& t = it->second;
  if (t.entry_reported) {  // released from its entry stop: rrx handles the call now
    t.entry_reported = false;
    return false;
  }
  if (!t.syscall_stops && !t.sysemu) return false;
  t.entry_reported = true;
  t.entry_sysemu = t.sysemu;  // (the kernel decides the skip by the mode the call entered with)
  stop(tid, t, EmuStop::SyscallEntry, stop_status(SIGTRAP | ((t.options & PTRACE_O_TRACESYSGOOD) ? 0x80 : 0)),
       nullptr, StopPoint::SyscallEntry);
  return true;
}

bool PtraceEmulation::stop_at_syscall_exit(pid_t tid) {
  auto it = tracees_.find(tid);
  if (it == tracees_.end()) return false;
  Tracee& t = it->second;
  if (t.single_step && !t.sysemu) {
    // A step over a syscall instruction ends after the call.
    t.single_step = false;
    siginfo_t si = trap_info(TRAP_TRACE);
    stop(tid, t, EmuStop::SyscallExit, stop_status(SIGTRAP), &si);
    t.in_syscall_stop = false;
    return true;
  }
  if (!t.syscall_stops) return false;
  stop(tid, t, EmuStop::SyscallExit, stop_status(SIGTRAP | ((t.options & PTRACE_O_TRACESYSGOOD) ? 0x80 : 0)));
  t.in_syscall_stop = true;
  return true;
}

bool PtraceEmulation::stop_for_signal(pid_t tid, const siginfo_t& si, bool synchronous) {
  auto it = tracees_.find(tid);
  if (it == tracees_.end() || si.si_signo == SIGKILL) return false;
  Tracee& t = it->second;
  if (t.pass_signal == si.si_signo) {  // injected by the tracer as it resumed the task
    t.pass_signal = 0;
    return false;
  }
  if (t.single_step && si.si_signo == SIGTRAP && si.si_code == TRAP_TRACE) {
    t.single_step = false;
    stop(tid, t, EmuStop::SyscallExit, stop_status(SIGTRAP), &si, StopPoint::Step, true);
    t.in_syscall_stop = false;
    return true;
  }
  stop(tid, t, EmuStop::Signal, stop_status(si.si_signo), &si, StopPoint::Signal, synchronous);
  t.in_syscall_stop = false;
  return true;
}

bool PtraceEmulation::stop_at_exec(pid_t tid, pid_t former) {
  auto it = tracees_.find(tid);
  if (it == tracees_.end()) return false;
  Tracee& t = it->second;
  const int sysgood = SIGTRAP | ((t.options & PTRACE_O_TRACESYSGOOD) ? 0x80 : 0);
  if (t.options & PTRACE_O_TRACEEXEC) {
    // The exec event stop; its syscall-exit stop follows for PTRACE_SYSCALL.
    stop(tid, t, EmuStop::SyscallExit, stop_status(SIGTRAP, PTRACE_EVENT_EXEC));
    t.event_msg = static_cast<uint64_t>(former);
    t.in_syscall_stop = false;
    t.then_status = stop_status(sysgood);
    t.then_only_if_syscall = true;
    return true;
  }
  if (t.seized) return t.syscall_stops && stop_at_syscall_exit(tid);
  // A SIGTRAP after the exec, after the syscall-exit stop if there is one.
  siginfo_t si{};
  si.si_signo = SIGTRAP;
  si.si_code = SI_USER;
  if (t.syscall_stops) {
    stop(tid, t, EmuStop::SyscallExit, stop_status(sysgood));
    t.in_syscall_stop = true;
    t.then_status = stop_status(SIGTRAP);
    t.then_only_if_syscall = false;
    return true;
  }
  stop(tid, t, EmuStop::SyscallExit, stop_status(SIGTRAP), &si);
  t.in_syscall_stop = false;
  return true;
}

bool PtraceEmulation::stop_at_group_stop(pid_t tid, int sig) {
  auto it = tracees_.find(tid);
  if (it == tracees_.end()) return false;
  Tracee& t = it->second;
  // do_jobctl_trap: a seized tracee reports PTRACE_EVENT_STOP (with a
  // siginfo the kernel makes), any other the plain stop signal, with none.
  const siginfo_t si = event_stop_info(tid, sig);
  stop(tid, t, EmuStop::GroupStop, t.seized ? stop_status(sig, kEventStop) : stop_status(sig), &si);
  t.no_siginfo = !t.seized;
  t.in_syscall_stop = false;
  return true;
}

bool PtraceEmulation::stop_at_interrupt(pid_t tid) {
  auto it = tracees_.find(tid);
  if (it == tracees_.end() || !it->second.interrupting) return false;
  Tracee& t = it->second;
  t.interrupting = false;
  trap_event_stop(tid, t);
  return true;
}

bool PtraceEmulation::stop_at_group_continue(pid_t tid) {
  auto it = tracees_.find(tid);
  if (it == tracees_.end() || !it->second.seized) return false;
  Tracee& t = it->second;
  // The group is no longer stopped: the event stop's signal is SIGTRAP.
  trap_event_stop(tid, t);
  t.group_event = true;
  return true;
}

// A PTRACE_EVENT_STOP with SIGTRAP (an interrupt, or the end of a
// group-stop), with the siginfo the kernel makes for it.
void PtraceEmulation::trap_event_stop(pid_t tid, Tracee& t) {
  const siginfo_t si = event_stop_info(tid, SIGTRAP);
  stop(tid, t, EmuStop::SyscallExit, stop_status(SIGTRAP, kEventStop), &si);
  t.in_syscall_stop = false;
}

bool PtraceEmulation::stop_at_exit(pid_t tid, uint64_t msg) {
  auto it = tracees_.find(tid);
  if (it == tracees_.end() || !(it->second.options & PTRACE_O_TRACEEXIT)) return false;
  stop(tid, it->second, EmuStop::SyscallExit, stop_status(SIGTRAP, PTRACE_EVENT_EXIT));
  it->second.event_msg = msg;
  it->second.in_syscall_stop = false;
  return true;
}

bool PtraceEmulation::stop_at_new_task(pid_t parent, pid_t child, int event, uint64_t flags) {
  auto it = tracees_.find(parent);
  if (it == tracees_.end()) return false;
  Tracee& t = it->second;
  const uint64_t option = event == PTRACE_EVENT_FORK    ? PTRACE_O_TRACEFORK
                          : event == PTRACE_EVENT_VFORK ? PTRACE_O_TRACEVFORK
                                                        : PTRACE_O_TRACECLONE;
  if (!(t.options & option) || (flags & CLONE_UNTRACED)) return false;
  // The child is traced from its first stop: SIGSTOP, or a seized task's event stop.
  Tracee& c = tracees_[child];
  c.tracer = t.tracer;
  c.tracer_process = t.tracer_process;
  c.seized = t.seized;
  c.options = t.options;
  const siginfo_t first = event_stop_info(child, SIGTRAP);
  stop(child, c, EmuStop::Held, c.seized ? stop_status(SIGTRAP, kEventStop) : stop_status(SIGSTOP),
       c.seized ? &first : nullptr);
  Tracee& p = tracees_[parent];  // (the map may have moved nothing; references stay valid in a std::map)
  stop(parent, p, EmuStop::SyscallExit, stop_status(SIGTRAP, event));
  p.event_msg = static_cast<uint64_t>(child);
  p.in_syscall_stop = false;
  return true;
}

void PtraceEmulation::on_death(pid_t tid, pid_t real_parent_process, int status) {
  waiters_.erase(tid);
  // A dead tracer: its tracees go on (or die with it: PTRACE_O_EXITKILL).
  std::vector<pid_t> orphans;
  for (auto& [tracee, t] : tracees_) {
    if (t.tracer == tid) orphans.push_back(tracee);
  }
  for (pid_t o : orphans) {
    Tracee t = tracees_[o];
    tracees_.erase(o);
    if (t.options & PTRACE_O_EXITKILL) {
      ::kill(o, SIGKILL);
    }
    if (t.stopped) {
      EmuRelease how;
      how.stop = t.kind;
      how.detach = true;
      how.si = t.si;
      how.si.si_signo = 0;
      how.synchronous = t.synchronous;
      how.regs_before = t.regs_before;
      how.xstate_written = t.xstate_written;
      how.sigmask = t.sigmask;
      host_.release(o, how);
    }
  }
  auto it = tracees_.find(tid);
  pid_t tracer_process = 0;
  if (it != tracees_.end()) {
    tracer_process = it->second.tracer_process;
    const pid_t it_tracer = it->second.tracer;
    tracees_.erase(it);
    if (tracer_process != real_parent_process) {
      // The kernel tells a tracer of any thread of its death.
      exits_.emplace(tracer_process, std::make_pair(tid, status));
      host_.notify_tracer(it_tracer, tid, status);
      wake_waiters(tracer_process);
      host_.wake_real_waits(tracer_process);
    }
  }
  if (real_parent_process != 0) {
    // A held wait of its parent runs in the kernel, which reports the death.
    bool waiting = false;
    std::vector<pid_t> to_run;
    for (const auto& [w, _] : waiters_) {
      if (host_.process_of(w) == real_parent_process) to_run.push_back(w);
    }
    for (pid_t w : to_run) {
      waiters_.erase(w);
      host_.run_wait_for_real(w);
      waiting = true;
    }
    if (!waiting) ++child_deaths_[real_parent_process];
  }
}

bool PtraceEmulation::matches(pid_t tracer_process, const Waiter& w, pid_t tid) const {
  (void)tracer_process;
  if (w.nr == SYS_wait4) {
    auto pid = static_cast<pid_t>(w.args[0]);
    return pid <= 0 ? true : pid == tid;  // (process groups: any)
  }
  switch (static_cast<idtype_t>(w.args[0])) {
    case P_ALL: return true;
    case P_PID: return static_cast<pid_t>(w.args[1]) == tid;
    case P_PGID: return true;
    default: return false;
  }
}

std::optional<int64_t> PtraceEmulation::try_answer(pid_t caller, const Waiter& w) {
  const pid_t process = host_.process_of(caller);
  const bool waitid = w.nr != SYS_wait4;
  const uint64_t options = waitid ? w.args[3] : w.args[2];
  const bool consume = !(waitid && (options & WNOWAIT));
  pid_t who = 0;
  int status = 0;
  bool exited = false;
  for (auto it = exits_.lower_bound(process); it != exits_.end() && it->first == process; ++it) {
    if (matches(process, w, it->second.first)) {
      who = it->second.first;
      status = it->second.second;
      exited = true;
      if (consume) exits_.erase(it);
      break;
    }
  }
  if (!who) {
    for (auto& [tid, t] : tracees_) {
      if (t.tracer_process == process && t.stopped && !t.reported && matches(process, w, tid)) {
        who = tid;
        status = t.status;
        if (consume) t.reported = true;
        break;
      }
    }
  }
  if (!who) return std::nullopt;
  if (!waitid) {
    if (w.args[1] && !write(caller, w.args[1], &status, sizeof status)) return -EFAULT;
    struct rusage ru {};
    if (w.args[3] && !write(caller, w.args[3], &ru, sizeof ru)) return -EFAULT;
    return who;
  }
  siginfo_t si{};
  si.si_signo = SIGCHLD;
  si.si_pid = who;
  si.si_uid = ::getuid();
  if (exited) {
    si.si_code = WIFEXITED(status) ? CLD_EXITED : WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED;
    si.si_status = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
  } else {
    si.si_code = CLD_TRAPPED;
    si.si_status = (status >> 8) & 0xffff;
  }
  if (w.args[2] && !write(caller, w.args[2], &si, sizeof si)) return -EFAULT;
  struct rusage ru {};
  if (w.args[4] && !write(caller, w.args[4], &ru, sizeof ru)) return -EFAULT;
  return 0;
}

PtraceEmulation::Wait PtraceEmulation::wait_at_entry(pid_t caller, int64_t nr, const uint64_t args[6], int64_t* ret) {
  const pid_t process = host_.process_of(caller);
  Waiter w{nr, {}};
  std::memcpy(w.args, args, sizeof w.args);
  bool mine = exits_.count(process) != 0;
  for (const auto& [tid, t] : tracees_) {
    if (t.tracer_process == process && matches(process, w, tid)) mine = true;
  }
  // A real child died since the last wait that went to the kernel: the
  // kernel has its status to report first.
  const bool child_died = child_deaths_.erase(process) != 0;
  if (!mine || child_died) return Wait::Real;
  if (std::optional<int64_t> r = try_answer(caller, w)) {
    *ret = *r;
    return Wait::Answered;
  }
  const uint64_t options = nr == SYS_wait4 ? args[2] : args[3];
  if (options & WNOHANG) return Wait::Real;
  waiters_[caller] = w;
  return Wait::Block;
}

void PtraceEmulation::wake_waiters(pid_t tracer_process) {
  std::vector<pid_t> ws;
  for (const auto& [w, _] : waiters_) {
    if (host_.process_of(w) == tracer_process) ws.push_back(w);
  }
  for (pid_t w : ws) {
    auto it = waiters_.find(w);
    if (it == waiters_.end()) continue;
    if (std::optional<int64_t> r = try_answer(w, it->second)) {
      waiters_.erase(it);
      host_.answer_wait(w, *r);
    }
  }
}

}  // namespace rrx::record
