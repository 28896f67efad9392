#include "core/ptrace_task.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/proc_status_file.h"
#include "core/syscall_format.h"

#ifndef PTRACE_SYSEMU
#define PTRACE_SYSEMU 31
#endif
#ifndef PTRACE_SYSEMU_SINGLESTEP
#define PTRACE_SYSEMU_SINGLESTEP 32
#endif

namespace rrx {

WaitStatus WaitStatus::decode(int status) {
  WaitStatus w{};
  if (WIFEXITED(status)) {
    w.kind = Kind::Exited;
    w.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    w.kind = Kind::Killed;
    w.sig = WTERMSIG(status);
    w.core_dumped = WCOREDUMP(status);
  } else if (WIFSTOPPED(status)) {
    int sig = WSTOPSIG(status);
    int event = (status >> 16) & 0xff;
    if (sig == (SIGTRAP | 0x80)) {
      w.kind = Kind::SyscallStop;
    } else if (event == PTRACE_EVENT_STOP) {
      w.kind = Kind::TrapStop;
      w.event = event;
      w.sig = sig;
    } else if (event != 0) {
      w.kind = Kind::EventStop;
      w.event = event;
      w.sig = sig;
    } else {
      w.kind = Kind::SignalStop;
      w.sig = sig;
    }
  } else {
    fatal("unexpected waitpid status " + std::to_string(status));
  }
  return w;
}

bool WaitStatus::is_stop_signal(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

std::string WaitStatus::describe() const {
  switch (kind) {
    case Kind::SyscallStop: return "syscall stop";
    case Kind::EventStop: return "ptrace event " + std::to_string(event);
    case Kind::TrapStop:
      return is_group_stop() ? "group-stop by " + signal_name(sig) : "ptrace trap stop (" + signal_name(sig) + ")";
    case Kind::SignalStop: return "signal " + signal_name(sig);
    case Kind::Exited: return "exit " + std::to_string(exit_code);
    case Kind::Killed: return "killed by " + signal_name(sig);
  }
  return "?";
}

Task::Task(pid_t tid) : tid_(tid) {}

Task::~Task() {
  if (mem_fd_ >= 0) ::close(mem_fd_);
}

static void do_ptrace(long request, pid_t tid, void* addr, void* data, const char* what) {
  if (::ptrace(static_cast<__ptrace_request>(request), tid, addr, data) == -1) {
    std::string message = std::string("ptrace(") + what + ") on thread " + std::to_string(tid);
    if (errno == ESRCH) throw TaskGone(tid, message + ": " + std::strerror(ESRCH));
    throw_errno(message);
  }
}

static void* sigarg(int sig) { return reinterpret_cast<void*>(static_cast<uintptr_t>(sig)); }

void Task::resume_syscall(int sig) {
  last_resume_ = PTRACE_SYSCALL;
  do_ptrace(PTRACE_SYSCALL, tid_, nullptr, sigarg(sig), "SYSCALL");
}
void Task::resume_cont(int sig) {
  last_resume_ = PTRACE_CONT;
  do_ptrace(PTRACE_CONT, tid_, nullptr, sigarg(sig), "CONT");
}
void Task::resume_sysemu(int sig) {
  last_resume_ = PTRACE_SYSEMU;
  do_ptrace(PTRACE_SYSEMU, tid_, nullptr, sigarg(sig), "SYSEMU");
}
void Task::resume_singlestep(int sig) {
  last_resume_ = PTRACE_SINGLESTEP;
  do_ptrace(PTRACE_SINGLESTEP, tid_, nullptr, sigarg(sig), "SINGLESTEP");
}
void Task::resume_sysemu_singlestep(int sig) {
  last_resume_ = PTRACE_SYSEMU_SINGLESTEP;
  do_ptrace(PTRACE_SYSEMU_SINGLESTEP, tid_, nullptr, sigarg(sig), "SYSEMU_SINGLESTEP");
}

void Task::listen() { do_ptrace(PTRACE_LISTEN, tid_, nullptr, nullptr, "LISTEN"); }
void Task::interrupt() { do_ptrace(PTRACE_INTERRUPT, tid_, nullptr, nullptr, "INTERRUPT"); }

SignalAction signal_action(pid_t tid, int sig) {
  if (sig < 1 || sig > 64) return SignalAction::Unknown;
  if (sig == SIGKILL) return SignalAction::Terminate;  // neither caught nor ignored
  if (sig == SIGSTOP) return SignalAction::Stop;
  ProcStatusFile status = ProcStatusFile::of(tid);
  std::optional<uint64_t> ignored = status.hex_field("SigIgn"), caught = status.hex_field("SigCgt");
  if (!ignored || !caught) return SignalAction::Unknown;
  uint64_t bit = uint64_t{1} << (sig - 1);
  if (*caught & bit) return SignalAction::Handler;
  if (*ignored & bit) return SignalAction::Ignore;
  return default_signal_action(sig);
}

SignalAction default_signal_action(int sig) {
  switch (sig) {
    case SIGCHLD: case SIGCONT: case SIGURG: case SIGWINCH: return SignalAction::Ignore;
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU: return SignalAction::Stop;
    default: return sig >= 1 && sig <= 64 ? SignalAction::Terminate : SignalAction::Unknown;
  }
}

bool signal_terminates(pid_t tid, int sig) {
  return default_signal_action(sig) == SignalAction::Terminate && signal_action(tid, sig) == SignalAction::Terminate;
}

bool seize(pid_t tid, long options) {
  return ::ptrace(PTRACE_SEIZE, tid, nullptr, reinterpret_cast<void*>(options)) == 0;
}

WaitStatus Task::wait() {
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(tid_, &status, __WALL);
    if (r == tid_) return WaitStatus::decode(status);
    if (r == -1 && errno == EINTR) continue;
    throw_errno("waitpid(" + std::to_string(tid_) + ")");
  }
}

user_regs_struct Task::regs() {
  user_regs_struct r{};
  do_ptrace(PTRACE_GETREGS, tid_, nullptr, &r, "GETREGS");
  return r;
}

void Task::set_regs(const user_regs_struct& r) {
  do_ptrace(PTRACE_SETREGS, tid_, nullptr, const_cast<user_regs_struct*>(&r), "SETREGS");
}

user_fpregs_struct Task::fpregs() {
  user_fpregs_struct r{};
  do_ptrace(PTRACE_GETFPREGS, tid_, nullptr, &r, "GETFPREGS");
  return r;
}

std::string Task::xstate() {
  alignas(64) static thread_local uint8_t buf[16384];
  struct iovec iov = {buf, sizeof buf};
  if (::ptrace(PTRACE_GETREGSET, tid_, reinterpret_cast<void*>(NT_X86_XSTATE), &iov) == -1) {
    // No XSAVE: the legacy FP/SSE area is the whole state.
    user_fpregs_struct f = fpregs();
    return std::string("F") + std::string(reinterpret_cast<const char*>(&f), sizeof f);
  }
  return std::string("X") + std::string(reinterpret_cast<const char*>(buf), iov.iov_len);
}

void Task::set_xstate(const std::string& state) {
  if (state.empty()) return;
  if (state[0] == 'F' && state.size() == 1 + sizeof(user_fpregs_struct)) {
    user_fpregs_struct f;
    std::memcpy(&f, state.data() + 1, sizeof f);
    do_ptrace(PTRACE_SETFPREGS, tid_, nullptr, &f, "SETFPREGS");
    return;
  }
  alignas(64) static thread_local uint8_t buf[16384];
  size_t len = std::min(state.size() - 1, sizeof buf);
  std::memcpy(buf, state.data() + 1, len);
  struct iovec iov = {buf, len};
  if (::ptrace(PTRACE_SETREGSET, tid_, reinterpret_cast<void*>(NT_X86_XSTATE), &iov) == -1) {
    throw_errno("ptrace(SETREGSET NT_X86_XSTATE) on thread " + std::to_string(tid_));
  }
}

bool Task::ymm_high(uint8_t out[16][16]) {
  alignas(64) uint8_t xsave[4096];
  struct iovec iov = {xsave, sizeof xsave};
  if (::ptrace(PTRACE_GETREGSET, tid_, reinterpret_cast<void*>(NT_X86_XSTATE), &iov) == -1) return false;
  // XSAVE header at 512: xstate_bv; the AVX state (YMM_Hi128) is component 2 at offset 576.
  if (iov.iov_len < 576 + 256) return false;
  uint64_t xstate_bv;
  std::memcpy(&xstate_bv, xsave + 512, 8);
  for (int i = 0; i < 16; ++i) {
    if (xstate_bv & 4) std::memcpy(out[i], xsave + 576 + 16 * i, 16);
    else std::memset(out[i], 0, 16);
  }
  return true;
}

KernelSyscallInfo Task::syscall_info() {
  KernelSyscallInfo info{};
  if (::ptrace(static_cast<__ptrace_request>(kPtraceGetSyscallInfo), tid_,
               reinterpret_cast<void*>(sizeof info), &info) == -1) {
    std::string message = "ptrace(GET_SYSCALL_INFO) on thread " + std::to_string(tid_);
    if (errno == ESRCH) throw TaskGone(tid_, message + ": " + std::strerror(ESRCH));
    throw_errno(message);
  }
  return info;
}

bool Task::set_syscall_info(const KernelSyscallInfo& info) {
  return ::ptrace(static_cast<__ptrace_request>(kPtraceSetSyscallInfo), tid_,
                  reinterpret_cast<void*>(sizeof info), const_cast<KernelSyscallInfo*>(&info)) != -1;
}

siginfo_t Task::siginfo() {
  siginfo_t si{};
  do_ptrace(PTRACE_GETSIGINFO, tid_, nullptr, &si, "GETSIGINFO");
  return si;
}

void Task::set_siginfo(const siginfo_t& si) {
  do_ptrace(PTRACE_SETSIGINFO, tid_, nullptr, const_cast<siginfo_t*>(&si), "SETSIGINFO");
}

uint64_t Task::blocked_signals() {
  uint64_t mask = 0;
  do_ptrace(PTRACE_GETSIGMASK, tid_, reinterpret_cast<void*>(sizeof mask), &mask, "GETSIGMASK");
  return mask;
}

void Task::set_blocked_signals(uint64_t mask) {
  do_ptrace(PTRACE_SETSIGMASK, tid_, reinterpret_cast<void*>(sizeof mask), &mask, "SETSIGMASK");
}

unsigned long Task::event_msg() {
  unsigned long msg = 0;
  do_ptrace(PTRACE_GETEVENTMSG, tid_, nullptr, &msg, "GETEVENTMSG");
  return msg;
}

void Task::set_options(long options) {
  do_ptrace(PTRACE_SETOPTIONS, tid_, nullptr, reinterpret_cast<void*>(options), "SETOPTIONS");
}

uint64_t Task::peek_user(size_t offset) {
  errno = 0;
  long v = ::ptrace(PTRACE_PEEKUSER, tid_, reinterpret_cast<void*>(offset), nullptr);
  if (v == -1 && errno == ESRCH) throw TaskGone(tid_, "ptrace(PEEKUSER) on thread " + std::to_string(tid_) + ": " + std::strerror(ESRCH));
  if (v == -1 && errno != 0) throw_errno("ptrace(PEEKUSER)");
  return static_cast<uint64_t>(v);
}

void Task::poke_user(size_t offset, uint64_t value) {
  do_ptrace(PTRACE_POKEUSER, tid_, reinterpret_cast<void*>(offset), reinterpret_cast<void*>(value),
            "POKEUSER");
}

void Task::open_mem() {
  if (mem_fd_ >= 0) return;
  std::string path = "/proc/" + std::to_string(tid_) + "/mem";
  mem_fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (mem_fd_ < 0) throw_errno("open " + path);
}

void Task::reopen_mem() {
  if (mem_fd_ >= 0) ::close(mem_fd_);
  mem_fd_ = -1;
  open_mem();
}

namespace {

// Large transfers go through process_vm_readv/writev first: one copy, where
// /proc/PID/mem copies through a bounce page. They honour the tracee's page
// protections (no FOLL_FORCE), so what they leave (a read-only page, say)
// goes on through /proc/PID/mem, which writes those as a debugger must.
constexpr size_t kVmCallMin = 4096;

size_t vm_transfer(pid_t tid, uint64_t addr, void* buf, size_t len, bool write) {
  size_t done = 0;
  while (done < len) {
    struct iovec local{static_cast<char*>(buf) + done, len - done};
    struct iovec remote{reinterpret_cast<void*>(addr + done), len - done};
    ssize_t n = write ? ::process_vm_writev(tid, &local, 1, &remote, 1, 0)
                      : ::process_vm_readv(tid, &local, 1, &remote, 1, 0);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      break;
    }
    done += static_cast<size_t>(n);
  }
  return done;
}

}  // namespace

size_t Task::read_mem(uint64_t addr, void* buf, size_t len) {
  open_mem();
  size_t done = 0;
  auto* p = static_cast<char*>(buf);
  if (len >= kVmCallMin) done = vm_transfer(tid_, addr, buf, len, false);
  while (done < len) {
    ssize_t n = ::pread64(mem_fd_, p + done, len - done, static_cast<off64_t>(addr + done));
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      break;
    }
    done += static_cast<size_t>(n);
  }
  return done;
}

bool Task::write_mem(uint64_t addr, const void* buf, size_t len) {
  open_mem();
  size_t done = 0;
  const auto* p = static_cast<const char*>(buf);
  if (len >= kVmCallMin) done = vm_transfer(tid_, addr, const_cast<char*>(p), len, true);
  while (done < len) {
    ssize_t n = ::pwrite64(mem_fd_, p + done, len - done, static_cast<off64_t>(addr + done));
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string Task::read_string(uint64_t addr, size_t max) {
  std::string out;
  char buf[256];
  while (out.size() < max) {
    // Read up to the end of the page so a string at a page's end doesn't fault.
    size_t page_left = 4096 - (addr & 4095);
    size_t want = std::min({sizeof buf, page_left, max - out.size()});
    size_t n = read_mem(addr, buf, want);
    if (n == 0) break;
    void* nul = std::memchr(buf, 0, n);
    if (nul) {
      out.append(buf, static_cast<size_t>(static_cast<char*>(nul) - buf));
      return out;
    }
    out.append(buf, n);
    addr += n;
    if (n < want) break;
  }
  return out;
}

void syscall_args_from_regs(const user_regs_struct& r, uint64_t a[6]) {
  a[0] = r.rdi;
  a[1] = r.rsi;
  a[2] = r.rdx;
  a[3] = r.r10;
  a[4] = r.r8;
  a[5] = r.r9;
}

void set_syscall_args_in_regs(user_regs_struct& r, const uint64_t a[6]) {
  r.rdi = a[0];
  r.rsi = a[1];
  r.rdx = a[2];
  r.r10 = a[3];
  r.r8 = a[4];
  r.r9 = a[5];
}

SpecialInsn special_instruction_at(Task& task, uint64_t ip, size_t* length) {
  uint8_t b[3] = {};
  size_t n = task.read_mem(ip, b, 3);
  if (n >= 2 && b[0] == 0x0f && b[1] == 0x31) {
    *length = 2;
    return SpecialInsn::Rdtsc;
  }
  if (n >= 3 && b[0] == 0x0f && b[1] == 0x01 && b[2] == 0xf9) {
    *length = 3;
    return SpecialInsn::Rdtscp;
  }
  if (n >= 2 && b[0] == 0x0f && b[1] == 0x05) {
    *length = 2;
    return SpecialInsn::Syscall;
  }
  *length = 0;
  return SpecialInsn::None;
}

std::string signal_name(int sig) { return sys::signal_name(sig); }

void kill_and_reap(pid_t tid) {
  ::kill(tid, SIGKILL);
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(tid, &status, __WALL);
    if (r < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) return;
    ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
  }
}

}  // namespace rrx
