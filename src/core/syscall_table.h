// The x86-64 syscall table: one row per syscall, shared by the recorder, the
// replayer and `rrx dump`. A row says how each argument is shown and checked,
// which memory the kernel writes (so the recorder saves it and the replayer
// writes it back), and what replay does with the call.
#pragma once

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rrx::sys {

// What replay does with a recorded syscall.
enum class Replay : uint8_t {
  Emulate,        // skipped; the recorded result and memory writes are injected
  Execute,        // run for real (shapes the address space or kernel state); result must match
  ExecuteInject,  // run for real, then the recorded result replaces the live one (e.g. set_tid_address returns a tid)
  Unsupported,    // refused with ENOSYS while recording, with a warning in the trace
};

// How an argument is decoded for display, and whether replay compares it.
enum class Arg : uint8_t {
  None,        // the syscall has fewer arguments
  Int,         // signed decimal
  UInt,        // unsigned decimal
  Hex,         // unsigned hex
  Ptr,         // an input pointer: shown as hex, compared
  OutPtr,      // pointer the kernel writes through: shown decoded from the recorded bytes where known
  Fd,          // file descriptor
  DirFd,       // fd or AT_FDCWD
  Path,        // NUL-terminated path, captured at entry and compared
  Str,         // NUL-terminated string (names), captured at entry and compared
  Size,        // a byte count
  OpenFlags,   // O_RDONLY|O_CLOEXEC...
  Mode,        // octal mode
  AtFlags,     // AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH...
  AccessMode,  // F_OK/R_OK|W_OK|X_OK
  ProtFlags,   // PROT_READ|PROT_WRITE...
  MapFlags,    // MAP_PRIVATE|MAP_ANONYMOUS...
  Signal,      // SIGINT...
  SigHow,      // SIG_BLOCK...
  Whence,      // SEEK_SET...
  ClockId,     // CLOCK_REALTIME...
  FutexOp,     // FUTEX_WAIT_PRIVATE...
  Madvise,     // MADV_DONTNEED...
  FcntlCmd,    // F_GETFL...
  IoctlReq,    // TCGETS...
  PrctlOption, // PR_SET_NAME...
  ArchPrctl,   // ARCH_SET_FS...
  SockFamily,  // AF_UNIX...
  SockType,    // SOCK_STREAM|SOCK_CLOEXEC...
  CloneFlags,  // CLONE_VM|...
  WaitOptions, // WNOHANG...
  Ignored,     // not compared on replay (kernel-ignored or legitimately different)
};

// Where the size of an output memory range comes from.
enum class SizeFrom : uint8_t {
  None,
  Fixed,      // `n` bytes
  Arg,        // the value of argument `n`
  Ret,        // the return value (when the call succeeded); when `n` > 0, capped at argument `n`
              // (recvfrom with MSG_TRUNC returns more than it wrote)
  ArgTimes,   // argument `n` times `elem` bytes (poll: nfds * sizeof(struct pollfd))
  RetTimes,   // return value times `elem` bytes (epoll_wait); when `n` > 0, the count is capped at argument `n`
  ArgPtrU32,  // the u32 that argument `n` points to, read at exit (socklen_t in/out); capped at `elem` when non-zero
              // (the kernel writes back the full address length even when it truncated the copy)
  Iovec,      // iovec array at the pointer argument, count in argument `n`; filled up to the return value
  Msghdr,     // struct msghdr at the pointer argument (recvmsg): name, iov up to ret, control
};

struct OutMem {
  int8_t arg = -1;  // index of the pointer argument, -1 for none
  SizeFrom size = SizeFrom::None;
  uint32_t n = 0;
  uint32_t elem = 0;
};

// What a call sends from the program's memory to the file descriptor in
// argument 0 (write, writev, sendmsg...): the bytes the recorder checksums
// and replay compares (core/output_digest.h), and re-emits when the fd was
// rrx's own stdout or stderr. Counted up to the return value: what the
// kernel took. (vmsplice moves data either way and is not described.)
enum class Sends : uint8_t {
  None,
  Buf,      // argument `arg` points to the bytes, argument `n` is their count (write, pwrite64, sendto)
  Iovec,    // argument `arg` points to an iovec array, argument `n` its length (writev, pwritev, pwritev2)
  Msghdr,   // argument `arg` points to a struct msghdr whose iovecs hold the bytes (sendmsg)
  Mmsghdr,  // argument `arg` points to an array of struct mmsghdr, argument `n` its length; the return
            // value counts messages, each sent up to its msg_len (sendmmsg)
};

struct SendsFrom {
  int8_t arg = -1;  // index of the pointer argument
  Sends shape = Sends::None;
  uint8_t n = 0;    // index of the count argument (Buf, Iovec, Mmsghdr)
};

// How a call changes a file's bytes or size through a file descriptor, so the
// recorder can capture the change when the file is a shared object (mapped
// MAP_SHARED by a recorded process: replay applies it to its copy of the
// object, which the skipped call cannot do). The rule for byte writes: the
// written bytes end where the file position, or the offset the call was
// given, stands after the call, and there are `ret` of them.
enum class FileChange : uint8_t {
  None,
  AtPosition,   // fd `fd`, at the file position: ends at the position after the call (write, writev, sendfile)
  AtOffset,     // fd `fd`, at the offset in argument `off` (pwrite64, pwritev; -1 in pwritev2 = the position)
  AtOffsetPtr,  // fd `fd`, at *argument `off` (updated by the call), or the position when it is NULL
                // (copy_file_range, splice)
  Resize,       // fd `fd`: the size becomes argument `off` (ftruncate)
  ResizePath,   // the file named by argument `fd` (a path): the size becomes argument `off` (truncate)
  Opened,       // the fd the call returns (open with O_TRUNC, creat): the size alone
  Allocate,     // fd `fd`: fallocate(fd, mode, offset, len): bytes in [offset, offset+len) may become zeros,
                // the size may grow
};

struct FileChangeFrom {
  FileChange kind = FileChange::None;
  int8_t fd = -1;   // argument index of the fd (or the path, ResizePath)
  int8_t off = -1;  // argument index of the offset, offset pointer or size
};

// The signal mask a call waits with (rt_sigsuspend, ppoll, pselect6,
// epoll_pwait): in effect only inside the call, the thread's own mask coming
// back when it returns, unless it was interrupted by a signal whose handler
// then starts from this mask (the recorder's ThreadSignals follows it).
struct TempSigmask {
  int8_t arg = -1;        // the argument that points to the sigset; -1: none
  bool indirect = false;  // it points to {const sigset_t* ss; size_t ss_len} (pselect6)
};

// Behaviour the recorder and replayer implement by hand, named in the row.
enum class Special : uint8_t {
  None,
  Mmap,        // file-backed maps: contents kept in files/; replay maps anonymous memory and fills it, or
               // its own memfd of a shared object (replay/shared_memory.h)
  ShmAttach,   // shmat: the SysV segment is a shared object; replay maps its memfd at the recorded address
  ShmDetach,   // shmdt: replay unmaps the segment's memfd mapping
  Execve,      // new program image: exec event, files kept, replay runs the copy
  Rseq,        // refused with ENOSYS while recording (the kernel writes into rseq areas asynchronously)
  Clone,       // clone/clone3/fork/vfork
  Exit,        // exit / exit_group
  Prctl,       // PR_GET_TSC / PR_SET_TSC answer the recorder's per-thread emulated TSC mode (rdtsc stays trapped)
  Ptrace,      // answered by the recorder's ptrace emulation (record/ptrace_emulation.h), never by the kernel
  Wait,        // wait4/waitid: a tracer inside the tree waits for its tracees' emulated stops
  Affinity,    // sched_setaffinity/sched_getaffinity of a thread of the tree: its own mask, while rrx binds the
               // tree to one CPU (record/cpu_affinity.h)
};

// Row flags.
enum : uint8_t {
  kMayBlock = 1u << 0,      // may wait for another thread/process or time (read on a pipe, futex, wait4...)
  kOutOnError = 1u << 1,    // outputs are written even when the call fails (Fixed/Arg/ArgTimes ranges and the
                            // OutputsFn are then taken on failure too; Ret-based sizes still need ret >= 0)
  kSetsSigmask = 1u << 2,   // the thread's blocked mask after the call differs from before (rt_sigprocmask,
                            // rt_sigreturn; not ppoll & co, whose temporary mask ends with the call)
  kSetsSigaction = 1u << 3, // installs the action `act` (argument 1) of signal argument 0 (rt_sigaction)
  kMapsMemory = 1u << 4,    // changes which bytes are mapped where (mmap, munmap, mremap, brk, shmat, execve...,
                            // mprotect and madvise too): a debugger's int3 bytes in that range may be gone, and
                            // breakpoints at addresses that were unmapped may go in now (replay/breakpoints.h)
  kBuffered = 1u << 5,      // recorded in-process by the preload library's syscall buffer when the fast path is on,
                            // when the row's BufferRule holds (core/syscallbuf_abi.h lists the same calls with the
                            // same rules and outputs); touches no state the recorder tracks but the signal state
                            // of kSetsSigaction / kSetsSigmask rows, which it applies from the records (their input
                            // column: core/syscallbuf_abi.h, "Signal state")
  kFdEpoch = 1u << 6,       // may give an fd number another file (close, dup2, vfork...): the recorder raises the
                            // library's fd epoch after it, so the library forgets what it knew of each fd
  kGivesWay = 1u << 7,      // asks the kernel to run other threads now (sched_yield): the recorder, which runs one
                            // thread at a time, switches to another waiting one at its exit
};

// When a kBuffered call is buffered (the values of core/syscallbuf_abi.h's
// enum rrx_buffer_when, RRX_BW_*): always, only where it cannot block (an fd
// read or write, an open), or only for some argument values (RRX_BW_ARG_IN:
// argument `arg`, as 32 bits, is one of `values`, e.g. fcntl's commands).
struct BufferRule {
  static constexpr size_t kMaxValues = 16;
  uint8_t when = 0;
  int8_t arg = -1;
  uint32_t mask = 0;
  uint32_t value = 0;
  std::array<uint32_t, kMaxValues> values{};
  uint8_t value_count = 0;
  uint8_t desched = 0;  // RRX_DS_*: also buffered where `when` says it could block, with the desched event armed
  // An input the record holds (core/syscallbuf_abi.h, "Signal state"): `in_len`
  // bytes at argument `in_arg` (rt_sigaction's act); in_len 0: none.
  int8_t in_arg = -1;
  uint16_t in_len = 0;
  // Whether `args` pass the rule's argument test (rules without one: yes).
  bool arg_test_holds(const uint64_t args[6]) const;
};

struct CallView {
  int64_t nr;
  uint64_t args[6];
  int64_t ret;  // raw rax at exit
};

struct Range {
  uint64_t addr;
  uint64_t len;
  // The process whose memory it is, as the caller named it (process_vm_writev's
  // pid, the P of a /proc/P/mem written to); 0: the caller's own memory.
  int32_t pid = 0;
  // `pid` is a process as the recorder names it (a write the recorder made
  // into another process at this call: its fd epoch, its buffer's flags),
  // not as the caller would: no translation from the caller's pid namespace.
  bool recorder_pid = false;

  bool operator==(const Range&) const = default;
};

// What a handler may ask about the calling tracee: its memory, for walks
// (iovec, msghdr, *socklen_t), and the few kernel facts an output's extent
// depends on. The defaults answer "unknown": the handler then records less.
class MemReader {
 public:
  virtual ~MemReader() = default;
  // Returns false on a fault.
  virtual bool read(uint64_t addr, void* buf, size_t len) = 0;
  // The number of semaphores in the SysV set `semid` (sem_nsems, fixed when
  // the set is made; SysV IPC is system-wide), or an upper bound of it where
  // the set cannot be asked about; nothing when unknown.
  virtual std::optional<uint64_t> semaphore_count(int /*semid*/) { return std::nullopt; }
  // The parts of [addr, addr + len) that are not private anonymous memory:
  // file or shared mappings, whose bytes MADV_DONTNEED makes the kernel read
  // again from their backing (replay maps files as anonymous memory).
  virtual std::vector<Range> backed_ranges(uint64_t /*addr*/, uint64_t /*len*/) { return {}; }
  // When the caller's fd `fd` is a /proc/P/mem file: P, and the file's
  // position now (where the next write goes).
  struct MemFile {
    int32_t pid;
    uint64_t pos;
  };
  virtual std::optional<MemFile> mem_file(int /*fd*/) { return std::nullopt; }
};

// Extra output ranges that depend on an argument's value (ioctl, fcntl, prctl...).
using OutputsFn = void (*)(const CallView& call, MemReader& mem, std::vector<Range>& out);

// The replay policy of a call whose effect depends on an argument, when the
// row's own policy is not the whole story (setrlimit: a stack limit shapes
// the address space, a CPU limit would only hurt the replay).
using ReplayFn = Replay (*)(const uint64_t args[6]);

// A call the recorder refuses, by argument, with the errno returned (0: not
// refused), quietly, because programs have a fallback that rrx can record
// (madvise MADV_FREE: the kernel frees the pages later, at a time rrx cannot
// see; EINVAL, what kernels before 4.5 answered, makes allocators use
// MADV_DONTNEED). Replay injects the recorded error.
using RefuseFn = int (*)(const uint64_t args[6]);

struct SyscallDesc {
  int nr;
  const char* name;
  Arg args[6];
  Replay replay;
  OutMem out[3];
  OutputsFn outputs = nullptr;
  SendsFrom sends{};
  Special special = Special::None;
  uint8_t flags = 0;
  ReplayFn replay_by_args = nullptr;  // when set, decides instead of `replay`
  FileChangeFrom changes_file{};
  TempSigmask temp_sigmask{};
  RefuseFn refuse_by_args = nullptr;  // when set and non-zero: refused while recording with that errno
  BufferRule buffered{};              // kBuffered rows: when the library buffers the call

  int arg_count() const;
  Replay replay_policy(const uint64_t call_args[6]) const {
    return replay_by_args ? replay_by_args(call_args) : replay;
  }
};

// The row for `nr`, or nullptr when the table has none (the recorder then
// refuses the call with ENOSYS).
const SyscallDesc* lookup(int64_t nr);
std::span<const SyscallDesc> table();

// The kernel's name for any x86-64 syscall number, with or without a row
// ("syscall_NNN" when unknown).
std::string syscall_name(int64_t nr);
// Number for a name, or -1.
int64_t syscall_number(std::string_view name);

// The kernel's name for an i386 syscall number (a 64-bit program's
// `int $0x80`, which takes the 32-bit table: 4 is write there, not stat),
// "syscall_NNN" when unknown.
std::string i386_syscall_name(int64_t nr);

// The memory ranges a completed call wrote, per its row. Empty ranges are
// dropped; each range is capped at kMaxOutputBytes. A range with a pid is in
// another process (or the caller's own, named by pid): the recorder stores
// its bytes as that process's memory effect.
inline constexpr uint64_t kMaxOutputBytes = 64u << 20;
std::vector<Range> output_ranges(const SyscallDesc& desc, const CallView& call, MemReader& mem);
// The same into `out` (cleared first; its capacity is reused).
void output_ranges(const SyscallDesc& desc, const CallView& call, MemReader& mem, std::vector<Range>& out);

// True when the call failed (rax in [-4095, -1]).
inline bool is_error_return(int64_t ret) { return ret < 0 && ret >= -4095; }

// -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK:
// results the kernel turns into a restart or EINTR before the program sees them.
inline bool is_restart_return(int64_t ret) { return ret == -512 || ret == -513 || ret == -514 || ret == -516; }
// A call a signal cut short: a restart code, or -EINTR.
inline bool is_interrupted_return(int64_t ret) { return is_restart_return(ret) || ret == -EINTR; }

}  // namespace rrx::sys
