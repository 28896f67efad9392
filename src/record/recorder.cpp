#include "record/recorder.h"


#include <capnp/message.h>
#include <fcntl.h>
#include <asm/prctl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <algorithm>
#include <chrono>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "core/cpuid_trap.h"
#include "core/elf_file.h"
#include "core/error.h"
#include "core/forced_signal.h"
#include "core/initial_stack.h"
#include "core/kernel_probe.h"
#include "core/output_digest.h"
#include "core/pre_exec_child.h"
#include "core/ptrace_task.h"
#include "core/seccomp_filter.h"
#include "core/syscall_format.h"
#include "core/syscall_table.h"
#include "core/unique_fd.h"
#include "core/tsc_trap.h"
#include "core/vdso.h"
#include "record/cpuid_record.h"
#include "record/cpuid_sites.h"
#include "record/namespaces.h"
#include "record/own_tracer.h"
#include "record/preload_env.h"
#include "record/preload_early.h"
#include "record/ptrace_emulation.h"
#include "record/return_slot.h"
#include "record/proc_status.h"
#include "record/tracer_events.h"
#include "record/seccomp_record.h"
#include "record/record_stats.h"
#include "record/site_patch.h"
#include "record/syscallbuf_record.h"
#include "core/syscallbuf_abi.h"
#include "record/shared_objects.h"
#include "record/signal_state.h"
#include "record/terminal.h"
#include "record/tsc_sites.h"
#include "record/cpu_affinity.h"
#include "core/cpu_binding.h"
#include "record/task_run_state.h"
#include "core/remote_syscall.h"
#include "record/desched.h"
#include "record/tree_exit.h"
#include "trace_format/format.h"
#include "trace_format/regs_codec.h"
#include "trace_format/trace_dir.h"
#include "trace_format/trace_writer.h"

namespace rrx::record {

namespace {

namespace fs = std::filesystem;

volatile sig_atomic_t g_stop_signal = 0;

// abort_recording(): the tree is already killed; nothing may catch this on the way out.
class RecordingAborted : public Error {
 public:
  using Error::Error;
};
// The program's exec failed (or its child died before it): nothing was
// recorded. Not a task that was killed out of a stop (unless_killed).
class ProgramDidNotStart : public Error {
 public:
  using Error::Error;
};
void on_stop_signal(int sig) { g_stop_signal = sig; }

int64_t now_unix_ns() {
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// The target of symbolic link `path` ("" when it is none): one readlink,
// no lstat first (std::filesystem::read_symlink's), called at every mmap of
// a file.
std::string read_link(const std::string& path) {
  std::string out(256, '\0');
  for (;;) {
    ssize_t n = ::readlink(path.c_str(), out.data(), out.size());
    if (n < 0) return std::string();
    if (static_cast<size_t>(n) < out.size()) {
      out.resize(static_cast<size_t>(n));
      return out;
    }
    out.resize(out.size() * 2);
  }
}

kj::ArrayPtr<const kj::byte> bytes(const void* data, size_t size) {
  return kj::arrayPtr(static_cast<const kj::byte*>(data), size);
}
kj::ArrayPtr<const kj::byte> bytes(const std::string& s) { return bytes(s.data(), s.size()); }

// The six argument registers and the string arguments read at entry, as
// Syscall and SyscallEntry events both carry them.
template <typename Builder, typename Pending>
void set_args_and_strings(Builder b, const Pending& p) {
  auto args = b.initArgs(6);
  for (unsigned i = 0; i < 6; ++i) args.set(i, p.args[i]);
  if (p.strings.empty()) return;
  auto strs = b.initStrings(static_cast<unsigned>(p.strings.size()));
  for (unsigned i = 0; i < p.strings.size(); ++i) {
    strs[i].setArg(static_cast<uint8_t>(p.strings[i].first));
    strs[i].setValue(bytes(p.strings[i].second));
  }
}

// Faults that the instruction at ip caused, as opposed to signals sent.
// A seccomp filter's SIGSYS (RET_TRAP) is not one of them for the trace:
// replay installs no filter of the program's, so it sends that SIGSYS itself,
// with the recorded siginfo, like a signal held for a syscall boundary.
bool is_synchronous(const siginfo_t& si) {
  if (si.si_signo == SIGSYS && si.si_code == kSigsysSeccomp) return false;
  switch (si.si_signo) {
    case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGTRAP: case SIGSYS:
      return si.si_code > 0;
    default:
      return false;
  }
}

// Whether the task's fd `fd` is a perf_event counter (perf_event_open);
// *st gets the fd's stat when it has one (a regular file, the usual case of
// an mmap, needs no readlink).
bool is_perf_event_fd(pid_t tid, int fd, std::optional<struct stat>* st) {
  if (fd < 0) return false;
  std::string path = "/proc/" + std::to_string(tid) + "/fd/" + std::to_string(fd);
  struct stat s {};
  if (::stat(path.c_str(), &s) == 0) {
    *st = s;
    if (S_ISREG(s.st_mode)) return false;
  }
  char link[64];
  ssize_t n = ::readlink(path.c_str(), link, sizeof link);
  return n > 0 && std::string_view(link, static_cast<size_t>(n)) == "anon_inode:[perf_event]";
}

// The fd that sendfile, copy_file_range and splice move file data into, or -1.
int data_move_target(int64_t nr, const uint64_t args[6]) {
  switch (nr) {
    case SYS_sendfile: return static_cast<int>(args[0]);
    case SYS_copy_file_range:
    case SYS_splice: return static_cast<int>(args[2]);
    default: return -1;
  }
}


// A syscall between its entry and exit stops.
struct PendingSyscall {
  int64_t nr = -1;
  uint64_t args[6] = {};
  uint64_t ip = 0, sp = 0;
  const sys::SyscallDesc* desc = nullptr;
  bool refused = false;  // skipped by rrx: fails with ENOSYS
  std::optional<int64_t> emulated_ret;  // skipped by rrx, which answers for the kernel (prctl PR_SET_TSC)
  bool quiet_refusal = false;  // refused because the program has a fallback: no warning
  int refusal_errno = ENOSYS;  // what a refused call fails with
  std::string refusal_reason;  // why, when not the call itself (a map of a perf_event fd)
  bool i386 = false;           // made with `int $0x80`: nr is an i386 number (refused)
  bool recorded_at_entry = false;
  int output = 0;  // 1 or 2: it sends bytes to rrx's own stdout or stderr (output_of, at entry)
  std::vector<std::pair<int, std::string>> strings;
  std::optional<seccomp::Verdict> seccomp_verdict;  // the program's filters refuse it: the kernel runs none of it
  std::optional<SeccompInstall> seccomp_install;    // it sets a seccomp mode: applied at a successful exit
  std::optional<struct stat> map_fd_stat;  // an mmap of an fd: the fd's file, as the entry saw it
};

// What a syscall's event says about memory maps and shared objects.
struct MapEffects {
  std::optional<trace::FileStore::Stored> mapped;  // file contents for the mapping
  std::string name;
  uint64_t offset = 0;
  uint64_t size = 0;           // the file's size (mapped->size when mapped)
  uint32_t shared_object = 0;  // SharedObjects id, or 0
  bool writable = false;
  std::optional<SharedObjects::Change> change;
};

struct TaskState {
  std::unique_ptr<Task> task;
  pid_t tgid = 0;                      // its process
  bool in_syscall = false;
  PendingSyscall pending;
  // Moved out of a site patched during its call (move_out_of_patch): the
  // call's exit event says where it went on.
  uint64_t resume_ip = 0;
  bool entry_recorded = false;         // a SyscallEntry event was written: the exit gets its own event
  std::chrono::steady_clock::time_point syscall_since;  // when rrx let its current syscall run
  bool at_syscall_boundary = false;    // resumed from a syscall exit stop (at boundary_ip)
  uint64_t boundary_ip = 0;            // where that syscall returns to
  std::deque<siginfo_t> held_signals;  // asynchronous signals waiting for a syscall boundary
  int injecting_signal = 0;            // a held signal re-raised by rrx, awaiting its stop
  bool started = false;                // its first stop (the trap stop of a new seized task) was seen
  bool preempt_requested = false;      // rrx sent PTRACE_INTERRUPT to take the CPU away
  int job_stop_sig = 0;                // in a group-stop by this signal, left there with PTRACE_LISTEN
  bool ran_in_group_stop = false;      // ... but its emulated tracer let it run (PTRACE_CONT from the stop)
  // Scheduling: one task runs user code at a time (the current one).
  std::optional<WaitStatus> unhandled; // a stop that arrived while another task ran
  bool resume_deferred = false;        // stopped and handled; resumes when scheduled
  int deferred_sig = 0;
  bool parked = false;                 // another thread of its process is exec'ing: it only gets to die
  bool exiting = false;                // past its PTRACE_EVENT_EXIT stop
  std::shared_ptr<const seccomp::State> seccomp;  // its seccomp mode and filters (null: none)
  ThreadSignals signals;               // its mask, its process's actions, its emulated TSC mode
  bool cpuid_untrapped = false;        // exec'd under filters that refuse ARCH_SET_CPUID
  // The syscall buffer this thread publishes records in (fast path), or null.
  std::shared_ptr<BufferCursor> buffer;
  bool in_buffered_call = false;       // at a stop of a call from the untraced instruction (full tracing)
  // Desched (desched.h): its context-switch event; for a new process, the
  // number its parent thread's event has in its fd table (replaced at its
  // first stop); after a desched stop, resumed to the next syscall entry;
  // the call in progress (skipped) is given back at its exit.
  DeschedEvent desched;
  int desched_inherited = -1;
  // Runs on its parent's thread-locals in the same memory and fd table (a raw
  // clone without CLONE_SETTLS, with CLONE_FILES): its library arms the
  // parent's event, which counts the parent's switches, not its own, so a
  // call it blocks in sends no signal: rrx's preemption takes it over
  // (take_over_interrupted_call), and disarms this event.
  DeschedEvent desched_of_parent;
  bool desched_step = false;
  bool desched_give_back = false;
  bool vfork_child = false;            // shares its parent's memory until it execs: its sites are not patched
  pid_t parent_tgid = 0;               // the process that forked its process (0: rrx, for the first one)
  // Ptrace emulation (ptrace_emulation.h): its registers when it entered
  // the call that may block (a tracer may ask for them while it waits), the
  // syscall-entry stop its tracer saw (handled by rrx once released), a
  // single step its tracer asked for, and a vfork it waits in.
  std::optional<user_regs_struct> kernel_regs;
  std::optional<WaitStatus> emu_entry_stop;
  bool step_on_resume = false;
  bool in_vfork = false;
  bool in_real_wait = false;           // in a wait4/waitid the kernel runs
  bool wait_kicked = false;            // ... interrupted by rrx: it restarts, and the emulation answers it
  std::deque<siginfo_t> tracer_sigchld;  // the SIGCHLDs rrx sends it for its tracees' stops, in order
  int attach_stops = 0;                // SIGSTOPs rrx sent it for PTRACE_ATTACHes of tracers in the recording
  // `pending` ran with no exit stop, its result going to the return slot
  // (return_slot.h): taken at the thread's next stop, with the mapping's
  // file stored at the entry.
  std::optional<ReturnSlots::Place> result_in_slot;
  MapEffects slot_maps;
  std::shared_ptr<UniqueFd> slot_scan_file;  // an executable map's file, for the rdrand search at the next stop
  uint64_t exec_vdso = 0;              // the vDSO of its exec (on_exec to the exec's exit: the return stub's place)
};

class Recorder : private PtraceHost {
 public:
  explicit Recorder(const RecordOptions& options)
      : options_(options), tree_exit_(wait_limit(options)), emu_(*this) {}
  int run();
  const fs::path& trace_dir() const { return trace_dir_; }

 private:
  // Both get the program's environment (NAME=VALUE entries): the header
  // records exactly what spawn passes to execve.
  void write_header(const std::string& exe, const std::vector<std::string>& env);
  void spawn(const std::string& exe, const std::vector<std::string>& env);
  void loop();
  void on_syscall_stop(TaskState& ts);
  void on_seccomp_stop(TaskState& ts);
  void flush_buffer(TaskState& ts);
  // Desched (desched.h).
  bool on_desched_signal(TaskState& ts, const siginfo_t& si);
  bool take_over_interrupted_call(TaskState& ts);
  void give_back(TaskState& ts, int64_t nr, const uint64_t args[6]);
  template <typename F>
  bool killed_during(TaskState& ts, F&& f);
  void skip_to_give_back(TaskState& ts, const KernelSyscallInfo& info);
  std::optional<rrx_buffer_header> buffer_header(TaskState& ts);
  bool is_desched_fd(pid_t tgid, uint64_t fd) const;
  DeschedProbe desched_ = DeschedProbe::TurnedOff;  // the probe's answer (--syscallbuf only)
  // Per process: the fds of its dead threads' events, still open in its fd
  // table; a new thread's event takes one of these numbers (dup3 over it).
  std::map<pid_t, std::vector<int>> spare_desched_fds_;
  // The lowest fd a desched event was given (0: none yet): the library closes no fd from there itself.
  uint32_t desched_floor_ = 0;
  // The name of the file the last private file mmap mapped (ld.so maps a
  // library's fd four or five times in a row): note_mapping.
  struct MappedName {
    pid_t tid = 0;
    int fd = -1;
    dev_t dev = 0;
    ino_t ino = 0;
    std::string name;
  };
  MappedName last_mapped_name_;
  bool use_desched() const { return options_.syscallbuf && desched_ == DeschedProbe::Counts; }
  int64_t buffered_fd_info(TaskState& ts, uint64_t fd);
  void raise_fd_epochs(TaskState& ts, bool all_processes, std::vector<sys::Range>& outputs);
  // Every call of this thread must stop: a tracer in the recording follows it
  // (it expects the syscall stops, registers and seccomp events of each call
  // at its own site), or it has a seccomp mode of its own: strict mode,
  // which rrx enforces at the stops, or filters, whose verdict on each call
  // the recorder takes at the call's stop (a call the library made would
  // meet the program's filter inside the library: a SIGSYS or an errno
  // there, which the recorder never saw). The library must not buffer its
  // calls then. (Sites patched before the filter came, e.g. ahead of their
  // first call, must not let later calls past it.)
  // (--chaos too: its switches at syscall boundaries, the windows of most
  // races, need the recorder to see every call; a buffered one is none.)
  bool must_see_every_call(const TaskState& ts) const {
    return chaos_ || emu_.traced(ts.task->tid()) || ts.seccomp != nullptr;
  }
  void sync_trace_all(TaskState& ts, std::vector<sys::Range>& outputs);
  std::string preload_library_;  // librrx_preload.so with --syscallbuf, else empty
  // The early set-up (record/preload_early.h): the library's path as the
  // kernel names its mappings, its load segments and rrx_hook_table's address
  // (none: no early set-up); the processes where it may be in effect.
  std::string preload_library_name_;
  std::vector<std::pair<uint64_t, uint64_t>> preload_loads_;
  std::optional<uint64_t> hook_table_;
  std::set<pid_t> early_procs_;
  // The exit of the loader's mmap of the library's last (writable) segment
  // in a process without the library yet: where the early set-up is done.
  bool early_setup_due(const TaskState& ts, const PendingSyscall& p, const MapEffects& maps) const;
  void set_up_early_library(TaskState& ts, const PendingSyscall& p, int64_t ret);
  void append_preload_early(TaskState& ts, const EarlySetup& e);
  // The fast path stops this task only at its seccomp stops: no program
  // filter of its own (those see every call first: it is traced fully).
  // A tracee whose tracer wants its syscall stops is traced fully too.
  bool seccomp_stops_only(const TaskState& ts) const {
    return options_.syscallbuf && !ts.seccomp && !emu_.wants_syscall_stops(ts.task->tid());
  }
  void inject_held_signal(TaskState& ts);
  // at_seccomp_stop: the fast path's seccomp stop (the call may complete there).
  void on_syscall_entry(TaskState& ts, const KernelSyscallInfo& info, bool at_seccomp_stop = false);
  void on_syscall_exit(TaskState& ts, KernelSyscallInfo info);
  // Fast path: after the event of a traced call that the buffer takes, the
  // call's site is patched to enter the library from now on (site_patch.h).
  void patch_site(TaskState& ts, uint64_t ip_after);
  void patch_known_sites(TaskState& ts);
  bool patch_holds(TaskState& ts, std::vector<uint64_t>* busy, std::vector<uint64_t>* in_call);
  // Whether ts's process has the library set up: ts or another of its
  // threads has a buffer.
  bool library_ready(const TaskState& ts) const;
  void append_site_patch(TaskState& ts, const AppliedPatch& done);
  void move_out_of_patch(TaskState& ts, KernelSyscallInfo& info);
  // Where the other threads of ts's process will resume; false when one is
  // running (where is unknown).
  bool other_threads_ips(TaskState& ts, std::vector<uint64_t>* ips);
  // cpuid sites answered in the process (cpuid_sites.h): at the exec's exit
  // stop (`trapped_site` 0), or the site of a cpuid just answered.
  void patch_cpuid_sites(TaskState& ts, uint64_t trapped_site);
  // tsc_patch_: the rdtsc sites of the mappings an exec (exec) or a call
  // (mmap, mprotect, munmap, mremap) that returned made; the TscPatches event.
  void patch_tsc_sites(TaskState& ts, bool exec, const PendingSyscall* p, int64_t ret);
  void on_seccomp_refusal(TaskState& ts, const seccomp::Verdict& verdict);
  void apply_seccomp_install(TaskState& ts, int64_t ret);
  void on_exec(TaskState& ts, pid_t former_tid);
  void on_signal(TaskState& ts, int sig);
  void on_trap_stop(TaskState& ts, int sig);
  void deliver_recorded(TaskState& ts, int sig, bool synchronous);
  void write_job_stop(TaskState& ts, int sig, bool resumed);
  void on_rdtsc(TaskState& ts, SpecialInsn insn, size_t len);
  bool on_cpuid_fault(TaskState& ts);
  void warn(TaskState& ts, const std::string& msg);
  ForcedSignalUndo undo_trap_sigsegv(TaskState& ts, uint64_t ip);
  void on_death(TaskState& ts, const WaitStatus& w);
  void record_signal(TaskState& ts, const siginfo_t& si, bool synchronous);
  void resume(TaskState& ts, int sig = 0);
  void handle_stop(TaskState& ts, const WaitStatus& w);
  void handle_stop_or_death(TaskState& ts, const WaitStatus& w);
  template <typename F>
  void unless_killed(TaskState& ts, F&& step);
  void on_new_task(TaskState& parent, int event);
  void schedule_next();
  void yield_cpu(TaskState& ts, int sig);
  void enter_kernel(TaskState& ts);
  void write_syscall_entry(TaskState& ts, const std::string& exe_hash = "");
  size_t threads_of(pid_t tgid) const;
  TaskState* task_of_process(pid_t pid);
  std::string stored_exec_target(TaskState& ts);
  void check_time_slice();
  schema::Event::Builder begin_event(capnp::MallocMessageBuilder& m, TaskState& ts);
  int output_of(TaskState& ts, int64_t fd);
  rrx_file_facts file_facts() const;
  void append_syscall_event(TaskState& ts, int64_t ret, bool is_error, uint64_t ip, uint64_t sp,
                            const std::vector<sys::Range>& outputs, uint32_t flags, const MapEffects& maps = {});
  // The shared-object side of a successful mmap or shmat (SharedObjects).
  void note_mapping(TaskState& ts, const PendingSyscall& p, int64_t ret, MapEffects& maps);
  std::vector<pid_t> recorded_pids() const;
  std::vector<pid_t> recorded_tids() const;  // every live recorded thread, rrx's ids
  [[noreturn]] void abort_recording(const std::string& message);
  void stop_on_signal();
  void record_reported_exits();
  void finish(int status, const std::string& reason);
  void kill_all();
  void forget_queued(TaskState& ts);
  void check_tree_exit();
  void release_exited_leader();
  void end_tree();
  void on_unknown_stop(pid_t tid, const WaitStatus& w);

  static std::optional<TreeExit::Clock::duration> wait_limit(const RecordOptions& options);

  RecordOptions options_;
  fs::path trace_dir_;
  std::unique_ptr<trace::TraceWriter> writer_;
  std::unique_ptr<trace::FileStore> files_;
  std::unique_ptr<SharedObjects> shared_;
  std::map<pid_t, TaskState> tasks_;
  pid_t leader_ = 0;                        // the first process: its status is rrx record's
  int leader_status_ = 0;
  std::string leader_reason_;
  pid_t current_ = 0;                       // the task running user code, or 0
  std::deque<pid_t> runnable_;              // stopped tasks waiting for the CPU, oldest first
  std::map<pid_t, WaitStatus> orphan_stops_;  // stops of new tasks not yet announced by their parent
  std::map<pid_t, pid_t> execing_;            // process -> its thread in execve (multi-threaded exec)
  std::chrono::steady_clock::time_point run_start_;
  struct stat output_stat_[2] = {};          // rrx's stdout and stderr (st_ino 0: closed)
  int exec_error_fd_ = -1;
  InheritedSignals inherited_signals_;
  // What the program's child reads until its exec (spawn), and the child
  // itself (core/pre_exec_child.h).
  std::string spawn_exe_;
  std::vector<std::string> spawn_env_;
  std::vector<char*> spawn_argv_, spawn_envp_;
  std::unique_ptr<PreExecChild> spawn_child_;
  bool started_ = false;  // after the first exec, tracee syscalls are the program's
  // RRX_TEST_PREEMPT_AT_EXEC (tests): every exec after the first is
  // preempted at the new program's first instruction, as a slow exec on a
  // loaded machine can be.
  const bool test_preempt_at_exec_ = std::getenv("RRX_TEST_PREEMPT_AT_EXEC") != nullptr;
  bool done_ = false;
  int exit_status_ = 0;
  TreeExit tree_exit_;                      // what happens to processes that outlive the main one
  bool ending_tree_ = false;                // the rest of the tree was sent SIGKILL; its deaths are recorded
  TerminalForeground terminal_;             // the terminal's foreground, handed to the program's group
  bool cpuid_faulting_ = false;             // every thread faults on cpuid (cpuid_record.h)
  bool tsc_patch_ = false;                  // rdtsc does not trap here: its sites are patched (tsc_sites.h)
  TscSites tsc_sites_;
  bool warned_jit_ = false;                 // (tsc_patch_) the warning about code made at run time, given
  std::unique_ptr<RandomInsnFinder> random_insns_;  // without it: the rdrand/rdseed search
  SitePatches site_patches_;                // fast path: the syscall sites patched in each process
  // Fast path: traced calls that complete at their seccomp stop (return_slot.h);
  // off with --chaos (which wants every boundary) or RRX_NO_RETURN_SLOT=1.
  ReturnSlots return_slots_;
  bool use_return_slots_ = false;
  bool exit_stop_does_more(const TaskState& ts) const;
  bool complete_at_seccomp_stop(TaskState& ts);
  bool answer_at_seccomp_stop(TaskState& ts, const KernelSyscallInfo& info);
  bool take_result_from_slot(TaskState& ts, const WaitStatus& w);
  CpuidSites cpuid_sites_;                  // cpuid sites answered in the process (with CPUID faulting)
  AffinityView affinity_;                   // each thread's CPU affinity as it sees it (rrx binds to one CPU)
  AffinityView::InTree in_tree() const {
    return [this](pid_t pid) { return tasks_.count(pid) > 0; };
  }
  std::optional<int> bound_cpu_;            // the CPU rrx and the tree run on (core/cpu_binding.h)
  std::unique_ptr<RecordStats> stats_;      // RRX_RECORD_STATS=1: stops and time per kind (else null)
  std::unique_ptr<ChaosScheduler> chaos_;   // --chaos: who runs next, and for how long
  std::chrono::steady_clock::duration slice_{};  // with chaos_: the current task's slice
  void start_slice();
  void arm_chaos_timer();

  // PtraceHost: what the ptrace emulation asks of the recorder.
  PtraceEmulation emu_;
  Task* task(pid_t tid) override;
  pid_t process_of(pid_t tid) override;
  std::optional<user_regs_struct> regs_in_kernel(pid_t tid) override;
  void release(pid_t tid, const EmuRelease& how) override;
  void listen(pid_t tid) override;
  void interrupt(pid_t tid) override;
  void send_attach_stop(pid_t tid) override;
  void answer_wait(pid_t waiter, int64_t ret) override;
  void run_wait_for_real(pid_t waiter) override;
  void wake_real_waits(pid_t process) override;
  void notify_tracer(pid_t tracer, pid_t tid, int status) override;
  void warn_about(pid_t tid, const std::string& msg) override;
  void note_stop(pid_t tid, StopPoint at, const siginfo_t& si, bool synchronous) override;
  // The task stopped for its emulated tracer: rrx holds it, it gives up the CPU.
  void hold_for_tracer(TaskState& ts);
  void emulate_at_entry(TaskState& ts, bool* held);
};

std::optional<TreeExit::Clock::duration> Recorder::wait_limit(const RecordOptions& options) {
  if (options.wait_for == RecordOptions::WaitFor::Main) return TreeExit::Clock::duration::zero();
  if (!options.wait_timeout_s) return std::nullopt;
  return std::chrono::duration_cast<TreeExit::Clock::duration>(std::chrono::duration<double>(*options.wait_timeout_s));
}

void Recorder::write_header(const std::string& exe, const std::vector<std::string>& env) {
  capnp::MallocMessageBuilder msg;
  auto h = msg.initRoot<schema::Header>();
  h.setFormatVersion(trace::kFormatVersion);
  h.setRrxVersion(RRX_VERSION);
  h.setKernelRelease(kernel_release());
  h.setHostname(host_name());
  h.setIgnoredSignals(inherited_signals_.ignored);
  h.setBlockedSignals(inherited_signals_.blocked);
  h.setCpuidFaulting(cpuid_faulting_);
  h.setTscRecording(tsc_patch_ ? schema::Header::TscRecording::PATCHED_SITES : schema::Header::TscRecording::TRAP);
  h.setBoundCpu(bound_cpu_ ? *bound_cpu_ : -1);
  CpuIdentity cpu = cpu_identity();
  auto c = h.initCpu();
  c.setVendor(cpu.vendor);
  c.setFamily(cpu.family);
  c.setModel(cpu.model);
  c.setStepping(cpu.stepping);
  auto leaves = c.initLeaves(static_cast<unsigned>(cpu.leaves.size()));
  for (unsigned i = 0; i < cpu.leaves.size(); ++i) {
    const auto& l = cpu.leaves[i];
    auto b = leaves[i];
    b.setLeaf(l.leaf);
    b.setSubleaf(l.subleaf);
    b.setEax(l.eax);
    b.setEbx(l.ebx);
    b.setEcx(l.ecx);
    b.setEdx(l.edx);
  }
  auto argv = h.initArgv(static_cast<unsigned>(options_.argv.size()));
  for (unsigned i = 0; i < options_.argv.size(); ++i) argv.set(i, options_.argv[i]);
  auto envp = h.initEnvp(static_cast<unsigned>(env.size()));
  for (unsigned i = 0; i < env.size(); ++i) envp.set(i, env[i]);
  std::error_code ec;
  h.setCwd(fs::current_path(ec).string());
  h.setExePath(fs::absolute(exe, ec).string());
  h.setStartTimeUnixNs(now_unix_ns());
  h.setSkipStrategy(skip_strategy_name(best_skip_strategy()));
  h.setPersonality(static_cast<uint32_t>(ADDR_NO_RANDOMIZE));
  h.setFileHash(schema::Header::FileHash::PAGES);
  auto opts = h.initOptions(chaos_ ? 5 : 4);
  opts[0].setKey("strict");
  opts[0].setValue(options_.strict ? "true" : "false");
  opts[1].setKey("max-file-data");
  opts[1].setValue(std::to_string(options_.max_file_data));
  // Whether the fast path recorded (older traces: absent, i.e. off).
  opts[2].setKey("syscallbuf");
  opts[2].setValue(options_.syscallbuf ? "on" : "off");
  // How buffered calls that may block were kept from blocking the tree (desched.h).
  opts[3].setKey("blocking-calls");
  opts[3].setValue(!options_.syscallbuf ? "off" : use_desched() ? "desched" : "checked");
  if (chaos_) {
    opts[4].setKey("chaos-seed");
    opts[4].setValue(std::to_string(chaos_->seed()));
  }
  writer_ = std::make_unique<trace::TraceWriter>(trace_dir_, msg);
}

// The program is PTRACE_SEIZEd (not PTRACE_TRACEME): only a seized task can
// be left in a group-stop (PTRACE_LISTEN) so that SIGCONT wakes it, and be
// interrupted with PTRACE_INTERRUPT. The child waits on a pipe until it is
// seized, so it never stops before its exec: its first stop is the exec.
void Recorder::spawn(const std::string& exe, const std::vector<std::string>& env) {
  // Everything the child reads, built here: it shares rrx's memory until
  // its exec and may not allocate (core/pre_exec_child.h).
  spawn_exe_ = exe;
  spawn_env_ = env;
  for (auto& e : spawn_env_) spawn_envp_.push_back(e.data());
  spawn_envp_.push_back(nullptr);
  for (const auto& a : options_.argv) spawn_argv_.push_back(const_cast<char*>(a.c_str()));
  spawn_argv_.push_back(nullptr);
  int pipefd[2];  // the exec's errno, when it fails
  int gate[2];    // closed by rrx once the child is seized
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw_errno("pipe2");
  if (::pipe2(gate, O_CLOEXEC) != 0) throw_errno("pipe2");
  spawn_child_ = std::make_unique<PreExecChild>();
  const bool filter = options_.syscallbuf;
  pid_t pid = spawn_child_->start([this, pipefd, gate, filter] {
    ::close(pipefd[0]);
    ::close(gate[1]);
    // A process group of its own: the program's kill(0, ...) and killpg()
    // reach its own tree, never rrx. (Raw syscalls where one may fail: the
    // child's errno is rrx's, core/pre_exec_child.h.)
    raw_syscall(SYS_setpgid, 0, 0);
    ::personality(ADDR_NO_RANDOMIZE);
    ::prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0);
    // The program gets the signal state rrx inherited, not rrx's own.
    apply_signal_state(inherited_signals_);
    char c;
    while (raw_syscall(SYS_read, gate[0], reinterpret_cast<long>(&c), 1) == -EINTR) {
    }
    if (filter) {
      // Seized now: SECCOMP_RET_TRACE stops here instead of failing with ENOSYS.
      if (int err = install_fast_path_filter()) {
        static const char msg[] = "rrx: cannot install the syscall buffer's seccomp filter; record with -n\n";
        (void)!::write(2, msg, sizeof msg - 1);
        (void)!::write(pipefd[1], &err, sizeof err);
        _exit(127);
      }
    }
    int err = static_cast<int>(-raw_syscall(SYS_execve, reinterpret_cast<long>(spawn_exe_.c_str()),
                                            reinterpret_cast<long>(spawn_argv_.data()),
                                            reinterpret_cast<long>(spawn_envp_.data())));
    (void)!::write(pipefd[1], &err, sizeof err);
    _exit(127);
  });
  ::close(pipefd[1]);
  ::close(gate[0]);
  ::setpgid(pid, pid);  // (also here: whichever of the two runs first)
  exec_error_fd_ = pipefd[0];
  long ptrace_options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
                       PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL;
  if (options_.syscallbuf) ptrace_options |= PTRACE_O_TRACESECCOMP;
  if (!seize(pid, ptrace_options)) {
    int err = errno;
    ::close(gate[1]);
    kill_and_reap(pid);
    // (A tracer that follows rrx's forks but was not caught up front by
    // refuse_fork_following_tracer: the program is its tracee already, or
    // its ptrace call failed: rrx record refuses ptrace with ENOSYS.)
    if (auto tracer = own_tracer()) throw Error(under_tracer_message(*tracer));
    throw Error(std::string("cannot trace the program: PTRACE_SEIZE failed (") + std::strerror(err) +
                "); is ptrace allowed? see kernel.yama.ptrace_scope");
  }
  ::close(gate[1]);  // the child goes on to its exec
  terminal_.hand_to(pid);
  leader_ = pid;
  auto& ts = tasks_[pid];
  ts.task = std::make_unique<Task>(pid);
  ts.tgid = pid;
  ts.started = true;
  current_ = pid;
  start_slice();
}

// Ends the tree without recording more: SIGKILL to every process, known or
// not yet announced by its parent's clone event. A task in a stop rrx has
// already seen stays there until resumed (SIGKILL does not end a
// PTRACE_EVENT_EXIT stop), so each is resumed too; then every tracee is
// reaped, in whatever order the kernel reports them (a leader only after
// its threads), until none is left.
void Recorder::kill_all() {
  auto end = [](pid_t tgid, pid_t tid) {
    ::kill(tgid, SIGKILL);
    ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
  };
  for (auto& [tid, ts] : tasks_) end(ts.tgid, tid);
  for (auto& [tid, w] : orphan_stops_) end(tid, tid);
  tasks_.clear();
  orphan_stops_.clear();
  runnable_.clear();
  current_ = 0;
  for (;;) {
    int status = 0;
    pid_t tid = ::waitpid(-1, &status, __WALL);
    if (tid < 0) {
      if (errno == EINTR) continue;
      return;  // ECHILD: all gone
    }
    if (WIFSTOPPED(status)) end(tid, tid);  // a new task's first stop, or PTRACE_EVENT_EXIT
  }
}

void Recorder::finish(int status, const std::string& reason) {
  exit_status_ = status;
  done_ = true;
  if (writer_) writer_->close(status, reason, shared_ ? shared_->final_states() : std::vector<trace::SharedObjectEnd>{});
}

void Recorder::abort_recording(const std::string& message) {
  kill_all();
  if (writer_) writer_->flush();  // left incomplete on purpose: no End record
  if (!trace_dir_.empty()) trace::write_abort_reason(trace_dir_, message);
  throw RecordingAborted(message + "\nrrx: the incomplete trace is in " + trace_dir_.string());
}

void Recorder::stop_on_signal() {
  int sig = g_stop_signal;
  record_reported_exits();
  kill_all();
  std::string reason = "recording stopped by " + signal_name(sig) + " to the recorder";
  std::cerr << "rrx: " << reason << "\n";
  finish(128 + sig, reason);
}

// Syscall exits the kernel has already reported when the recording is
// stopped: their effects happened (a write's bytes reached rrx's output), so
// they get their events before the tree is killed. Other stops are left to
// kill_all: a task resumed here stops again at its next syscall entry,
// before that call has any effect, and is killed there.
void Recorder::record_reported_exits() {
  for (;;) {
    int status = 0;
    pid_t tid = ::waitpid(-1, &status, __WALL | WNOHANG);
    if (tid <= 0) return;
    auto it = tasks_.find(tid);
    if (it == tasks_.end()) continue;
    WaitStatus w = WaitStatus::decode(status);
    TaskState& ts = it->second;
    if (w.kind != WaitStatus::Kind::SyscallStop || !ts.in_syscall) continue;
    try {
      if (ts.task->syscall_info().op != KernelSyscallInfo::kExit) continue;
      handle_stop_or_death(ts, w);
    } catch (const Error&) {
      return;  // kill_all still ends the tree
    }
  }
}

void Recorder::resume(TaskState& ts, int sig) {
  if (ts.step_on_resume) {
    // Its tracer's PTRACE_SINGLESTEP; a step into a syscall instruction goes
    // through rrx's syscall stops like any call (the step ends at its exit).
    ts.step_on_resume = false;
    uint8_t insn[2] = {};
    if (ts.task->read_mem(ts.task->regs().rip, insn, 2) != 2 || insn[0] != 0x0f || insn[1] != 0x05) {
      ts.task->resume_singlestep(sig);
      ts.at_syscall_boundary = false;
      return;
    }
  }
  // Between syscalls the fast path runs on to the next seccomp stop (the
  // filter's SECCOMP_RET_TRACE): the entry; from there, on to the exit stop.
  if (seccomp_stops_only(ts) && !ts.in_syscall && !ts.desched_step) {
    ts.task->resume_cont(sig);
  } else {
    ts.task->resume_syscall(sig);
  }
  ts.at_syscall_boundary = ts.at_syscall_boundary && sig == 0;
}

schema::Event::Builder Recorder::begin_event(capnp::MallocMessageBuilder& m, TaskState& ts) {
  auto ev = m.initRoot<schema::Event>();
  ev.setTid(ts.task->tid());
  ev.setPid(ts.tgid);
  return ev;
}

// The task gives up the CPU at a stop it has handled; it resumes when its
// turn comes.
void Recorder::yield_cpu(TaskState& ts, int sig) {
  ts.resume_deferred = true;
  ts.deferred_sig = sig;
  runnable_.push_back(ts.task->tid());
  if (current_ == ts.task->tid()) current_ = 0;
}

// The task goes on in the kernel (a syscall that may wait for another
// task); others may run user code meanwhile. Its exit stop comes back
// through the loop like any other.
void Recorder::enter_kernel(TaskState& ts) {
  resume(ts);
  if (current_ == ts.task->tid()) current_ = 0;
}

size_t Recorder::threads_of(pid_t tgid) const {
  size_t n = 0;
  for (const auto& [tid, t] : tasks_) n += t.tgid == tgid;
  return n;
}

// A live recorded thread of the process that `pid` names (its pid or any of
// its thread ids), or nullptr when no recorded process has it.
TaskState* Recorder::task_of_process(pid_t pid) {
  auto named = tasks_.find(pid);
  if (named == tasks_.end()) return nullptr;
  const pid_t tgid = named->second.tgid;
  if (!named->second.exiting) return &named->second;
  for (auto& [tid, t] : tasks_)
    if (t.tgid == tgid && !t.exiting) return &t;
  return &named->second;
}

// The hash of the file an execve at its entry stop names, or "" (it will fail).
std::string Recorder::stored_exec_target(TaskState& ts) {
  const PendingSyscall& p = ts.pending;
  std::string path;
  for (const auto& [arg, value] : p.strings) {
    if (arg == (p.nr == SYS_execve ? 0 : 1)) path = value;
  }
  if (path.empty()) return "";
  std::string proc = "/proc/" + std::to_string(ts.task->tid());
  bool at_cwd = p.nr == SYS_execve || static_cast<int>(p.args[0]) == AT_FDCWD;
  std::string relative_to = proc + (at_cwd ? "/cwd" : "/fd/" + std::to_string(static_cast<int>(p.args[0])));
  // The file as the program names it: in its root and mount namespace.
  UniqueFd file(open_as_seen_by(ts.task->tid(), path, relative_to));
  if (file.get() < 0) return "";
  try {
    struct stat st {};
    if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) return "";
    return files_->store("/proc/self/fd/" + std::to_string(file.get()), path).hash;
  } catch (const trace::NoSpaceError& e) {
    abort_recording(e.what());
  } catch (const Error&) {
    return "";
  }
}

void Recorder::write_syscall_entry(TaskState& ts, const std::string& exe_hash) {
  const PendingSyscall& p = ts.pending;
  capnp::MallocMessageBuilder m;
  auto ev = begin_event(m, ts);
  auto e = ev.initSyscallEntry();
  e.setNr(p.nr);
  set_args_and_strings(e, p);
  e.setIp(p.ip);
  if (!exe_hash.empty()) e.setExeHash(exe_hash);
  writer_->append(m);
  ts.entry_recorded = true;
}

void Recorder::schedule_next() {
  while (current_ == 0 && !runnable_.empty()) {
    // In order of arrival; with --chaos, as the chaos scheduler draws.
    auto next = runnable_.begin() + static_cast<std::ptrdiff_t>(chaos_ ? chaos_->pick(runnable_) : 0);
    pid_t tid = *next;
    runnable_.erase(next);
    auto it = tasks_.find(tid);
    if (it == tasks_.end()) continue;
    TaskState& ts = it->second;
    auto ex = execing_.find(ts.tgid);
    if (ex != execing_.end() && ex->second != tid) {
      // Its process is exec'ing: the kernel is ending this thread. It must
      // not run user code (that would race with the exec); only its exit
      // and the exec itself are handled.
      bool dying = ts.unhandled &&
                   (ts.unhandled->kind == WaitStatus::Kind::Exited || ts.unhandled->kind == WaitStatus::Kind::Killed ||
                    (ts.unhandled->kind == WaitStatus::Kind::EventStop &&
                     (ts.unhandled->event == PTRACE_EVENT_EXIT || ts.unhandled->event == PTRACE_EVENT_EXEC)));
      if (!dying) {
        ts.parked = true;
        continue;
      }
    }
    if (emu_.holds(tid)) {
      // Stopped for its emulated tracer: it waits, stop and all, for the tracer to let it go.
      ts.parked = true;
      continue;
    }
    if (!ts.unhandled && !ts.resume_deferred) continue;  // nothing left to do for it
    current_ = tid;
    start_slice();
    if (ts.unhandled) {
      WaitStatus w = *ts.unhandled;
      ts.unhandled.reset();
      handle_stop_or_death(ts, w);
    } else if (ts.resume_deferred) {
      ts.resume_deferred = false;
      unless_killed(ts, [&] { resume(ts, ts.deferred_sig); });
    }
  }
}

// How long a task may run user code without a syscall while others wait.
// Replay finds a preemption point by stopping at its address until the
// registers match: cheap for a spin loop (the first pass matches), costly
// for a hot loop whose registers change every pass, so compute bursts shorter
// than this are left alone.
constexpr std::chrono::milliseconds kPreemptAfter{100};
// (Without --chaos) a task that ran this long gives way at its next syscall
// boundary when others wait.
constexpr std::chrono::milliseconds kTurnAtBoundary{2};

// Called when the recorder wakes up with other tasks waiting: a current
// task that has run too long gives way. One in a syscall is declared to be
// in the kernel (its entry becomes an event of its own); one in user code
// is interrupted with PTRACE_INTERRUPT and its position recorded as a preemption.
void Recorder::check_time_slice() {
  if (current_ == 0 || runnable_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  auto elapsed = now - run_start_;
  // With --chaos, the drawn slice is both limits.
  const std::chrono::steady_clock::duration in_kernel_after = chaos_ ? slice_ : std::chrono::milliseconds(20);
  const std::chrono::steady_clock::duration preempt_after = chaos_ ? slice_ : kPreemptAfter;
  if (elapsed < in_kernel_after) return;
  auto it = tasks_.find(current_);
  if (it == tasks_.end()) return;
  TaskState& ts = it->second;
  if (ts.exiting) return;  // it gives the CPU back when the kernel is done with it
  if (ts.in_syscall && ts.pending.seccomp_verdict) return;  // refused by its filter: it returns at once
  if (ts.in_syscall) {
    // The trace's order is the order in which calls took effect, and a
    // call's effect (the bytes a write sends to rrx's output, which replay
    // shows again at its exit event) is recorded at its exit. So a call
    // gives way only when it has itself waited in the kernel for a slice
    // (not counting the user code before it) and the kernel says it is
    // asleep there: one still running (on a loaded machine, a write to a
    // file can take a slice), or already at its exit stop that rrx has yet
    // to take, keeps the CPU, and its exit event comes before any event of
    // the others. A write to rrx's output gives way only while it sleeps
    // interruptibly (the output is a full pipe or terminal, whose reader
    // may be one of the others), not while the kernel writes a file for it.
    if (now - ts.syscall_since < in_kernel_after) return;
    const KernelRunState state = kernel_run_state(ts.task->tid());
    if (state != KernelRunState::Sleeping && (state != KernelRunState::DiskSleep || ts.pending.output != 0)) return;
    if (!ts.entry_recorded && !ts.pending.recorded_at_entry) {
      bool exec = ts.pending.desc && ts.pending.desc->special == sys::Special::Execve;
      write_syscall_entry(ts, exec ? stored_exec_target(ts) : "");
    }
    current_ = 0;
  } else if (!ts.preempt_requested && elapsed >= preempt_after) {
    if (chaos_ && !chaos_->should_preempt(current_, runnable_)) {
      start_slice();  // the others have lower priorities: it goes on, with a new slice
      return;
    }
    ts.preempt_requested = true;
    try {
      ts.task->interrupt();  // a trap stop follows (on_trap_stop)
    } catch (const Error&) {
      ts.preempt_requested = false;  // dying: its death comes next
    }
  }
}

// A task starts running user code now: its slice begins.
void Recorder::start_slice() {
  run_start_ = std::chrono::steady_clock::now();
  if (chaos_) slice_ = chaos_->next_slice();
}

// With --chaos, the recorder must look up when the current slice ends, not
// only at the next 10 ms tick: the timer's next expiry is moved there.
void Recorder::arm_chaos_timer() {
  if (!chaos_ || current_ == 0 || runnable_.empty()) return;
  if (auto it = tasks_.find(current_); it != tasks_.end() && it->second.preempt_requested) return;  // stop on its way
  auto left = run_start_ + slice_ - std::chrono::steady_clock::now();
  auto us = std::max<int64_t>(20, std::chrono::duration_cast<std::chrono::microseconds>(left).count());
  if (us >= 10000) return;
  struct itimerval t {};
  t.it_interval.tv_usec = 10000;
  t.it_value.tv_usec = us;
  ::setitimer(ITIMER_REAL, &t, nullptr);
}

void on_timer_signal(int) {}

// Stops after which a task runs no more user code: the kernel is ending it.
bool is_dying(const WaitStatus& w) {
  return w.kind == WaitStatus::Kind::Exited || w.kind == WaitStatus::Kind::Killed ||
         (w.kind == WaitStatus::Kind::EventStop && w.event == PTRACE_EVENT_EXIT);
}

// What a stop is, for RRX_RECORD_STATS (the handlers name it better where they can).
std::string stop_label(const WaitStatus& w) {
  switch (w.kind) {
    case WaitStatus::Kind::SyscallStop:
      return "syscall stop";
    case WaitStatus::Kind::EventStop:
      switch (w.event) {
        case PTRACE_EVENT_EXEC: return "exec event";
        case PTRACE_EVENT_EXIT: return "exit event";
        case PTRACE_EVENT_CLONE: return "clone event";
        case PTRACE_EVENT_FORK: return "fork event";
        case PTRACE_EVENT_VFORK: return "vfork event";
        case PTRACE_EVENT_SECCOMP: return "seccomp stop";
        default: return "event " + std::to_string(w.event);
      }
    case WaitStatus::Kind::TrapStop:
      return "trap stop";
    case WaitStatus::Kind::SignalStop:
      return "signal " + std::to_string(w.sig);
    case WaitStatus::Kind::Exited:
    case WaitStatus::Kind::Killed:
      return "death";
  }
  return "?";
}

void Recorder::loop() {
  // A periodic timer interrupts waitpid (no SA_RESTART) so that rrx looks
  // up every 10 ms whatever the tree does: a task that ran too long gives
  // way, processes that outlive the main one are noticed or ended, and a
  // SIGTERM/SIGINT/SIGHUP to rrx that arrived just before waitpid is seen.
  struct sigaction sa {};
  sa.sa_handler = on_timer_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGALRM, &sa, nullptr);
  struct itimerval tick {};
  tick.it_interval.tv_usec = 10000;
  tick.it_value.tv_usec = 10000;
  ::setitimer(ITIMER_REAL, &tick, nullptr);

  while (!done_) {
    if (g_stop_signal) {
      stop_on_signal();
      break;
    }
    schedule_next();
    if (done_) break;
    arm_chaos_timer();
    int status = 0;
    auto wait_since = RecordStats::Clock::now();
    pid_t tid = ::waitpid(-1, &status, __WALL);
    if (stats_) stats_->waited(RecordStats::Clock::now() - wait_since);
    if (tid < 0) {
      if (errno == EINTR) {
        release_exited_leader();
        check_time_slice();
        check_tree_exit();
        continue;
      }
      if (errno == ECHILD) {
        abort_recording("all traced processes are gone, but rrx lost track of " + std::to_string(tasks_.size()) +
                        " of its tasks; the trace is incomplete");
      }
      throw_errno("waitpid");
    }
    WaitStatus w = WaitStatus::decode(status);
    auto it = tasks_.find(tid);
    if (it == tasks_.end()) {
      on_unknown_stop(tid, w);
      continue;
    }
    TaskState& ts = it->second;
    if (tid == current_) {
      handle_stop_or_death(ts, w);
    } else if (is_dying(w)) {
      // The kernel is ending it (a sibling's exit_group or fatal signal,
      // SIGKILL): it runs no user code, so its stop needs no CPU. Waiting
      // for one would deadlock: the current task may itself be a leader
      // whose death the kernel reports only after this one is reaped. Any
      // earlier stop of it still queued was ended by the kill.
      forget_queued(ts);
      handle_stop_or_death(ts, w);
    } else {
      bool queued = (ts.unhandled.has_value() || ts.resume_deferred) && !ts.parked;
      ts.unhandled = w;
      ts.resume_deferred = false;
      ts.parked = false;
      if (!queued) runnable_.push_back(tid);
    }
  }
  struct itimerval off {};
  ::setitimer(ITIMER_REAL, &off, nullptr);
}

// A stop of a task rrx has no entry for: a new task whose parent's clone
// event is still to be handled. While the tree is being ended, nothing
// new is recorded: it is killed.
void Recorder::on_unknown_stop(pid_t tid, const WaitStatus& w) {
  if (ending_tree_) {
    if (w.kind == WaitStatus::Kind::Exited || w.kind == WaitStatus::Kind::Killed) return;
    ::kill(tid, SIGKILL);
    ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
    return;
  }
  orphan_stops_[tid] = w;
}

// A main thread that exited (pthread_exit) while other threads of its
// process go on is reported dead only after them: once the kernel is done
// with it (a zombie), the CPU goes to the others.
void Recorder::release_exited_leader() {
  auto it = tasks_.find(current_);
  if (it == tasks_.end() || !it->second.exiting || current_ != it->second.tgid) return;
  std::ifstream stat("/proc/" + std::to_string(current_) + "/stat");
  std::string line;
  std::getline(stat, line);
  size_t paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) return;
  char state = line[paren + 2];
  if (state == 'Z' || state == 'X') current_ = 0;
}

// Takes a task out of the run queue with whatever stop it had queued.
void Recorder::forget_queued(TaskState& ts) {
  pid_t tid = ts.task->tid();
  runnable_.erase(std::remove(runnable_.begin(), runnable_.end(), tid), runnable_.end());
  ts.unhandled.reset();
  ts.resume_deferred = false;
  ts.parked = false;
}

// After the main process exited: the notice about the processes it left
// running, and their end once the --wait policy says so.
void Recorder::check_tree_exit() {
  if (!tree_exit_.main_has_exited() || ending_tree_ || tasks_.empty()) return;
  auto now = TreeExit::Clock::now();
  bool end = tree_exit_.end_due(now);
  if (!end && !tree_exit_.notice_due(now)) return;
  std::vector<pid_t> running;
  for (const auto& [tid, ts] : tasks_) {
    if (tid == ts.tgid) running.push_back(tid);
  }
  std::cerr << (end ? tree_exit_.ending(leader_, running) : tree_exit_.notice(leader_, running)) << std::endl;
  if (end) end_tree();
}

// Ends the processes left running with SIGKILL and goes on recording: their
// deaths are events like any other (replay sends the same SIGKILL).
void Recorder::end_tree() {
  ending_tree_ = true;
  for (auto& [tid, ts] : tasks_) {
    ::kill(ts.tgid, SIGKILL);
    // Out of any stop rrx has seen and not yet resumed (PTRACE_EVENT_EXIT
    // is not ended by SIGKILL); its next stops are its exit and death.
    ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
    ts.unhandled.reset();
    ts.resume_deferred = false;
    ts.parked = false;
  }
  for (auto& [tid, w] : orphan_stops_) {
    ::kill(tid, SIGKILL);
    ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
  }
  orphan_stops_.clear();
  runnable_.clear();
  current_ = 0;
}

// A task can be killed (SIGKILL from another task, a sibling's exit_group)
// while rrx handles one of its stops: ptrace then fails with ESRCH. Its
// death notification follows; until then it holds no CPU.
// The same holds for a task waiting for the CPU in a stop rrx has handled:
// SIGKILL ends that stop, so resuming it fails.
template <typename F>
void Recorder::unless_killed(TaskState& ts, F&& step) {
  try {
    step();
  } catch (const RecordingAborted&) {
    throw;
  } catch (const ProgramDidNotStart&) {
    throw;  // (ts is gone)
  } catch (const TaskGone& gone) {
    // It, or another thread of its process that its handling touched, was
    // killed out of a stop (checking with another ptrace request would race
    // with the exit stop that follows).
    pid_t tid = ts.task->tid();
    auto other = tasks_.find(gone.tid());
    if (gone.tid() != tid && (other == tasks_.end() || other->second.tgid != ts.tgid)) throw;
    if (current_ == tid) current_ = 0;
  } catch (const Error&) {
    pid_t tid = ts.task->tid();
    errno = 0;
    if (::ptrace(PTRACE_PEEKUSER, tid, nullptr, nullptr) != -1 || errno != ESRCH) throw;
    if (current_ == tid) current_ = 0;
  }
}

void Recorder::handle_stop_or_death(TaskState& ts, const WaitStatus& w) {
  if (stats_) stats_->begin_stop(stop_label(w));
  unless_killed(ts, [&] { handle_stop(ts, w); });
  if (stats_) stats_->end_stop();
}

void Recorder::handle_stop(TaskState& ts, const WaitStatus& w) {
  // The call it made last, completed at its seccomp stop, comes first.
  if (ts.result_in_slot && take_result_from_slot(ts, w)) return;
  // Every event of the thread comes after the calls it buffered before it.
  if (ts.buffer && w.kind != WaitStatus::Kind::Exited && w.kind != WaitStatus::Kind::Killed) flush_buffer(ts);
  switch (w.kind) {
    case WaitStatus::Kind::SyscallStop:
      on_syscall_stop(ts);
      break;
    case WaitStatus::Kind::EventStop:
      if (w.event == PTRACE_EVENT_EXEC) {
        pid_t former = static_cast<pid_t>(ts.task->event_msg());
        execing_.erase(ts.tgid);
        if (former != ts.task->tid()) {
          // A thread other than the main one exec'd: the kernel ended the
          // others and gave it the process id. Its state moves to that tid;
          // the old main thread is gone without a death of its own.
          auto it = tasks_.find(former);
          if (it != tasks_.end()) {
            TaskState moved = std::move(it->second);
            tasks_.erase(it);
            moved.task = std::make_unique<Task>(ts.task->tid());
            moved.unhandled.reset();
            moved.resume_deferred = false;
            moved.started = true;
            ts = std::move(moved);
          }
          if (current_ == former) current_ = ts.task->tid();
        }
        on_exec(ts, former);
      } else if (w.event == PTRACE_EVENT_EXIT) {
        // It runs no user code any more, but the kernel still writes its
        // memory on the way out (robust futexes, clear_child_tid and the
        // futex wake that pthread_join waits for): it keeps the CPU until
        // its death is reported, or, for a process's main thread whose
        // death waits for the other threads, until it is a zombie (see
        // release_exited_leader).
        ts.exiting = true;
        if (emu_.stop_at_exit(ts.task->tid(), ts.task->event_msg())) {
          hold_for_tracer(ts);  // (its tracer's PTRACE_O_TRACEEXIT)
        } else {
          resume(ts);
        }
      } else if (w.event == PTRACE_EVENT_CLONE || w.event == PTRACE_EVENT_FORK ||
                 w.event == PTRACE_EVENT_VFORK) {
        on_new_task(ts, w.event);
      } else if (w.event == PTRACE_EVENT_SECCOMP) {
        on_seccomp_stop(ts);
      } else {
        resume(ts);
      }
      break;
    case WaitStatus::Kind::TrapStop:
      on_trap_stop(ts, w.sig);
      break;
    case WaitStatus::Kind::SignalStop:
      on_signal(ts, w.sig);
      break;
    case WaitStatus::Kind::Exited:
    case WaitStatus::Kind::Killed:
      on_death(ts, w);
      break;
  }
}

void Recorder::on_new_task(TaskState& parent, int event) {
  pid_t child = static_cast<pid_t>(parent.task->event_msg());
  capnp::MallocMessageBuilder m;
  auto ev = begin_event(m, parent);
  auto c = ev.initClone();
  c.setChildTid(child);
  if (pid_t own = own_view_tid(child); own != child) c.setChildOwnTid(own);  // in a pid namespace
  uint64_t flags = parent.pending.nr == SYS_clone ? parent.pending.args[0] : 0;
  if (parent.pending.nr == SYS_clone3) {
    uint64_t f = 0;
    parent.task->read_exact(parent.pending.args[0], &f, sizeof f);  // clone_args.flags comes first
    flags = f;
  }
  c.setFlags(flags);
  c.setKind(event == PTRACE_EVENT_CLONE   ? schema::Clone::Kind::THREAD
            : event == PTRACE_EVENT_VFORK ? schema::Clone::Kind::VFORK
                                          : schema::Clone::Kind::FORK);
  writer_->append(m);
  // (A clone without CLONE_THREAD whose exit signal is not SIGCHLD is
  // reported as PTRACE_EVENT_CLONE too, but makes a process.)
  const bool thread = event == PTRACE_EVENT_CLONE && (flags & CLONE_THREAD);
  TaskState& ts = tasks_[child];
  ts.task = std::make_unique<Task>(child);
  ts.signals = ThreadSignals::child_of(parent.signals, flags, thread);
  affinity_.inherit(parent.task->tid(), child);
  ts.tgid = thread ? parent.tgid : child;
  ts.parent_tgid = thread || (flags & CLONE_PARENT) ? parent.parent_tgid : parent.tgid;
  ts.seccomp = parent.seccomp;  // threads and processes inherit the filters
  if (event == PTRACE_EVENT_FORK) {
    site_patches_.copy(parent.tgid, child);
    cpuid_sites_.copy(parent.tgid, child);
  }
  if (early_procs_.count(parent.tgid)) {
    if (!thread && !(flags & CLONE_VM)) {
      early_procs_.insert(child);  // (its copy of the early thread-locals is its own)
    } else if (event != PTRACE_EVENT_VFORK && !(flags & CLONE_VFORK)) {
      // A thread before the library's constructor (another library's):
      // it would share the early thread-locals. Both threads set up their
      // TLS buffers at their next calls instead (preload_early.h).
      if (std::optional<EarlySetup> end = end_early(*parent.task)) append_preload_early(parent, *end);
      early_procs_.erase(parent.tgid);
    }
  }
  if (!thread) tsc_sites_.copy(parent.tgid, child);  // (a vfork child runs in its parent's memory)
  ts.vfork_child = event == PTRACE_EVENT_VFORK || (event != PTRACE_EVENT_CLONE && (flags & CLONE_VM));
  if (!thread) return_slots_.on_fork(parent.tgid, child, ts.vfork_child || (flags & CLONE_VM));
  // A new process has a copy of its parent thread's desched event at the same
  // number (which the library in it goes on using): its first stop replaces it.
  if (!thread && !(flags & CLONE_FILES) && parent.desched.open()) ts.desched_inherited = parent.desched.fd;
  if (parent.buffer && !(flags & CLONE_SETTLS)) {
    // Without CLONE_SETTLS the child runs on its parent's thread pointer:
    // the library's thread-locals, so its buffer, are the parent's. In the
    // same memory (a vfork child until it execs; a thread made by a raw
    // clone, such as LeakSanitizer's tracer) both write that buffer, each
    // call taken at the stop of the thread that made it (threads are
    // serialized); a fork copies it (already taken up to here).
    const bool same_memory = (flags & CLONE_VM) || event == PTRACE_EVENT_VFORK;
    ts.buffer = same_memory ? parent.buffer : std::make_shared<BufferCursor>(*parent.buffer);
    if (same_memory && (flags & CLONE_FILES)) {
      ts.desched_of_parent = parent.desched.open() ? parent.desched : parent.desched_of_parent;
    }
  }
  auto orphan = orphan_stops_.find(child);
  if (orphan != orphan_stops_.end()) {
    ts.unhandled = orphan->second;
    orphan_stops_.erase(orphan);
    runnable_.push_back(child);
  }
  const bool stops = emu_.stop_at_new_task(parent.task->tid(), child, event, flags);
  if (event == PTRACE_EVENT_VFORK) {
    // The parent waits in the kernel until the child execs or exits.
    if (!parent.entry_recorded) write_syscall_entry(parent);
    if (stops) {
      parent.in_vfork = true;  // into the kernel when its tracer lets it go
      hold_for_tracer(parent);
      return;
    }
    enter_kernel(parent);
  } else if (stops) {
    hold_for_tracer(parent);
  } else {
    resume(parent);
  }
}

void Recorder::on_syscall_stop(TaskState& ts) {
  KernelSyscallInfo info = ts.task->syscall_info();
  if (info.op == KernelSyscallInfo::kEntry) {
    ts.in_syscall = true;
    ts.at_syscall_boundary = false;
    if (!started_) {  // rrx's own child code before the program's exec
      resume(ts);
      return;
    }
    if (ts.desched_step) {
      // Resumed from a desched stop to this entry (desched.h).
      auto h = info.instruction_pointer == RRX_UNTRACED_IP ? buffer_header(ts) : std::nullopt;
      if (h && h->desched_armed) {
        // The call that may block, not made yet (the thread was switched
        // out before it): skipped, and given back at its exit.
        ts.desched_step = false;
        skip_to_give_back(ts, info);
        return;
      }
      if (h) {
        // A plain buffered call: the window had closed (the signal came
        // after the disarm). The library records it.
        ts.desched_step = false;
        ts.in_buffered_call = true;
        resume(ts);
        return;
      }
      if (info.instruction_pointer == RRX_RECORDING_ONLY_IP) {
        // The disarm: the call completed (a spurious deschedule); the
        // library records it as usual.
        ts.desched_step = false;
        ts.in_buffered_call = true;
        resume(ts);
        return;
      }
      // (Anything else, e.g. the traced calls of a signal handler run before
      // an interrupted call restarts, is handled as usual.)
    }
    if (ts.buffer && info.instruction_pointer == RRX_RECORDING_ONLY_IP) {
      // The desched event's arm or disarm, seen because this task is traced
      // fully: its every stop would be a context switch, so the event is
      // never armed (the arm is skipped) and the call that may block is
      // taken over at its entry below.
      if (info.entry.args[1] == RRX_PERF_EVENT_IOC_REFRESH) {
        user_regs_struct r = ts.task->regs();
        r.orig_rax = static_cast<uint64_t>(-1);
        ts.task->set_regs(r);
      }
      ts.in_buffered_call = true;
      resume(ts);
      return;
    }
    if (ts.buffer && info.instruction_pointer == RRX_UNTRACED_IP) {
      if (ts.desched.open()) {
        if (auto h = buffer_header(ts); h && h->desched_armed) {
          // (Traced fully, the event is never armed: the call that may
          // block is given back, and made traced at once.)
          skip_to_give_back(ts, info);
          return;
        }
      }
      // A buffered call seen because this task is traced fully (its own
      // seccomp filter): the library records it; the flush makes its event.
      ts.in_buffered_call = true;
      resume(ts);
      return;
    }
    if (emu_.stop_at_syscall_entry(ts.task->tid())) {
      ts.emu_entry_stop = WaitStatus{WaitStatus::Kind::SyscallStop};
      hold_for_tracer(ts);
      return;
    }
    on_syscall_entry(ts, info);
  } else if (info.op == KernelSyscallInfo::kExit) {
    ts.in_syscall = false;
    if (ts.desched_give_back) {
      // (The skipped call left its arguments in their registers.)
      ts.desched_give_back = false;
      const user_regs_struct r = ts.task->regs();
      const uint64_t args[6] = {r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9};
      auto h = buffer_header(ts);
      give_back(ts, h ? h->desched_nr : ts.pending.nr, args);
      return;
    }
    if (!started_ || ts.in_buffered_call) {
      ts.in_buffered_call = false;
      resume(ts);
      return;
    }
    on_syscall_exit(ts, info);
  } else {
    resume(ts);
  }
}

// The fast path's seccomp stop (SECCOMP_RET_TRACE): the entry of a call
// that is not buffered, before the kernel runs it; the exit stop follows as
// after an entry stop. A task traced fully (its own filters) has had its
// entry stop already: this one is passed.
void Recorder::on_seccomp_stop(TaskState& ts) {
  KernelSyscallInfo info = ts.task->syscall_info();
  // (A task traced fully had its entry stop first: in_syscall. One that
  // just became traced fully, resumed to this seccomp stop, had none.)
  if (ts.in_syscall) {
    if (ts.seccomp && info.op == KernelSyscallInfo::kSeccomp) {
      // The program's own filters said SECCOMP_RET_TRACE: without rrx no
      // seccomp-aware tracer would answer, and the call fails with ENOSYS
      // (what the recorder's entry stop expects, Outcome::Enosys).
      seccomp::Verdict v = ts.seccomp->verdict(
          seccomp_data(info, static_cast<int64_t>(info.seccomp.nr), reinterpret_cast<const uint64_t*>(info.seccomp.args)));
      if (v.outcome == seccomp::Outcome::Enosys) {
        user_regs_struct r = ts.task->regs();
        r.orig_rax = static_cast<uint64_t>(-1);
        ts.task->set_regs(r);
      }
    }
    resume(ts);
    return;
  }
  if (info.op != KernelSyscallInfo::kSeccomp) {
    resume(ts);
    return;
  }
  info.op = KernelSyscallInfo::kEntry;  // (nr and args lie where an entry's do)
  ts.in_syscall = true;
  ts.at_syscall_boundary = false;
  if (!started_) {
    resume(ts);
    return;
  }
  if (emu_.stop_at_syscall_entry(ts.task->tid())) {
    WaitStatus w{WaitStatus::Kind::EventStop};
    w.event = PTRACE_EVENT_SECCOMP;
    w.sig = SIGTRAP;
    ts.emu_entry_stop = w;
    ts.in_syscall = false;
    hold_for_tracer(ts);
    return;
  }
  on_syscall_entry(ts, info, true);
}

void Recorder::flush_buffer(TaskState& ts) {
  auto since = RecordStats::Clock::now();
  // One record, the table's ranges and a reason at a time, kept from flush
  // to flush: no allocation per buffered call.
  static syscallbuf::RecordView c;
  static std::vector<sys::Range> ranges;
  static std::string bad;
  uint64_t count = 0;
  bool maps_changed = false;
  std::span<const uint8_t> published;
  try {
    published = take_published(*ts.task, *ts.buffer);
  } catch (const TaskGone&) {
    throw;
  } catch (const Error& e) {
    abort_recording(e.what());
  }
  syscallbuf::RecordParser records(published);
  for (;;) {
    try {
      if (!records.next(c)) break;
    } catch (const Error& e) {
      abort_recording(e.what());
    }
    if (!syscallbuf::check_record(c, use_desched(), bad, ranges)) {
      abort_recording("syscall buffer of thread " + std::to_string(ts.task->tid()) + ": " + bad);
    }
    // A first segment the size of this event, reused (the default, 1024
    // words, would be allocated and zeroed for every buffered call).
    size_t words = 64 + c.strings.size() * 4 + c.outputs.size() * 4;
    for (const auto& [arg, str] : c.strings) words += str.size() / 8 + 1;
    for (const auto& o : c.outputs) words += o.bytes.size() / 8 + 1;
    capnp::MallocMessageBuilder m(event_scratch(words));
    auto ev = begin_event(m, ts);
    auto sc = ev.initSyscall();
    sc.setNr(c.nr);
    auto args = sc.initArgs(6);
    for (unsigned i = 0; i < 6; ++i) args.set(i, c.args[i]);
    sc.setRet(c.ret);
    sc.setIsError(sys::is_error_return(c.ret));
    sc.setIp(RRX_UNTRACED_IP);
    uint32_t flags = trace::kSyscallBuffered;
    const unsigned stream = c.flags & RRX_RECORD_STREAM_MASK;
    if (stream == RRX_RECORD_TO_STDOUT) flags |= trace::kSyscallToOutput | trace::kSyscallToStdout;
    if (stream == RRX_RECORD_TO_STDERR) flags |= trace::kSyscallToOutput | trace::kSyscallToStderr;
    sc.setFlags(flags);
    if (c.flags & RRX_RECORD_DATA_CRC) {
      sc.setDataCrc(c.data_crc);
      sc.setHasDataCrc(true);
    }
    if ((c.flags & RRX_RECORD_OBJECT_WRITE) && !sys::is_error_return(c.ret)) {
      // A pwrite64 to a shared object: its change (the bytes are the call's own).
      auto change = shared_->on_buffered_write(c.reserved - 1, c.args[3], static_cast<uint64_t>(c.ret));
      if (!change) {
        abort_recording("syscall buffer of thread " + std::to_string(ts.task->tid()) +
                        ": a write to shared file " + std::to_string(c.reserved) + " of the file facts, which has none");
      }
      auto fw = sc.initFileWrites(1)[0];
      fw.setObject(change->id);
      fw.setOffset(change->offset);
      fw.setLength(change->length);
      fw.setSize(change->size);
      fw.setSent(true);
    }
    if (!c.strings.empty()) {
      auto strs = sc.initStrings(static_cast<unsigned>(c.strings.size()));
      for (unsigned i = 0; i < c.strings.size(); ++i) {
        strs[i].setArg(static_cast<uint8_t>(c.strings[i].first));
        strs[i].setValue(bytes(c.strings[i].second.data(), c.strings[i].second.size()));
      }
    }
    if (!c.outputs.empty()) {
      auto mw = sc.initMemWrites(static_cast<unsigned>(c.outputs.size()));
      for (unsigned i = 0; i < c.outputs.size(); ++i) {
        mw[i].setAddr(c.outputs[i].addr);
        mw[i].setData(bytes(c.outputs[i].bytes.data(), c.outputs[i].bytes.size()));
      }
    }
    writer_->append(m);
    apply_to_signals(c, ts.signals);
    if (const sys::SyscallDesc* d = sys::lookup(c.nr); d && (d->flags & sys::kMapsMemory)) {
      maps_changed = true;
      return_slots_.on_mapping_call(ts.tgid, c.nr, c.args);
      // (The rdtsc sites' bookkeeping of a munmap; a buffered call makes no code.)
      if (tsc_patch_ && !sys::is_error_return(c.ret)) tsc_sites_.after_call(*ts.task, ts.tgid, c.nr, c.args, c.ret);
    }
    ++count;
  }
  if (maps_changed) {
    // A buffered munmap, brk or mprotect (never one that makes code
    // executable): what the patchers read of the maps is old. (Threads are
    // serialized, so no other thread's traced call came between the
    // buffered call and this flush.)
    site_patches_.maps_changed();
    cpuid_sites_.maps_changed();
  }
  if (stats_) stats_->flush(count, RecordStats::Clock::now() - since);
}

// Runs `f` (remote calls in the thread); true when a SIGKILL ended the
// thread meanwhile: its death is handled here, and `ts` may be gone. A
// SIGKILL takes a traced thread out of any stop at once (ptrace on it then
// fails with ESRCH while it runs to its PTRACE_EVENT_EXIT stop, then to its
// death), so the thread's next wait status is that stop or its death: rrx
// waits for it and handles it as the stop loop would (or, where the remote
// call's own wait already reaped it, takes its death). (Taking ESRCH alone
// for the death left the exit stop, reported later for a thread rrx had
// forgotten, stopped for ever: the tree hung.)
template <typename F>
bool Recorder::killed_during(TaskState& ts, F&& f) {
  try {
    f();
    return false;
  } catch (const Error&) {
    const pid_t tid = ts.task->tid();
    errno = 0;
    const bool stopped = ::ptrace(PTRACE_PEEKUSER, tid, nullptr, nullptr) != -1 || errno != ESRCH;
    int status = 0;
    // Stopped: dead only if that stop is its exit stop, not yet waited for.
    pid_t got;
    do {
      got = ::waitpid(tid, &status, __WALL | (stopped ? WNOHANG : 0));
    } while (got < 0 && errno == EINTR);
    if (got < 0 && errno == ECHILD && !stopped) {
      // Already reaped: the remote call's own wait took its death.
      WaitStatus w{WaitStatus::Kind::Killed};
      w.sig = SIGKILL;
      forget_queued(ts);
      on_death(ts, w);
      return true;
    }
    if (got != tid) throw;
    WaitStatus w = WaitStatus::decode(status);
    if (!is_dying(w)) throw;
    forget_queued(ts);
    handle_stop_or_death(ts, w);
  }
  return true;
}

// The header of the thread's syscall buffer, or nothing (none, or unreadable).
std::optional<rrx_buffer_header> Recorder::buffer_header(TaskState& ts) {
  rrx_buffer_header h;
  if (!ts.buffer || !ts.task->read_exact(ts.buffer->addr, &h, sizeof h)) return std::nullopt;
  return h;
}

bool Recorder::is_desched_fd(pid_t tgid, uint64_t fd) const {
  for (const auto& [tid, t] : tasks_) {
    if (t.tgid == tgid && t.desched.open() && static_cast<uint64_t>(t.desched.fd) == fd) return true;
  }
  if (auto spare = spare_desched_fds_.find(tgid); spare != spare_desched_fds_.end()) {
    for (int f : spare->second) {
      if (static_cast<uint64_t>(f) == fd) return true;
    }
  }
  return false;
}

// A signal stop for RRX_DESCHED_SIGNAL: when it is the thread's desched
// event's, it is never delivered. The event is disabled; a thread inside
// its armed window (core/syscallbuf_abi.h, "Desched") has its interrupted
// call made again, and goes on to its next syscall entry (on_syscall_stop:
// the call, taken over as a traced one, or the disarm, the call done).
bool Recorder::on_desched_signal(TaskState& ts, const siginfo_t& si) {
  if (!ts.desched.open() || !is_desched_signal(si, ts.desched)) return false;
  disarm(ts.desched);
  if (!take_over_interrupted_call(ts)) {
    if (stats_) stats_->desched(RecordStats::Desched::Late);
    resume(ts, 0);
  }
  return true;
}

// A thread stopped inside its armed window: its event off, an interrupted
// call made again from the untraced instruction, resumed to its next entry.
// False when it is not in its window.
bool Recorder::take_over_interrupted_call(TaskState& ts) {
  const DeschedEvent& ev = ts.desched.open() ? ts.desched : ts.desched_of_parent;
  if (!ev.open()) return false;
  auto h = buffer_header(ts);
  if (!h || !h->desched_armed) return false;
  disarm(ev);
  user_regs_struct r = ts.task->regs();
  if (interrupted_at_untraced(r)) {
    // It blocked: given back, to be made again traced.
    const uint64_t args[6] = {r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9};
    r.orig_rax = static_cast<uint64_t>(-1);  // (no restart of the kernel's)
    ts.task->set_regs(r);
    if (stats_) stats_->desched(RecordStats::Desched::GivenBack);
    give_back(ts, h->desched_nr, args);
    return true;
  } else if (r.rip == RRX_UNTRACED_IP) {
    // The call completed (the thread was only preempted, often by rrx
    // itself, woken by the thread its write woke): the library records it
    // as usual. One stop.
    if (stats_) stats_->desched(RecordStats::Desched::Spurious);
    resume(ts, 0);
    return true;
  }
  if (stats_) stats_->desched(RecordStats::Desched::BeforeCall);
  ts.desched_step = true;
  resume(ts, 0);
  return true;
}

// The call of the library's that may block, at its untraced instruction's
// entry (a thread resumed from a desched stop, or traced fully): skipped
// (nr -1), given back at its exit stop.
void Recorder::skip_to_give_back(TaskState& ts, const KernelSyscallInfo& info) {
  ts.pending = PendingSyscall{};
  ts.pending.nr = static_cast<int64_t>(info.entry.nr);
  std::memcpy(ts.pending.args, info.entry.args, sizeof ts.pending.args);
  user_regs_struct r = ts.task->regs();
  r.orig_rax = static_cast<uint64_t>(-1);
  ts.task->set_regs(r);
  ts.desched_give_back = true;
  if (stats_) stats_->desched(RecordStats::Desched::GivenBackAtEntry);
  resume(ts);
}

// The thread's call that may block returns RRX_DESCHED_GIVEN_BACK, an event
// of its own (core/syscallbuf_abi.h, "Desched"): the library then makes it
// traced, and the replay answers it from this event. The thread stands
// after its untraced instruction.
void Recorder::give_back(TaskState& ts, int64_t nr, const uint64_t args[6]) {
  user_regs_struct r = ts.task->regs();
  r.rax = static_cast<uint64_t>(RRX_DESCHED_GIVEN_BACK);
  ts.task->set_regs(r);
  ts.pending = PendingSyscall{};
  ts.pending.nr = nr;
  std::memcpy(ts.pending.args, args, sizeof ts.pending.args);
  ts.pending.refused = true;  // (nothing ran: no bytes sent to digest)
  append_syscall_event(ts, RRX_DESCHED_GIVEN_BACK, false, RRX_UNTRACED_IP, r.rsp, {}, 0);
  ts.pending = PendingSyscall{};
  ts.signals.left_kernel();
  resume(ts);
}

// The name of a pending call: an int $0x80 call's from the i386 table.
std::string call_name(const PendingSyscall& p) {
  return p.i386 ? "int $0x80 " + sys::i386_syscall_name(p.nr) : sys::syscall_name(p.nr);
}

// RRX_CALL_FD_INFO (core/syscallbuf_abi.h): whether the library must leave
// writes to fd traced: a shared object (its changes are recorded),
// /proc/PID/mem (it writes memory); or marks them as rrx's own output
// (replay re-emits it).
int64_t Recorder::buffered_fd_info(TaskState& ts, uint64_t fd_arg) {
  if (fd_arg > INT32_MAX) return -EBADF;
  const int fd = static_cast<int>(fd_arg);
  struct stat st {};
  if (::stat(("/proc/" + std::to_string(ts.task->tid()) + "/fd/" + std::to_string(fd)).c_str(), &st) != 0) return -EBADF;
  bool traced = shared_->is_object_fd(ts.task->tid(), fd);
  if (!traced) {
    TaskMemReader mem(*ts.task);
    traced = mem.mem_file(fd).has_value();
  }
  if (traced) return RRX_FD_INFO_TRACE_WRITES;
  switch (output_of(ts, fd)) {
    case 1: return RRX_FD_INFO_STDOUT;
    case 2: return RRX_FD_INFO_STDERR;
    default: return 0;
  }
}

// After a call that may give an fd number another file (a kFdEpoch row), or
// that made a file a shared object (every process: any may write to it):
// raise the fd epoch of the processes that run the library, as memory
// writes of the call's event, so the replay raises them at the same point.
void Recorder::raise_fd_epochs(TaskState& ts, bool all_processes, std::vector<sys::Range>& outputs) {
  std::set<pid_t> done;
  for (auto& [tid, other] : tasks_) {
    if (!other.buffer || done.count(other.tgid) || (!all_processes && other.tgid != ts.tgid)) continue;
    done.insert(other.tgid);
    for (auto r : {raise_fd_epoch(*other.task),
                   all_processes ? publish_file_facts(*other.task, file_facts()) : std::nullopt}) {
      if (!r) continue;
      if (other.tgid != ts.tgid) {
        r->pid = other.tgid;
        r->recorder_pid = true;
      }
      outputs.push_back(*r);
    }
  }
}

// After a call that may change must_see_every_call of some thread (a ptrace
// request, a seccomp mode, a new buffer): the trace_all of each buffer whose
// threads' answer changed, as memory writes of the call's event, so the
// replay changes it at the same point. (A buffer shared by tasks, see
// on_new_task, is set while any of them must be seen.)
void Recorder::sync_trace_all(TaskState& ts, std::vector<sys::Range>& outputs) {
  std::map<BufferCursor*, std::pair<TaskState*, bool>> want;
  for (auto& [tid, other] : tasks_) {
    if (!other.buffer) continue;
    auto& w = want[other.buffer.get()];
    if (!w.first) w.first = &other;
    w.second = w.second || must_see_every_call(other);
  }
  for (auto& [cursor, w] : want) {
    if (cursor->trace_all == w.second) continue;
    if (auto r = set_trace_all(*w.first->task, *cursor, w.second)) {
      if (w.first->tgid != ts.tgid) {
        r->pid = w.first->tgid;
        r->recorder_pid = true;
      }
      outputs.push_back(*r);
    }
  }
}

// Re-raises the first held asynchronous signal (on_signal delivers it with
// its original siginfo when its stop comes), unless one is on its way.
void Recorder::inject_held_signal(TaskState& ts) {
  if (ts.held_signals.empty() || ts.injecting_signal != 0) return;
  ts.injecting_signal = ts.held_signals.front().si_signo;
  ::syscall(SYS_tgkill, ts.tgid, ts.task->tid(), ts.injecting_signal);
}

// What the library may decide for itself about the fds it writes to
// (core/syscallbuf_abi.h, struct rrx_file_facts).
rrx_file_facts Recorder::file_facts() const {
  rrx_file_facts f{};
  f.known = 1;
  f.crc32_insn = __builtin_cpu_supports("sse4.2") ? 1 : 0;
  f.desched_floor = desched_floor_;
  for (int i = 0; i < 2; ++i) {
    f.output_dev[i] = output_stat_[i].st_dev;
    f.output_ino[i] = output_stat_[i].st_ino;
  }
  auto shared = shared_->file_inodes();
  f.shared_files = static_cast<uint32_t>(shared.size());
  for (size_t i = 0; i < shared.size() && i < RRX_MAX_SHARED_FILES; ++i) {
    f.shared_dev[i] = shared[i].first;
    f.shared_ino[i] = shared[i].second;
  }
  return f;
}

void Recorder::on_syscall_entry(TaskState& ts, const KernelSyscallInfo& info, bool at_seccomp_stop) {
  PendingSyscall& p = ts.pending;
  p = PendingSyscall{};
  if (emu_.interrupting(ts.task->tid())) {
    // This stop took the real interrupt's place (any ptrace-stop does): the
    // call is interrupted again, if it would wait, and its exit stop is the
    // tracer's PTRACE_EVENT_STOP (on_syscall_exit).
    ts.task->interrupt();
  }
  ts.syscall_since = std::chrono::steady_clock::now();
  p.nr = static_cast<int64_t>(info.entry.nr);
  std::memcpy(p.args, info.entry.args, sizeof p.args);
  p.ip = info.instruction_pointer;
  p.sp = info.stack_pointer;
  if (stats_) {
    stats_->name_stop((info.arch != AUDIT_ARCH_X86_64 ? "int $0x80 " : "") + sys::syscall_name(p.nr) +
                      (ts.buffer ? "" : options_.syscallbuf ? " (no library yet)" : ""));
  }
  if (info.arch != AUDIT_ARCH_X86_64) {
    // int $0x80 from a 64-bit program: the i386 table, which rrx has no
    // rows for (its numbers name other calls in the 64-bit one). Its
    // arguments are what the kernel would take: the low halves of ebx, ecx...
    p.i386 = true;
    p.refused = true;
    for (uint64_t& a : p.args) a &= 0xffffffffu;
  } else if (p.nr == -1) {
    // No call at all: the kernel skips nr -1 and returns rax as it is (a
    // tracer inside the tree skipped it: PTRACE_SYSEMU, or orig_rax or
    // PTRACE_SET_SYSCALL_INFO set to -1; or the program called syscall(-1),
    // whose rax is -ENOSYS).
    p.emulated_ret = static_cast<int64_t>(ts.task->regs().rax);
  } else {
    p.desc = sys::lookup(p.nr);
  }
  if (p.desc) {
    for (int i = 0; i < 6; ++i) {
      if ((p.desc->args[i] == sys::Arg::Path || p.desc->args[i] == sys::Arg::Str) && p.args[i] != 0) {
        p.strings.emplace_back(i, ts.task->read_string(p.args[i]));
      }
    }
    if (p.desc->replay_policy(p.args) == sys::Replay::Unsupported || p.desc->special == sys::Special::Rseq) {
      p.refused = true;
    } else if (int err = p.desc->refuse_by_args ? p.desc->refuse_by_args(p.args) : 0) {
      // Refused by argument; the program has a fallback (madvise MADV_FREE).
      p.refused = true;
      p.quiet_refusal = true;
      p.refusal_errno = err;
    }
    if (p.desc->sends.shape != sys::Sends::None) p.output = output_of(ts, static_cast<int64_t>(p.args[0]));
    if (p.desc->special == sys::Special::Mmap && !(p.args[3] & MAP_ANONYMOUS) &&
        is_perf_event_fd(ts.task->tid(), static_cast<int>(p.args[4]), &p.map_fd_stat)) {
      // The kernel writes samples into a perf ring buffer at any time,
      // bytes no syscall returns. Counting (read of the fd) is recorded.
      p.refused = true;
      p.refusal_errno = ENODEV;
      p.refusal_reason = "of a perf_event fd (its ring buffer)";
    }
    if (int64_t fd = fd_closed_by(p.nr, p.args); fd >= 0 && is_desched_fd(ts.tgid, static_cast<uint64_t>(fd))) {
      // rrx's own fd (a thread's desched event): not the program's to close
      // or replace; to it the number is not open.
      p.refused = true;
      p.quiet_refusal = true;
      p.refusal_errno = EBADF;
    }
    if (output_of(ts, data_move_target(p.nr, p.args)) != 0) {
      // The kernel would copy file data straight to stdout/stderr, bytes the
      // trace does not hold, so replay could not re-emit them. ENOSYS makes
      // the program fall back to read+write, which replay re-emits.
      p.refused = true;
      p.quiet_refusal = true;
    }
  } else if (!p.refused && !p.emulated_ret) {
    p.refused = true;
  }
  if (ts.seccomp) {
    // The kernel runs the program's filters right after this stop.
    seccomp::Verdict v = ts.seccomp->verdict(seccomp_data(info, p.nr, p.args));
    if (!v.runs()) {
      on_seccomp_refusal(ts, v);
      return;
    }
  }
  if (p.refused && p.desc && p.desc->special != sys::Special::Rseq && !p.quiet_refusal) {
    std::string name = call_name(p);
    if (options_.strict) {
      abort_recording(options_.argv[0] + " called " + name +
                      ", which rrx cannot record (--strict)");
    }
  }
  if (p.refused && !p.desc) {
    std::string name = call_name(p);
    if (options_.strict) {
      abort_recording(options_.argv[0] + " called " + name +
                      ", which rrx does not know how to record (--strict)");
    }
  }
  if (p.desc) ts.signals.at_entry(*ts.task, *p.desc, p.args);
  if (p.desc && (p.desc->flags & sys::kMapsMemory) && !p.refused) return_slots_.on_mapping_call(ts.tgid, p.nr, p.args);
  if (!p.refused && p.desc && p.desc->special == sys::Special::Prctl) {
    p.emulated_ret = ThreadSignals::skipped_prctl_result(p.args);
  }
  if (!p.refused && p.desc && p.desc->special == sys::Special::Affinity) {
    p.emulated_ret = affinity_.at_entry(*ts.task, ts.task->tid(), p.nr, p.args, in_tree());
  }
  if (!p.refused && p.desc && (p.desc->special == sys::Special::Ptrace || p.desc->special == sys::Special::Wait)) {
    bool held = false;
    emulate_at_entry(ts, &held);
    if (held) return;
  }
  ts.kernel_regs.reset();
  if (!p.refused && p.desc && (p.desc->flags & sys::kMayBlock)) {
    // A held asynchronous signal was due when the thread ran user code: it
    // is pending for this call as it would have been without rrx, so a call
    // that would wait (for a pipe, for the signal's own sender, or forever:
    // a SIGSTOP whose sender waits for the stop) is interrupted by it, and
    // it is delivered at the exit as at any boundary. Held until the exit,
    // it would wait behind a call that may never return.
    inject_held_signal(ts);
  }
  if (p.nr == RRX_CALL_INIT_BUFFER) {
    // The library registers this thread's buffer; without the fast path (or
    // from a library of another version) it records nothing in-process.
    bool yes = options_.syscallbuf && p.args[2] == RRX_SYSCALLBUF_VERSION && p.args[1] == RRX_BUFFER_BYTES &&
               info.instruction_pointer == RRX_TRACED_IP;
    // (The library's constructor after the early set-up registers the same
    // buffer again: the records taken from it stay taken.)
    if (yes && !(ts.buffer && ts.buffer->addr == p.args[0])) {
      ts.buffer = std::make_shared<BufferCursor>(BufferCursor{p.args[0], 0, 0});
    }
    p.emulated_ret = yes ? 0 : -ENOSYS;
  }
  if (options_.syscallbuf && !p.refused && !p.emulated_ret && p.desc) {
    // Strict mode under the fast path: the kernel refuses it (EINVAL) once
    // rrx's filter is installed, so rrx keeps it for the kernel: the call
    // succeeds, the thread's state says strict, and on_seccomp_refusal ends
    // the thread at its first call strict mode forbids (replay kills it
    // there with real strict mode: seccomp_replay.cpp).
    auto in = seccomp_install_of(*ts.task, p.nr, p.args);
    if (in && in->request.strict) {
      p.seccomp_install = std::move(in);
      p.emulated_ret = 0;
    }
  }
  if (p.nr == RRX_CALL_FD_INFO) p.emulated_ret = ts.buffer ? buffered_fd_info(ts, p.args[0]) : -ENOSYS;
  if (p.nr == RRX_CALL_RECORDING) p.emulated_ret = ::getpid();
  // (Libraries before ABI 13 asked for their desched fd so; this rrx's own,
  // the only one it records with, gets it from RRX_CALL_INIT_BUFFER.)
  if (p.nr == RRX_CALL_DESCHED_FD) p.emulated_ret = -ENOSYS;
  if (p.emulated_ret) {
    // Skipped: the kernel runs no syscall for nr -1 (or another one the
    // program's filters let through, see skip_number); rax is set at the
    // exit stop.
    user_regs_struct r = ts.task->regs();
    r.orig_rax = static_cast<uint64_t>(ts.seccomp ? skip_number(*ts.seccomp, info, p.args) : -1);
    ts.task->set_regs(r);
  } else if (p.refused) {
    if (!(p.desc && p.desc->special == sys::Special::Rseq) && !p.quiet_refusal) {
      std::string name = call_name(p);
      // (A row whose policy depends on the arguments, such as a seccomp
      // filter with a user-notification listener, is refused for those.)
      bool by_args = p.desc && p.desc->replay != sys::Replay::Unsupported;
      std::string what = p.refusal_reason.empty() ? (by_args ? " with these arguments" : "") : " " + p.refusal_reason;
      std::string msg = name + " (" + (p.i386 ? "i386 syscall " : "syscall ") + std::to_string(p.nr) +
                        ")" + what + " is not supported by rrx; it failed with " + sys::errno_name(p.refusal_errno) +
                        " in the recording";
      warn(ts, msg);
    }
    // Skip it: the kernel runs no syscall for nr -1 (or another one the
    // program's filters let through, see skip_number); rax is set at the
    // exit stop.
    user_regs_struct r = ts.task->regs();
    r.orig_rax = static_cast<uint64_t>(ts.seccomp ? skip_number(*ts.seccomp, info, p.args) : -1);
    ts.task->set_regs(r);
  } else if (p.desc && p.desc->special == sys::Special::Clone && p.nr == SYS_clone && (p.args[0] & CLONE_UNTRACED)) {
    // CLONE_UNTRACED would keep the child from rrx (LeakSanitizer's tracer
    // thread asks for it): the kernel runs the call without it, the trace
    // keeps the program's flags, and replay does the same.
    user_regs_struct r = ts.task->regs();
    r.rdi = p.args[0] & ~static_cast<uint64_t>(CLONE_UNTRACED);
    ts.task->set_regs(r);
  } else if (p.desc && (p.seccomp_install = seccomp_install_of(*ts.task, p.nr, p.args))) {
    // Applied to the task's state at a successful exit.
  } else if (p.desc && p.desc->special == sys::Special::Exit) {
    // exit/exit_group never return: record the call now.
    append_syscall_event(ts, 0, false, p.ip, p.sp, {}, 0);
    p.recorded_at_entry = true;
  } else if (p.desc && (p.desc->flags & sys::kMayBlock) && tasks_.size() > 1 && p.output == 0) {
    // It may wait for another task: others run while it is in the kernel.
    // Not a write to rrx's output: that one keeps the CPU, so the order of
    // the events is the order in which the bytes reached the output, which
    // replay re-emits. (Only if it stays blocked for a whole time slice, the
    // output being full, do others run: check_time_slice. Its reader may be
    // waiting for one of them.)
    if (!ts.entry_recorded) write_syscall_entry(ts);  // (a wait restarted by rrx has its entry)
    ts.kernel_regs = ts.task->regs();  // a tracer inside the tree may ask for them while it waits
    enter_kernel(ts);
    return;
  } else if (p.desc && p.desc->special == sys::Special::Execve && threads_of(ts.tgid) > 1) {
    // exec in a multi-threaded process waits for the kernel to end the
    // other threads, which must run to their exits meanwhile. The file
    // is kept now: replay runs that copy.
    write_syscall_entry(ts, stored_exec_target(ts));
    execing_[ts.tgid] = ts.task->tid();
    enter_kernel(ts);
    return;
  }
  if (at_seccomp_stop && use_return_slots_ && (answer_at_seccomp_stop(ts, info) || complete_at_seccomp_stop(ts))) return;
  resume(ts);
}

// A thread back from a call it entered at a site that was patched while it
// was inside goes on at the same place in the site's stub (site_patch.h,
// resume_ip); its exit event says so (resumeIp), for replay to do the same.
void Recorder::move_out_of_patch(TaskState& ts, KernelSyscallInfo& info) {
  if (!options_.syscallbuf) return;
  uint64_t to = site_patches_.resume_ip(ts.tgid, info.instruction_pointer);
  if (to == 0) return;
  user_regs_struct r = ts.task->regs();
  r.rip = to;
  ts.task->set_regs(r);
  info.instruction_pointer = to;
  ts.resume_ip = to;
}

// Where the other threads of ts's process will resume (busy) and where
// those inside a traced call return to (in_call): a patch must not
// overwrite the bytes after an instruction one of them is at. False when
// one is running (where is unknown: no patch now).
bool Recorder::patch_holds(TaskState& ts, std::vector<uint64_t>* busy, std::vector<uint64_t>* in_call) {
  for (auto& [tid, other] : tasks_) {
    if (&other == &ts || other.tgid != ts.tgid || !other.task) continue;
    if (other.in_syscall) {
      // (A clone's child starts where the parent returns to, and rrx does
      // not move it: the patch waits for that call's end.)
      bool clones = other.pending.desc && other.pending.desc->special == sys::Special::Clone;
      (clones ? busy : in_call)->push_back(other.pending.ip);
    } else if (other.at_syscall_boundary) {
      busy->push_back(other.boundary_ip);
    } else {
      try {
        busy->push_back(other.task->regs().rip);
      } catch (const Error&) {
        return false;
      }
    }
  }
  return true;
}

void Recorder::append_site_patch(TaskState& ts, const AppliedPatch& done) {
  capnp::MallocMessageBuilder m;
  auto ev = begin_event(m, ts);
  fill_site_patch(ev.initSitePatch(), done);
  writer_->append(m);
}

void Recorder::patch_site(TaskState& ts, uint64_t ip_after) {
  if (ts.vfork_child || ip_after < 2) return;
  const uint64_t site = ip_after - 2;
  if (site >= RRX_PAGE_ADDR && site < RRX_PAGE_ADDR + RRX_PAGE_SIZE) return;
  // (Before patch_holds, which reads the registers of the other threads: a
  // call the buffer does not take, made at a stub's own syscall, comes here
  // at every call.)
  if (site_patches_.settled(*ts.task, ts.tgid, site)) return;
  std::vector<uint64_t> busy, in_call;
  if (!patch_holds(ts, &busy, &in_call)) return;
  std::vector<siginfo_t> arrived;
  auto since = RecordStats::Clock::now();
  std::optional<AppliedPatch> done = site_patches_.patch(*ts.task, ts.tgid, site, busy, in_call, &arrived);
  if (stats_) stats_->site_patch(done.has_value(), RecordStats::Clock::now() - since);
  ts.held_signals.insert(ts.held_signals.end(), arrived.begin(), arrived.end());
  if (!done) return;
  // The thread, at the call's exit, now returns into the stub: a signal the
  // call left pending (an rt_sigprocmask that unblocked it) stops it there,
  // still at this syscall boundary, and is delivered there, as unpatched.
  if (done->new_ip != 0 && ts.at_syscall_boundary && ts.boundary_ip == ip_after) ts.boundary_ip = done->new_ip;
  append_site_patch(ts, *done);
}

bool Recorder::library_ready(const TaskState& ts) const {
  if (ts.buffer) return true;
  for (const auto& [tid, other] : tasks_) {
    if (other.tgid == ts.tgid && other.buffer) return true;
  }
  return false;
}

// The library is ready in ts's process (its buffer set up, ts at that
// call's exit inside the library): the sites patched in the same files by
// earlier processes are patched now (SitePatches::patch_known_sites).
void Recorder::patch_known_sites(TaskState& ts) {
  if (ts.vfork_child) return;
  std::vector<uint64_t> busy, in_call;
  if (!patch_holds(ts, &busy, &in_call)) return;
  std::vector<siginfo_t> arrived;
  auto since = RecordStats::Clock::now();
  std::vector<AppliedPatch> done = site_patches_.patch_known_sites(*ts.task, ts.tgid, busy, in_call, &arrived);
  if (stats_) stats_->known_sites_patched(done.size(), RecordStats::Clock::now() - since);
  ts.held_signals.insert(ts.held_signals.end(), arrived.begin(), arrived.end());
  for (const AppliedPatch& p : done) append_site_patch(ts, p);
}

bool Recorder::early_setup_due(const TaskState& ts, const PendingSyscall& p, const MapEffects& maps) const {
  return hook_table_ && p.desc && p.desc->special == sys::Special::Mmap && (p.args[2] & PROT_WRITE) &&
         !(p.args[3] & MAP_ANONYMOUS) && !ts.vfork_child && !ts.in_vfork && !must_see_every_call(ts) &&
         maps.name == preload_library_name_ && !library_ready(ts);
}

// The loader has mapped the library (ts at the exit of that mmap, which
// returned `ret`): the pages, the thread-locals and the buffer set up as the
// library's constructor would, one event, then the sites known from earlier
// processes of the program (the loader's) patched.
void Recorder::set_up_early_library(TaskState& ts, const PendingSyscall& p, int64_t ret) {
  ProcMapping m;
  m.start = static_cast<uint64_t>(ret);
  m.offset = p.args[5];
  std::optional<uint64_t> bias = load_bias(preload_loads_, m);
  if (!bias) return;
  std::vector<siginfo_t> arrived;
  std::optional<EarlySetup> done;
  if (killed_during(ts, [&] { done = set_up_early(*ts.task, *bias, *hook_table_, &arrived); })) return;
  ts.held_signals.insert(ts.held_signals.end(), arrived.begin(), arrived.end());
  if (!done) return;
  ts.buffer = std::make_shared<BufferCursor>(BufferCursor{done->buffer, 0, 0});
  early_procs_.insert(ts.tgid);
  site_patches_.maps_changed();
  cpuid_sites_.maps_changed();
  append_preload_early(ts, *done);
  patch_known_sites(ts);
}

void Recorder::append_preload_early(TaskState& ts, const EarlySetup& e) {
  capnp::MallocMessageBuilder m;
  auto ev = begin_event(m, ts);
  fill_preload_early(ev.initPreloadEarly(), e);
  writer_->append(m);
}

bool Recorder::other_threads_ips(TaskState& ts, std::vector<uint64_t>* ips) {
  for (auto& [tid, other] : tasks_) {
    if (&other == &ts || other.tgid != ts.tgid || !other.task) continue;
    if (other.in_syscall) {
      ips->push_back(other.pending.ip);
    } else if (other.at_syscall_boundary) {
      ips->push_back(other.boundary_ip);
    } else {
      try {
        ips->push_back(other.task->regs().rip);
      } catch (const Error&) {
        return false;
      }
    }
  }
  return true;
}

void Recorder::patch_tsc_sites(TaskState& ts, bool exec, const PendingSyscall* p, int64_t ret) {
  AppliedTscPatches done;
  if (exec) {
    done = tsc_sites_.at_exec(*ts.task, ts.tgid);
  } else {
    done = tsc_sites_.after_call(*ts.task, ts.tgid, p->nr, p->args, ret);
    if (done.anonymous_exec && !warned_jit_) {
      warned_jit_ = true;
      warn(ts, "process " + std::to_string(ts.tgid) + " made anonymous memory executable (code made at run time, a JIT?): " +
                   "rdtsc does not trap on this machine, and an rdtsc in such code is not recorded; a replay may diverge after it");
    }
  }
  if (done.empty()) return;
  capnp::MallocMessageBuilder m;
  auto ev = begin_event(m, ts);
  fill_tsc_patches(ev.initTscPatches(), done);
  writer_->append(m);
  for (const std::string& w : tsc_unconfirmed_warnings(done)) warn(ts, w);
}

void Recorder::patch_cpuid_sites(TaskState& ts, uint64_t trapped_site) {
  if (ts.vfork_child || ts.cpuid_untrapped) return;  // (a vfork child's memory is its parent's)
  std::vector<siginfo_t> arrived;
  std::optional<AppliedCpuidPatches> done;
  if (trapped_site == 0) {
    done = cpuid_sites_.at_exec(*ts.task, ts.tgid, &arrived);
  } else {
    std::vector<uint64_t> busy;
    if (!other_threads_ips(ts, &busy)) return;
    done = cpuid_sites_.after_trap(*ts.task, ts.tgid, trapped_site, busy, &arrived);
  }
  ts.held_signals.insert(ts.held_signals.end(), arrived.begin(), arrived.end());
  if (!done) return;
  capnp::MallocMessageBuilder m;
  auto ev = begin_event(m, ts);
  fill_cpuid_patches(ev.initCpuidPatches(), *done);
  writer_->append(m);
}

// The program's own seccomp filters refuse the call at this entry stop (the
// kernel runs them next): it runs none of its code, so rrx neither refuses
// it (no warning: the kernel refuses it as it would without rrx), nor lets
// others run meanwhile, nor records an exit at entry. A call the filters
// kill the thread or process at is recorded now, since it never returns;
// the others are recorded at their exit stop, with the result the kernel
// gave (-errno; for RET_TRAP, rax rolled back to the syscall number, and the
// SIGSYS follows).
void Recorder::on_seccomp_refusal(TaskState& ts, const seccomp::Verdict& verdict) {
  PendingSyscall& p = ts.pending;
  p.refused = false;
  p.quiet_refusal = false;
  p.output = 0;
  p.seccomp_verdict = verdict;
  if (verdict.kills()) {
    uint32_t flags = trace::kSyscallSeccomp;
    if (verdict.outcome == seccomp::Outcome::StrictKill) flags |= trace::kSyscallSeccompStrict;
    append_syscall_event(ts, 0, false, p.ip, p.sp, {}, flags);
    p.recorded_at_entry = true;
    if (verdict.outcome == seccomp::Outcome::StrictKill && options_.syscallbuf) {
      // Strict mode kept by rrx (on_syscall_entry): the kernel does not
      // enforce it, so rrx ends the thread as it would, by SIGKILL, before
      // the call runs. (SIGKILL ends the whole process: exact for a
      // process of one thread, which is what strict mode allows to start.)
      user_regs_struct r = ts.task->regs();
      r.orig_rax = static_cast<uint64_t>(-1);
      ts.task->set_regs(r);
      ::syscall(SYS_tgkill, ts.tgid, ts.task->tid(), SIGKILL);
    }
  }
  resume(ts);
}

// A seccomp mode the call set: the task's state (every thread's with
// SECCOMP_FILTER_FLAG_TSYNC) when it succeeded (TSYNC's failure returns the
// id of the thread in the way, a positive number).
void Recorder::apply_seccomp_install(TaskState& ts, int64_t ret) {
  const SeccompInstall& in = *ts.pending.seccomp_install;
  if (ret != 0) return;
  auto state = installed(ts.seccomp, in);
  if (in.request.flags & SECCOMP_FILTER_FLAG_TSYNC) {
    for (auto& [tid, other] : tasks_) {
      if (other.tgid == ts.tgid) other.seccomp = state;
    }
  }
  ts.seccomp = state;
}

void Recorder::append_syscall_event(TaskState& ts, int64_t ret, bool is_error, uint64_t ip,
                                    uint64_t sp, const std::vector<sys::Range>& outputs,
                                    uint32_t flags, const MapEffects& maps) {
  const PendingSyscall& p = ts.pending;
  capnp::MallocMessageBuilder m;
  auto ev = begin_event(m, ts);
  auto s = ev.initSyscall();
  s.setNr(p.nr);
  set_args_and_strings(s, p);
  s.setRet(ret);
  s.setIsError(is_error);
  s.setIp(ip);
  s.setSp(sp);
  s.setFlags(flags);
  if (ts.resume_ip != 0) {
    s.setResumeIp(ts.resume_ip);
    ts.resume_ip = 0;
  }
  if (p.seccomp_verdict) {
    s.setSeccompRet(p.seccomp_verdict->ret);
  } else if (p.desc && !p.refused && p.desc->sends.shape != sys::Sends::None) {
    // The bytes it sent, as they are at its exit (what the kernel took).
    sys::CallView call{p.nr, {}, ret};
    std::memcpy(call.args, p.args, sizeof call.args);
    TaskMemReader mem(*ts.task);
    if (std::optional<SentDigest> d = sent_digest(*p.desc, call, mem)) {
      s.setDataCrc(d->crc);
      s.setHasDataCrc(true);
    }
  }
  if (!outputs.empty()) {
    // Each range in the memory it names: the caller's, or another recorded
    // process's (process_vm_writev, /proc/P/mem), stored under one of its
    // threads. A process outside the recorded tree is not replayed: skipped.
    std::vector<std::pair<const sys::Range*, TaskState*>> in;
    for (const sys::Range& r : outputs) {
      TaskState* owner = r.pid == 0       ? &ts
                         : r.recorder_pid ? task_of_process(r.pid)
                                          : task_of_process(task_seen_by(ts.task->tid(), r.pid, recorded_tids()));
      if (owner && owner->tgid == ts.tgid) owner = &ts;
      if (owner) in.emplace_back(&r, owner);
    }
    auto writes = s.initMemWrites(static_cast<unsigned>(in.size()));
    std::string buf;
    for (unsigned i = 0; i < in.size(); ++i) {
      const auto& [range, owner] = in[i];
      buf.resize(range->len);
      size_t n = owner->task->read_mem(range->addr, buf.data(), buf.size());
      writes[i].setAddr(range->addr);
      writes[i].setData(bytes(buf.data(), n));
      if (owner->tgid != ts.tgid) writes[i].setTid(owner->task->tid());
    }
  }
  if (maps.mapped || maps.shared_object != 0) {
    auto fm = s.initMapping();
    if (maps.mapped) fm.setContentHash(maps.mapped->hash);
    fm.setPath(maps.name);
    fm.setFileOffset(maps.offset);
    fm.setFileSize(maps.mapped ? maps.mapped->file_size : maps.size);
    if (maps.mapped && maps.mapped->range_only) {
      fm.setRangeOnly(true);
      fm.setRangeOffset(maps.mapped->range_offset);
      fm.setRangeLength(maps.mapped->size);
    }
    fm.setSharedObject(maps.shared_object);
    fm.setWritable(maps.writable);
  }
  if (maps.change) {
    auto fw = s.initFileWrites(1)[0];
    fw.setObject(maps.change->id);
    fw.setOffset(maps.change->offset);
    fw.setLength(maps.change->length);
    fw.setData(bytes(maps.change->data.data(), maps.change->data.size()));
    fw.setSize(maps.change->size);
  }
  writer_->append(m);
}

// Which of rrx's own outputs fd `fd` of the task refers to: 1 (stdout), 2
// (stderr), or 0 (neither). The same file (device and inode), whatever the
// fd number: dup(1), dup2(1, 7), F_DUPFD, an inherited fd, /dev/tty when
// that is rrx's terminal. When stdout and stderr are the same file (a
// terminal, 2>&1), fd 2 counts as stderr and any other fd as stdout. (A
// shell pipeline's inner stages write to pipes on fd 1: not output.)
int Recorder::output_of(TaskState& ts, int64_t fd) {
  if (fd < 0 || fd > INT32_MAX) return 0;
  struct stat st {};
  std::string path = "/proc/" + std::to_string(ts.task->tid()) + "/fd/" + std::to_string(fd);
  if (::stat(path.c_str(), &st) != 0) return 0;
  // (/dev/null too: a program recorded with its output thrown away shows
  // that output on replay, which is what `rrx record ... >/dev/null` then
  // `rrx replay` is for.)
  auto same = [&](const struct stat& mine) {
    return mine.st_ino != 0 && st.st_dev == mine.st_dev && st.st_ino == mine.st_ino;
  };
  const bool out = same(output_stat_[0]), err = same(output_stat_[1]);
  if (err && (fd == 2 || !out)) return 2;
  return out ? 1 : 0;
}

void Recorder::on_syscall_exit(TaskState& ts, KernelSyscallInfo info) {
  PendingSyscall& p = ts.pending;
  if (stats_) stats_->name_stop(call_name(p) + " exit");
  if (SitePatches::may_change_mappings(p.desc, p.args)) {
    site_patches_.maps_changed();
    cpuid_sites_.maps_changed();
  }
  const bool kicked = ts.wait_kicked;
  ts.in_real_wait = ts.wait_kicked = false;
  move_out_of_patch(ts, info);
  if (kicked && info.exit.rval == -512 /* ERESTARTSYS */) {
    // A wait rrx interrupted (wake_real_waits): no event; the kernel
    // restarts it after the trap stop, and its entry stop comes again (its
    // SyscallEntry event, if written, stands for both).
    p = PendingSyscall{};
    resume(ts);
    return;
  }
  ts.at_syscall_boundary = true;
  ts.boundary_ip = info.instruction_pointer;
  if (p.desc && p.desc->special == sys::Special::Execve && info.exit.rval == 0) {
    // The exec event was recorded at PTRACE_EVENT_EXEC; this is its tail.
    p = PendingSyscall{};
    ts.resume_ip = 0;
    ts.entry_recorded = false;
    // The exec cleared the thread's CPUID faulting; no code of the new
    // program ran yet. (Not at PTRACE_EVENT_EXEC: the execve's own return
    // would overwrite the injected call's registers.)
    // Signals that arrive meanwhile are held for the next syscall boundary.
    if (cpuid_faulting_ && ts.cpuid_untrapped) {
      std::string msg = "process " + std::to_string(ts.tgid) +
                        " has seccomp filters that refuse arch_prctl(ARCH_SET_CPUID): cpuid is not trapped in it, "
                        "and rdrand/rdseed, if it uses them, are not recorded";
      warn(ts, msg);
    } else if (cpuid_faulting_) {
      std::vector<siginfo_t> arrived;
      enable_cpuid_faulting(*ts.task, info.instruction_pointer, &arrived);
      ts.held_signals.insert(ts.held_signals.end(), arrived.begin(), arrived.end());
      if (options_.patch_cpuid) patch_cpuid_sites(ts, 0);
    }
    if (tsc_patch_) patch_tsc_sites(ts, true, nullptr, 0);
    if (use_return_slots_ && !ts.seccomp && !emu_.traced(ts.task->tid())) {
      // The return slot's page, mapped from the new program's first
      // instruction, before any of its code runs.
      std::vector<siginfo_t> arrived;
      if (killed_during(ts, [&] {
            return_slots_.on_exec(*ts.task, ts.tgid, ts.exec_vdso, info.instruction_pointer, &arrived,
                                  seccomp_stops_only(ts));
          })) {
        return;
      }
      ts.held_signals.insert(ts.held_signals.end(), arrived.begin(), arrived.end());
    }
    if (emu_.stop_at_exec(ts.task->tid(), ts.task->tid())) {
      hold_for_tracer(ts);
      return;
    }
    if (test_preempt_at_exec_ && started_ && !ts.preempt_requested) {
      // Interrupted while at its exit stop: it traps before its first instruction.
      ts.preempt_requested = true;
      unless_killed(ts, [&] { ts.task->interrupt(); });
    }
    resume(ts);
    return;
  }
  if (p.recorded_at_entry) {  // cannot happen for exit, kept for safety
    resume(ts);
    return;
  }
  int64_t ret = info.exit.rval;
  bool is_error = info.exit.is_error != 0;
  if (p.desc && p.desc->special == sys::Special::Execve) {
    auto ex = execing_.find(ts.tgid);
    if (ex != execing_.end() && ex->second == ts.task->tid()) {
      // The exec failed: the other threads go on.
      execing_.erase(ex);
      for (auto& [tid, other] : tasks_) {
        if (other.parked) {
          other.parked = false;
          runnable_.push_back(tid);
        }
      }
    }
  }
  uint32_t flags = 0;
  std::vector<sys::Range> outputs;
  MapEffects maps;
  if (p.seccomp_verdict) {
    // Refused by the program's filters: the kernel wrote nothing.
    flags |= trace::kSyscallSeccomp;
  } else if (p.refused) {
    ret = -p.refusal_errno;
    is_error = true;
    flags |= trace::kSyscallRefused;
    if (p.i386) flags |= trace::kSyscallI386;
    user_regs_struct r = ts.task->regs();
    r.rax = static_cast<uint64_t>(ret);
    ts.task->set_regs(r);
  } else if (!p.desc && p.emulated_ret) {  // nr -1: no call
    ret = *p.emulated_ret;
    is_error = sys::is_error_return(ret);
  } else if (p.desc) {
    // The thread's desched event: RRX_CALL_INIT_BUFFER answers 1 + its fd (0: none).
    if (p.nr == RRX_CALL_INIT_BUFFER && p.emulated_ret == 0 && use_desched() && ts.buffer && !ts.desched.open() &&
        info.instruction_pointer == RRX_TRACED_IP) {
      std::vector<siginfo_t> arrived;
      int at = -1;
      if (auto spare = spare_desched_fds_.find(ts.tgid); spare != spare_desched_fds_.end() && !spare->second.empty()) {
        at = spare->second.back();
        spare->second.pop_back();
      }
      int fd = -1;
      if (killed_during(ts, [&] { fd = open_desched_event(*ts.task, ts.tgid, at, ts.desched, &arrived); })) {
        return;
      }
      ts.held_signals.insert(ts.held_signals.end(), arrived.begin(), arrived.end());
      if (fd >= 0) desched_floor_ = desched_floor_ == 0 ? static_cast<uint32_t>(fd) : std::min<uint32_t>(desched_floor_, fd);
      p.emulated_ret = fd >= 0 ? fd + 1 : 0;
    }
    if (p.emulated_ret) {
      ret = *p.emulated_ret;
      is_error = sys::is_error_return(ret);  // (rrx calls and the ptrace emulation fail with -errno)
      user_regs_struct r = ts.task->regs();
      r.rax = static_cast<uint64_t>(ret);
      ts.task->set_regs(r);
    }
    if (!is_error && !p.i386 && (p.nr == SYS_read || p.nr == SYS_pread64)) {
      // /proc/PID/status names rrx as TracerPid: the reader sees its tracer in the tree, or none.
      auto tracer_of = [&](pid_t pid) { return emu_.tracer_of(pid); };
      if (std::optional<int64_t> n = show_emulated_tracer(*ts.task, p.nr == SYS_pread64, static_cast<int>(p.args[0]),
                                                          p.args[1], p.args[2], ret, tracer_of)) {
        ret = *n;
        user_regs_struct r = ts.task->regs();
        r.rax = static_cast<uint64_t>(ret);
        ts.task->set_regs(r);
      }
    }
    if (p.desc->special == sys::Special::Prctl) ts.signals.after_prctl(*ts.task, p.args, ret);
    if (p.desc->special == sys::Special::Affinity && !p.emulated_ret) {
      affinity_.at_exit(*ts.task, ts.task->tid(), p.nr, p.args, ret, in_tree());
    }
    ts.signals.after_syscall(*ts.task, *p.desc, p.args, ret);
    sys::CallView call{p.nr, {}, ret};
    std::memcpy(call.args, p.args, sizeof call.args);
    TaskMemReader mem(*ts.task);
    outputs = sys::output_ranges(*p.desc, call, mem);
    if (p.seccomp_install) apply_seccomp_install(ts, ret);
    try {
      if (!is_error) note_mapping(ts, p, ret, maps);
    } catch (const trace::NoSpaceError& e) {
      abort_recording(e.what());
    }
    if (!is_error && p.desc->changes_file.kind != sys::FileChange::None) {
      maps.change = shared_->on_file_change(*p.desc, call, *ts.task);
    }
    if (p.desc->flags & sys::kFdEpoch) raise_fd_epochs(ts, false, outputs);
    if (maps.shared_object != 0) raise_fd_epochs(ts, true, outputs);
    if (options_.syscallbuf &&
        (p.desc->special == sys::Special::Ptrace || p.seccomp_install || p.nr == RRX_CALL_INIT_BUFFER)) {
      sync_trace_all(ts, outputs);
      if (p.seccomp_install && ts.seccomp) {
        if (auto r = set_process_trace_all(*ts.task)) outputs.push_back(*r);
      }
    }
    if (p.nr == RRX_CALL_INIT_BUFFER && ret >= 0) {
      if (auto r = publish_file_facts(*ts.task, file_facts())) outputs.push_back(*r);
    }
  }
  if (is_error && !p.seccomp_verdict && sys::is_interrupted_return(ret)) {
    flags |= trace::kSyscallInterrupted;
  }
  if (p.output != 0 && !is_error) {
    flags |= trace::kSyscallToOutput | (p.output == 2 ? trace::kSyscallToStderr : trace::kSyscallToStdout);
  }
  append_syscall_event(ts, ret, is_error, info.instruction_pointer, info.stack_pointer, outputs,
                       flags, maps);
  if (tsc_patch_ && !is_error && p.desc && !p.refused && !p.seccomp_verdict && !p.i386) patch_tsc_sites(ts, false, &p, ret);
  if (random_insns_ && maps.mapped && p.desc && p.desc->special == sys::Special::Mmap && (p.args[2] & PROT_EXEC)) {
    random_insns_->scan_mapping(*writer_, *ts.task, ts.tgid,
                                "/proc/" + std::to_string(ts.task->tid()) + "/fd/" + std::to_string(static_cast<int>(p.args[4])),
                                maps.name, static_cast<uint64_t>(ret), p.args[1], maps.offset);
  }
  // (Not before the process has the library: the loader's calls, before it
  // exists, found no hook entry to patch to, at a failed read of the
  // process's memory each. A thread that has no buffer yet patches all the
  // same: a thread gets its buffer at its first call through a patched
  // site, so a site only threads without one call was never patched, and
  // they made every call traced.)
  if (options_.syscallbuf && library_ready(ts) && p.desc && (p.desc->flags & sys::kBuffered) && !p.refused &&
      !p.seccomp_verdict && !(flags & trace::kSyscallInterrupted) && !ts.seccomp) {
    patch_site(ts, info.instruction_pointer);
  }
  if (options_.syscallbuf && p.nr == RRX_CALL_INIT_BUFFER && ret >= 0) patch_known_sites(ts);
  if (!is_error && p.desc && early_setup_due(ts, p, maps)) set_up_early_library(ts, p, ret);
  const bool p_gives_way = p.desc && (p.desc->flags & sys::kGivesWay) && !is_error;
  p = PendingSyscall{};
  ts.entry_recorded = false;
  // (A PTRACE_INTERRUPT of its tracer that cut the call short stops it
  // here: the kernel restarts the call when the tracer lets it go, unless
  // the tracer changed the registers, and so does the replay,
  // restart_if_no_signal.)
  if (emu_.stop_at_syscall_exit(ts.task->tid()) || emu_.stop_at_interrupt(ts.task->tid())) {
    hold_for_tracer(ts);
    return;
  }

  // A held asynchronous signal is delivered now, at this syscall boundary.
  inject_held_signal(ts);
  // Others are waiting and this one had its share: switch at this boundary.
  // (Not after an interrupted syscall: the signal that interrupted it is
  // delivered right away, and its event must follow this one.)
  // With --chaos: when its slice is over, or at random.
  auto ran = std::chrono::steady_clock::now() - run_start_;
  bool turn_over = chaos_ ? ran > slice_ || chaos_->switch_at_boundary() : ran > kTurnAtBoundary;
  // (sched_yield: the others now, as the kernel would run them.)
  if (p_gives_way) turn_over = true;
  if (!runnable_.empty() && ts.injecting_signal == 0 && !(flags & trace::kSyscallInterrupted) && turn_over) {
    yield_cpu(ts, 0);
    return;
  }
  resume(ts);
}

// Whether the exit stop of the thread's current call does more than read
// its result, so that the call cannot complete at its seccomp stop: signals
// held for that boundary, a tracer of its own in the tree, a seccomp filter
// of its own, a single step or a move into a patched site to make there, a
// preemption or desched on the way, an entry event written; or the exit is
// where it gives way to the others waiting (it ran its share, or the call
// gives way: kGivesWay).
bool Recorder::exit_stop_does_more(const TaskState& ts) const {
  if (!seccomp_stops_only(ts) || ts.seccomp || !ts.held_signals.empty() || ts.injecting_signal != 0 ||
      ts.step_on_resume || ts.resume_ip != 0 || ts.entry_recorded || ts.preempt_requested || ts.desched_step ||
      ts.desched_give_back || emu_.traced(ts.task->tid())) {
    return true;
  }
  const bool gives_way = ts.pending.desc && (ts.pending.desc->flags & sys::kGivesWay);
  return !runnable_.empty() && (gives_way || std::chrono::steady_clock::now() - run_start_ > kTurnAtBoundary);
}

// A traced call whose exit needs only its result runs with no exit stop,
// returning through the process's return stub (return_slot.h); true when
// it was resumed so. Its event is written at the thread's next stop
// (take_result_from_slot). Not for a thread whose exit stop does more: one
// with signals held for that boundary, a tracer of its own in the tree, a
// seccomp filter of its own, one in a vfork's shared memory, one going back
// into a patched site.
bool Recorder::complete_at_seccomp_stop(TaskState& ts) {
  PendingSyscall& p = ts.pending;
  if (!p.desc || p.refused || p.emulated_ret || p.seccomp_install || p.seccomp_verdict || p.output != 0 || p.i386 ||
      p.recorded_at_entry) {
    return false;
  }
  // (A vfork's shared memory: the parent's slot and mappings.)
  if (exit_stop_does_more(ts) || ts.vfork_child || ts.in_vfork) return false;
  // (Code may run before the next stop: only where none of its rdtsc sites
  // must be patched first. The rdrand search of a mapped file comes at the
  // next stop, on the file opened now: the fd may be closed by then.)
  if (!completes_at_seccomp_stop(*p.desc, p.args, !tsc_patch_)) return false;
  // The library's fd knowledge (of any thread of the process) is raised at
  // the exit, before the thread runs on.
  if ((p.desc->flags & sys::kFdEpoch) && library_ready(ts)) return false;
  if (library_ready(ts)) {
    // A call the buffer takes, seen traced, is its site's first: patched
    // at the exit.
    const uint64_t site = p.ip - 2;
    const bool library_site = site >= RRX_PAGE_ADDR && site < RRX_PAGE_ADDR + RRX_PAGE_SIZE;
    if ((p.desc->flags & sys::kBuffered) && !library_site && !site_patches_.settled(*ts.task, ts.tgid, site)) return false;
  }
  std::optional<ReturnSlots::Place> place = return_slots_.usable(*ts.task, ts.tgid);
  if (!place) return false;
  MapEffects maps;
  if (p.desc->special == sys::Special::Mmap) {
    // The file's bytes as the exit would store them (nothing writes the file
    // in between but another program).
    try {
      note_mapping(ts, p, 0, maps);
    } catch (const Error&) {
      return false;  // (the exit says why, if the call succeeds)
    }
    if (maps.shared_object != 0) return false;
    if (early_setup_due(ts, p, maps)) return false;  // (done at the exit stop)
    if (random_insns_ && maps.mapped && (p.args[2] & PROT_EXEC)) {
      std::string fd_path = "/proc/" + std::to_string(ts.task->tid()) + "/fd/" + std::to_string(static_cast<int>(p.args[4]));
      auto file = std::make_shared<UniqueFd>(::open(fd_path.c_str(), O_RDONLY | O_CLOEXEC));
      if (file->get() < 0) return false;
      ts.slot_scan_file = std::move(file);
    }
  }
  // (rip alone: one POKEUSER rather than a GETREGS and a SETREGS.)
  ts.task->poke_user(offsetof(struct user, regs) + offsetof(user_regs_struct, rip), place->stub);
  ts.result_in_slot = place;
  ts.slot_maps = std::move(maps);
  ts.in_syscall = false;  // (resumed with no exit stop)
  if (stats_) stats_->completed_at_seccomp_stop();
  resume(ts);
  return true;
}

// A call rrx skips and answers itself needs no exit stop either: at a
// seccomp stop, a call whose number the tracer sets to -1 is not made and
// returns the rax the tracer set (seccomp(2)), so its event is written here
// and the thread goes on with PTRACE_CONT. Refused calls (rseq, which the
// loader makes in every process, and the quiet refusals), and rrx's own
// calls answered without work at their exit (RRX_CALL_FD_INFO,
// RRX_CALL_RECORDING, RRX_CALL_DESCHED_FD). Not
// for a thread whose exit stop does more (complete_at_seccomp_stop's
// conditions), nor under the program's own seccomp filters (skip_number).
bool Recorder::answer_at_seccomp_stop(TaskState& ts, const KernelSyscallInfo& info) {
  PendingSyscall& p = ts.pending;
  if (!p.desc || p.i386 || p.seccomp_verdict || p.seccomp_install || p.recorded_at_entry || p.output != 0) return false;
  std::optional<int64_t> ret;
  if (p.refused) {
    ret = -p.refusal_errno;
  } else if (p.emulated_ret &&
             (p.nr == RRX_CALL_FD_INFO || p.nr == RRX_CALL_RECORDING || p.nr == RRX_CALL_DESCHED_FD)) {
    ret = *p.emulated_ret;
  }
  if (!ret || exit_stop_does_more(ts)) return false;
  // The entry made the call nr -1 already (no filter of the program's:
  // exit_stop_does_more); the result alone goes in.
  ts.task->poke_user(offsetof(struct user, regs) + offsetof(user_regs_struct, rax), static_cast<uint64_t>(*ret));
  const bool is_error = sys::is_error_return(*ret);
  if (!p.refused) ts.signals.after_syscall(*ts.task, *p.desc, p.args, *ret);
  append_syscall_event(ts, *ret, is_error, info.instruction_pointer, info.stack_pointer, {},
                       p.refused ? static_cast<uint32_t>(trace::kSyscallRefused) : 0u, MapEffects{});
  p = PendingSyscall{};
  ts.entry_recorded = false;
  ts.in_syscall = false;  // (resumed with no exit stop)
  ts.at_syscall_boundary = true;
  ts.boundary_ip = info.instruction_pointer;
  if (stats_) stats_->answered_at_seccomp_stop();
  resume(ts);
  return true;
}

// The thread's first stop after a call completed at its seccomp stop: the
// call's result, from rax when the thread stopped in the stub (a signal
// pending at the call's return: the recorder does the stub's work, so the
// thread is at the call's return address, a syscall boundary), else from
// the slot; then the call's event, as its exit stop would have written it.
// Where the process is ending (its exit stop, its death) the call is
// dropped, as a call a kill cuts short. True when the stop itself is
// handled: a fault of the stub's store (the page is gone), not the
// program's.
bool Recorder::take_result_from_slot(TaskState& ts, const WaitStatus& w) {
  const ReturnSlots::Place place = *ts.result_in_slot;
  ts.result_in_slot.reset();
  MapEffects maps = std::move(ts.slot_maps);
  ts.slot_maps = MapEffects{};
  std::shared_ptr<UniqueFd> scan_file = std::move(ts.slot_scan_file);
  PendingSyscall& p = ts.pending;
  const bool ending = w.kind == WaitStatus::Kind::Exited || w.kind == WaitStatus::Kind::Killed ||
                      (w.kind == WaitStatus::Kind::EventStop && w.event == PTRACE_EVENT_EXIT);
  if (ending) {
    p = PendingSyscall{};
    return false;
  }
  int64_t ret = 0;
  bool store_faulted = false;
  // A seccomp stop is the thread's next call: it went through the whole
  // stub to get there (a restart, rip at stub - 2, comes with a stop of its
  // own before the thread runs: the signal or interrupt that caused it), so
  // the result is in the slot and the registers need not be read.
  const bool next_call = w.kind == WaitStatus::Kind::EventStop && w.event == PTRACE_EVENT_SECCOMP;
  user_regs_struct r{};
  if (!next_call) r = ts.task->regs();
  if (!next_call && place.in_stub(r.rip)) {
    store_faulted = w.kind == WaitStatus::Kind::SignalStop && w.sig == SIGSEGV && r.rip == place.stub;
    if (stats_) stats_->stopped_in_return_stub();
    ret = static_cast<int64_t>(r.rax);
    r.rip = p.ip;  // the stub's jump (rcx holds the same)
    ts.task->set_regs(r);
    ts.at_syscall_boundary = true;
    ts.boundary_ip = p.ip;
  } else if (!next_call && r.rip == place.stub - 2) {
    // The kernel restarts the call (the syscall instruction before rip): it
    // does so at the program's own instruction, and its next seccomp stop
    // is the call again.
    r.rip = p.ip - 2;
    ts.task->set_regs(r);
    p = PendingSyscall{};
    return false;
  } else if (!ts.task->read_exact(place.slot, &ret, sizeof ret)) {
    abort_recording("cannot read the result of " + sys::syscall_name(p.nr) + " of thread " +
                    std::to_string(ts.task->tid()) + " from its return slot");
  }
  if (SitePatches::may_change_mappings(p.desc, p.args)) {
    site_patches_.maps_changed();
    cpuid_sites_.maps_changed();
  }
  const bool is_error = sys::is_error_return(ret);
  if (is_error) maps = MapEffects{};
  uint32_t flags = 0;
  if (is_error && sys::is_interrupted_return(ret)) {
    flags |= trace::kSyscallInterrupted;
  }
  append_syscall_event(ts, ret, is_error, p.ip, p.sp, {}, flags, maps);
  if (tsc_patch_ && !is_error) patch_tsc_sites(ts, false, &p, ret);
  if (scan_file && !is_error) {
    random_insns_->scan_mapping(*writer_, *ts.task, ts.tgid, "/proc/self/fd/" + std::to_string(scan_file->get()),
                                maps.name, static_cast<uint64_t>(ret), p.args[1], maps.offset);
  }
  p = PendingSyscall{};
  ts.entry_recorded = false;
  if (!store_faulted) return false;
  return_slots_.lose(ts.tgid);
  resume(ts);
  return true;
}

void Recorder::note_mapping(TaskState& ts, const PendingSyscall& p, int64_t ret, MapEffects& maps) {
  if (p.desc->special == sys::Special::ShmAttach) {
    auto m = shared_->on_sysv_attach(*ts.task, static_cast<int>(p.args[0]), static_cast<uint64_t>(ret));
    maps.mapped = m.content;
    maps.name = m.name;
    maps.size = m.size;
    maps.shared_object = m.id;
    maps.writable = m.writable;
    return;
  }
  if (p.desc->special != sys::Special::Mmap) return;
  uint64_t type = p.args[3] & 0x0f;
  bool shared = type == MAP_SHARED || type == MAP_SHARED_VALIDATE;
  int fd = static_cast<int>(p.args[4]);
  std::string fd_path = "/proc/" + std::to_string(ts.task->tid()) + "/fd/" + std::to_string(fd);
  // (The entry's stat of the fd: the file the kernel maps is the one the fd
  // names at the call.)
  struct stat st {};
  bool file = !(p.args[3] & MAP_ANONYMOUS) && fd >= 0;
  if (file && p.map_fd_stat) st = *p.map_fd_stat;
  else if (file) file = ::stat(fd_path.c_str(), &st) == 0;
  if (file && S_ISREG(st.st_mode)) {
    if (auto m = shared_->on_file_map(ts.task->tid(), fd, st, shared, recorded_pids())) {
      maps.mapped = m->content;
      maps.name = m->name;
      maps.offset = p.args[5];
      maps.size = m->size;
      maps.shared_object = m->id;
      maps.writable = m->writable;
      for (const std::string& who : m->outside_mappers) {
        warn(ts, m->name + " is mapped shared by process " + who +
                     ", outside the recorded tree: what it writes there is not recorded, and a replay may differ");
      }
      return;
    }
    // A private map: its contents as they are now (a file stored already,
    // by the stat just taken, is not opened again). Its name as the fd's
    // link says, asked once for the loader's run of maps of one fd.
    MappedName& last = last_mapped_name_;
    if (last.tid != ts.task->tid() || last.fd != fd || last.dev != st.st_dev || last.ino != st.st_ino) {
      last = MappedName{ts.task->tid(), fd, st.st_dev, st.st_ino, read_link(fd_path)};
    }
    maps.name = last.name;
    maps.mapped = files_->stored_whole(st);
    if (!maps.mapped) maps.mapped = files_->store_mapped(fd_path, maps.name, p.args[5], p.args[1]);
    maps.offset = p.args[5];
    return;
  }
  // Shared anonymous memory (and shared maps of devices, which replay maps
  // as shared anonymous memory) is mapped for real on replay: fork shares it
  // as it did when recording.
}

std::vector<pid_t> Recorder::recorded_tids() const {
  std::vector<pid_t> out;
  for (const auto& [tid, t] : tasks_) out.push_back(tid);
  return out;
}

std::vector<pid_t> Recorder::recorded_pids() const {
  std::vector<pid_t> out;
  for (const auto& [tid, t] : tasks_) out.push_back(t.tgid);
  return out;
}

void Recorder::on_exec(TaskState& ts, pid_t former_tid) {
  if (stats_) stats_->exec();
  Task& task = *ts.task;
  ts.buffer.reset();  // the new image's library registers its own
  ts.desched = ts.desched_of_parent = DeschedEvent{};  // (its fd was close-on-exec)
  spare_desched_fds_.erase(ts.tgid);
  ts.desched_inherited = -1;
  ts.desched_step = ts.desched_give_back = false;
  ts.vfork_child = false;
  site_patches_.forget(ts.tgid);
  cpuid_sites_.forget(ts.tgid);
  tsc_sites_.forget(ts.tgid);
  early_procs_.erase(ts.tgid);
  task.reopen_mem();
  user_regs_struct regs = task.regs();
  std::string exe = read_link("/proc/" + std::to_string(task.tid()) + "/exe");
  site_patches_.set_program(ts.tgid, exe);
  ElfSummary elf = inspect_program("/proc/" + std::to_string(task.tid()) + "/exe");
  if (elf.kind != ElfSummary::Kind::Elf64X86_64) {
    abort_recording(exe + " is not an x86-64 program; rrx records x86-64 Linux programs only");
  }
  // Before the stack is recorded: the replay writes it back as it is here.
  // (Not where the process has a seccomp mode of its own: the filters stay
  // across exec and would meet the library's own calls; see
  // rrx_process_state's trace_all.)
  if (!preload_library_.empty() && !elf.interpreter.empty() && !ts.seccomp) {
    try {
      add_preload_entry(task, regs, preload_library_, elf.needed);
    } catch (const Error& e) {
      abort_recording(e.what());
    }
  }
  InitialStack stack = InitialStack::read(task, regs.rsp);
  // The vDSO stays (programs look its symbols up); its time, getcpu and
  // getrandom functions become real syscalls, recorded like any other.
  ts.exec_vdso = auxv_vdso(stack.auxv());
  if (ts.exec_vdso != 0) patch_vdso(task, ts.exec_vdso);
  return_slots_.forget(ts.tgid);
  ts.signals.start(task);
  trace::FileStore::Stored exe_copy;
  std::optional<trace::FileStore::Stored> interp_copy;
  try {
    exe_copy = files_->store("/proc/" + std::to_string(task.tid()) + "/exe", exe);
    if (!elf.interpreter.empty()) {
      // The interpreter the kernel loaded: by its path in the program's root.
      UniqueFd interp(open_as_seen_by(task.tid(), elf.interpreter, "/"));
      std::string source = interp.get() >= 0 ? "/proc/self/fd/" + std::to_string(interp.get()) : elf.interpreter;
      interp_copy = files_->store(source, elf.interpreter);
    }
  } catch (const trace::NoSpaceError& e) {
    abort_recording(e.what());
  }

  capnp::MallocMessageBuilder m;
  auto ev = begin_event(m, ts);
  trace::regs_to_schema(regs, ev.initRegs());
  auto ex = ev.initExec();
  if (former_tid != task.tid()) ex.setFormerTid(former_tid);
  // The filters stay across exec; rrx's own arch_prctl(ARCH_SET_CPUID) at
  // the exec's exit must not be what they refuse (or kill the program for).
  ts.cpuid_untrapped = false;
  if (cpuid_faulting_ && ts.seccomp) {
    KernelSyscallInfo probe{};
    probe.arch = AUDIT_ARCH_X86_64;
    probe.instruction_pointer = regs.rip;
    uint64_t args[6] = {ARCH_SET_CPUID, 0, 0, 0, 0, 0};
    if (!ts.seccomp->verdict(seccomp_data(probe, SYS_arch_prctl, args)).runs()) {
      ts.cpuid_untrapped = true;
      ex.setCpuidUntrapped(true);
    }
  }
  ex.setExePath(exe);
  ex.setExeHash(exe_copy.hash);
  if (interp_copy) {
    ex.setInterpPath(elf.interpreter);
    ex.setInterpHash(interp_copy->hash);
  }
  auto argv = ex.initArgv(static_cast<unsigned>(stack.argv.size()));
  for (unsigned i = 0; i < stack.argv.size(); ++i) argv.set(i, stack.argv[i]);
  auto st = ex.initStack();
  st.setAddr(stack.sp);
  st.setData(bytes(stack.bytes));
  std::string rnd = stack.at_random_bytes();
  ex.setAtRandom(bytes(rnd));
  std::string auxv = stack.auxv();
  ex.setAuxv(bytes(auxv));
  writer_->append(m);
  if (random_insns_) random_insns_->scan_exec(*writer_, task, ts.tgid, exe);
  started_ = true;
  // The execve's exit stop comes next; it belongs to this exec event.
  ts.pending = PendingSyscall{};
  ts.pending.nr = SYS_execve;
  ts.pending.desc = sys::lookup(SYS_execve);
  // The exec event stands for the call: a time slice ending before the
  // exit stop must not write an entry event for it.
  ts.pending.recorded_at_entry = true;
  if (exec_error_fd_ >= 0) {
    ::close(exec_error_fd_);
    exec_error_fd_ = -1;
  }
  task.resume_syscall();
}

void Recorder::record_signal(TaskState& ts, const siginfo_t& si, bool synchronous) {
  capnp::MallocMessageBuilder m;
  auto ev = begin_event(m, ts);
  user_regs_struct regs = ts.task->regs();
  trace::regs_to_schema(regs, ev.initRegs());
  auto s = ev.initSignal();
  s.setSigno(si.si_signo);
  s.setCode(si.si_code);
  s.setErrno(si.si_errno);
  s.setSiginfo(bytes(&si, sizeof si));
  s.setSynchronous(synchronous);
  s.setIp(regs.rip);
  s.setDisposition(schema::Signal::Disposition::DELIVERED);
  writer_->append(m);
}

// A warning on rrx's stderr and as an event of the trace.
void Recorder::warn(TaskState& ts, const std::string& msg) {
  std::cerr << "rrx: warning: " << msg << "\n";
  capnp::MallocMessageBuilder m;
  auto ev = begin_event(m, ts);
  ev.setWarning(msg);
  writer_->append(m);
}

// A trap (rdtsc, cpuid) at `ip` whose SIGSEGV rrx suppresses: force_sig
// already unblocked SIGSEGV and reset its action if the program had it
// blocked or ignored; both are put back. Signals that arrive during the
// injected rt_sigaction wait for the next syscall boundary like any
// asynchronous one; a PTRACE_INTERRUPT pending now was taken there too.
ForcedSignalUndo Recorder::undo_trap_sigsegv(TaskState& ts, uint64_t ip) {
  ForcedSignalUndo undo = ts.signals.undo_trap_sigsegv();
  if (!undo.empty()) {
    std::vector<siginfo_t> arrived;
    apply_forced_signal_undo(*ts.task, ip, SIGSEGV, undo, &arrived);
    ts.held_signals.insert(ts.held_signals.end(), arrived.begin(), arrived.end());
    ts.preempt_requested = false;
  }
  return undo;
}

void Recorder::on_rdtsc(TaskState& ts, SpecialInsn insn, size_t len) {
  if (stats_) stats_->name_stop("rdtsc");
  ts.signals.left_kernel();
  user_regs_struct r = ts.task->regs();
  unsigned aux = 0;
  uint64_t tsc = insn == SpecialInsn::Rdtscp ? __rdtscp(&aux) : __rdtsc();
  capnp::MallocMessageBuilder m;
  auto ev = begin_event(m, ts);
  auto t = ev.initRdtsc();
  t.setValue(tsc);
  t.setAux(aux);
  t.setIsRdtscp(insn == SpecialInsn::Rdtscp);
  t.setIp(r.rip);
  // The SIGSEGV is suppressed, but force_sig already unblocked it and reset
  // its action if the program had it blocked or ignored: put both back.
  ForcedSignalUndo undo = undo_trap_sigsegv(ts, r.rip);
  if (!undo.empty()) {
    if (undo.mask) {
      t.setRestoreMask(*undo.mask);
      t.setHasRestoreMask(true);
    }
    if (undo.action) t.setRestoreAction(bytes(undo.action_bytes()));
  }
  writer_->append(m);
  r.rax = tsc & 0xffffffffu;
  r.rdx = tsc >> 32;
  if (insn == SpecialInsn::Rdtscp) r.rcx = aux;
  r.rip += len;
  ts.task->set_regs(r);
  resume(ts, 0);
}

// A SIGSEGV of the kernel's at a cpuid instruction: CPUID faulting. rrx
// answers it (cpuid_record.h) and the thread goes on after the instruction.
bool Recorder::on_cpuid_fault(TaskState& ts) {
  if (!cpuid_faulting_) return false;
  size_t len = cpuid_instruction_at(*ts.task, ts.task->regs().rip);
  if (len == 0) return false;
  ts.signals.left_kernel();
  if (stats_) stats_->name_stop("cpuid");
  // The same SIGSEGV side effects as an rdtsc trap: put them back.
  const uint64_t site = ts.task->regs().rip;
  ForcedSignalUndo undo = undo_trap_sigsegv(ts, site);
  answer_cpuid(*writer_, *ts.task, ts.tgid, len, undo);
  if (options_.patch_cpuid) patch_cpuid_sites(ts, site);
  resume(ts, 0);
  return true;
}

void Recorder::write_job_stop(TaskState& ts, int sig, bool resumed) {
  capnp::MallocMessageBuilder m;
  auto ev = begin_event(m, ts);
  auto j = ev.initJobStop();
  j.setSigno(sig);
  j.setResumed(resumed);
  writer_->append(m);
}

// PTRACE_EVENT_STOP, which a seized task reports for four reasons: its first
// stop, rrx's PTRACE_INTERRUPT, a group-stop (the stop signal in `sig`), and
// the end of a group-stop (SIGCONT). A group-stopped task is left stopped
// with PTRACE_LISTEN, as the kernel would leave it: it holds no CPU, its
// parent's wait sees it stopped, and SIGCONT from anyone wakes it.
void Recorder::on_trap_stop(TaskState& ts, int sig) {
  ts.signals.left_kernel();
  bool group_stop = WaitStatus::is_stop_signal(sig);
  if (!ts.started) {
    ts.started = true;
    if (!group_stop) {  // a new task (it may also join a group-stop in progress)
      if (ts.desched_inherited >= 0) {
        std::vector<siginfo_t> arrived;
        bool died = killed_during(ts, [&] {
          if (open_desched_event(*ts.task, ts.tgid, ts.desched_inherited, ts.desched, &arrived) < 0) {
            // Not its parent's event: the library's arm fails (EBADF), and a
            // call that blocks is given back when rrx preempts the thread.
            remote_syscall(*ts.task, RRX_PAGE_ADDR + 48, SYS_close, {static_cast<uint64_t>(ts.desched_inherited)},
                           nullptr, &arrived);
          }
        });
        if (died) return;
        ts.desched_inherited = -1;
        ts.held_signals.insert(ts.held_signals.end(), arrived.begin(), arrived.end());
      }
      resume(ts);
      return;
    }
  }
  if (group_stop) {
    // The stop absorbs a PTRACE_INTERRUPT rrx may have sent. A task told of
    // another stop signal while already stopped just stays stopped.
    ts.preempt_requested = false;
    if (ts.job_stop_sig == 0) write_job_stop(ts, sig, false);
    ts.job_stop_sig = sig;
    ts.at_syscall_boundary = false;
    ts.ran_in_group_stop = false;
    if (current_ == ts.task->tid()) current_ = 0;
    if (ts.task->tid() == leader_ && (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)) {
      terminal_.suspend_with(leader_);
    }
    // A tracee of a tracer in the recording: held in this trap while its
    // tracer sees the group-stop (release() or listen() follows).
    if (!emu_.stop_at_group_stop(ts.task->tid(), sig)) ts.task->listen();
    return;
  }
  if (ts.job_stop_sig != 0 || emu_.listening(ts.task->tid())) {
    // SIGCONT ended the group-stop. No code ran since the stop (unless its
    // tracer let it run on: then it is where its last event left it), so
    // a signal pending now (SIGCONT itself, when the task dequeues it) is
    // delivered right here, like one pending at a syscall's return.
    if (ts.job_stop_sig != 0) write_job_stop(ts, ts.job_stop_sig, true);
    ts.job_stop_sig = 0;
    if (!ts.ran_in_group_stop) {
      ts.at_syscall_boundary = true;
      ts.boundary_ip = ts.task->regs().rip;
    }
    ts.ran_in_group_stop = false;
    if (emu_.stop_at_group_continue(ts.task->tid())) {
      hold_for_tracer(ts);
      return;
    }
    resume(ts);
    return;
  }
  if (emu_.stop_at_interrupt(ts.task->tid())) {
    // Its tracer's PTRACE_INTERRUPT (it takes the place of one of rrx's own).
    ts.preempt_requested = false;
    hold_for_tracer(ts);
    return;
  }
  if (ts.preempt_requested && started_ && ts.buffer && in_preload_code(ts.tgid, ts.task->regs().rip)) {
    // Never inside the syscall buffer's code: a transaction would be split
    // by the event. The next tick asks again. A call that may block,
    // interrupted by rrx's PTRACE_INTERRUPT in its armed window (its desched
    // signal blocked by the program, or its event lost), is taken over as
    // at a desched stop.
    ts.preempt_requested = false;
    if (take_over_interrupted_call(ts)) return;
    resume(ts);
    return;
  }
  if (ts.preempt_requested && started_) {
    // rrx's preemption: the position is recorded, inexact (no counters).
    ts.preempt_requested = false;
    capnp::MallocMessageBuilder m;
    auto ev = begin_event(m, ts);
    user_regs_struct regs = ts.task->regs();
    trace::regs_to_schema(regs, ev.initRegs());
    ev.setInexact(true);
    ev.initPreemption().setIp(regs.rip);
    writer_->append(m);
    ts.at_syscall_boundary = false;
    yield_cpu(ts, 0);
    return;
  }
  ts.preempt_requested = false;
  resume(ts);
}

// Delivers a signal just recorded. When its action runs no code (ignored),
// the task is still where it was: a signal stop that follows at once (the
// next pending signal) is at the same point, and is recorded there too.
void Recorder::deliver_recorded(TaskState& ts, int sig, bool synchronous) {
  bool stays = ts.at_syscall_boundary && !synchronous && ts.signals.ignores(sig);
  ts.signals.before_delivery(sig, synchronous);
  resume(ts, sig);
  ts.at_syscall_boundary = stays;
}

void Recorder::on_signal(TaskState& ts, int sig) {
  siginfo_t si = ts.task->siginfo();
  if (sig == SIGCHLD && si.si_code == SI_TKILL && si.si_pid == ::getpid() && !ts.tracer_sigchld.empty() &&
      ts.injecting_signal != SIGCHLD) {
    // rrx's SIGCHLD for a tracee's emulated stop (notify_tracer): the kernel's siginfo.
    si = ts.tracer_sigchld.front();
    ts.tracer_sigchld.pop_front();
    ts.task->set_siginfo(si);
  }
  if (sig == SIGSTOP && si.si_code == SI_TKILL && si.si_pid == ::getpid() && ts.attach_stops > 0 &&
      ts.injecting_signal != SIGSTOP) {
    // rrx's SIGSTOP for an emulated PTRACE_ATTACH (send_attach_stop): the kernel's siginfo.
    --ts.attach_stops;
    si = siginfo_t{};
    si.si_signo = SIGSTOP;
    si.si_code = SI_KERNEL;
    ts.task->set_siginfo(si);
  }
  if (!started_) {  // a signal before the program even started: pass it on
    resume(ts, sig);
    return;
  }
  if (sig == RRX_DESCHED_SIGNAL && on_desched_signal(ts, si)) return;
  if (g_stop_signal) {
    resume(ts);  // the loop stops the recording
    return;
  }
  if (sig == SIGSEGV && si.si_code == SI_KERNEL) {
    size_t len = 0;
    SpecialInsn insn = special_instruction_at(*ts.task, ts.task->regs().rip, &len);
    if (auto site = tsc_sites_.at(ts.tgid, ts.task->regs().rip); site && tsc_site_stands(*ts.task, ts.task->regs().rip, *site)) {
      // A patched site's hlt (tsc_sites.h): its rdtsc, which runs without a
      // fault on this machine whatever mode the program asked for.
      on_rdtsc(ts, site->rdtscp ? SpecialInsn::Rdtscp : SpecialInsn::Rdtsc, site->len);
      return;
    }
    // Trapped for rrx, unless the program itself asked for the fault
    // (prctl PR_SET_TSC, PR_TSC_SIGSEGV): then it is a fault like any other.
    if ((insn == SpecialInsn::Rdtsc || insn == SpecialInsn::Rdtscp) && ts.signals.tsc_mode() != PR_TSC_SIGSEGV) {
      on_rdtsc(ts, insn, len);
      return;
    }
    if (on_cpuid_fault(ts)) return;
  }
  bool synchronous = is_synchronous(si);
  if (synchronous) ts.signals.left_kernel();  // its instruction ran: the task was in user code
  if (ts.injecting_signal == sig && !ts.held_signals.empty() &&
      si.si_code == SI_TKILL && si.si_pid == ::getpid()) {
    // Our re-raise of a held signal: deliver it with its original siginfo.
    siginfo_t original = ts.held_signals.front();
    ts.held_signals.pop_front();
    ts.injecting_signal = 0;
    ts.task->set_siginfo(original);
    if (emu_.stop_for_signal(ts.task->tid(), original, false)) {
      hold_for_tracer(ts);
      return;
    }
    record_signal(ts, original, false);
    deliver_recorded(ts, sig, false);
    return;
  }
  // A signal pending when the syscall returned stops the task before any
  // user code runs: still at the syscall's return address.
  bool at_boundary = ts.at_syscall_boundary && ts.task->regs().rip == ts.boundary_ip;
  if ((synchronous || at_boundary) && emu_.stop_for_signal(ts.task->tid(), si, synchronous)) {
    hold_for_tracer(ts);
    return;
  }
  if (synchronous || at_boundary) {
    record_signal(ts, si, synchronous);
    deliver_recorded(ts, sig, synchronous);
    return;
  }
  // Asynchronous, in the middle of user code: hold it for the next syscall boundary.
  ts.signals.left_kernel();
  ts.held_signals.push_back(si);
  resume(ts, 0);
}

void Recorder::on_death(TaskState& ts, const WaitStatus& w) {
  if (!started_) {
    int err = 0;
    if (exec_error_fd_ >= 0 && ::read(exec_error_fd_, &err, sizeof err) == sizeof err) {
      tasks_.erase(ts.task->tid());
      throw ProgramDidNotStart("cannot run " + options_.argv[0] + ": " + std::strerror(err));
    }
    throw ProgramDidNotStart("the program died before it started (" + w.describe() + ")");
  }
  capnp::MallocMessageBuilder m;
  auto ev = begin_event(m, ts);
  auto e = ev.initExit();
  int status;
  std::string reason;
  if (w.kind == WaitStatus::Kind::Exited) {
    e.setStatus(w.exit_code);
    status = w.exit_code;
    reason = "exited with status " + std::to_string(w.exit_code);
  } else {
    e.setSigno(w.sig);
    e.setCoreDumped(w.core_dumped);
    status = 128 + w.sig;
    reason = "killed by " + signal_name(w.sig) + (w.core_dumped ? " (core dumped)" : "");
  }
  e.setGroupExit(ts.task->tid() == ts.tgid);
  writer_->append(m);
  if (ts.desched.open()) {
    if (ts.task->tid() != ts.tgid && threads_of(ts.tgid) > 1) {
      spare_desched_fds_[ts.tgid].push_back(ts.desched.fd);
    } else if (ts.task->tid() == ts.tgid) {
      spare_desched_fds_.erase(ts.tgid);
    }
  }
  pid_t tid = ts.task->tid();
  if (current_ == tid) current_ = 0;
  const pid_t parent = tid == ts.tgid ? ts.parent_tgid : 0;
  tasks_.erase(tid);  // `ts` is gone from here on
  emu_.on_death(tid, parent,
                w.kind == WaitStatus::Kind::Exited ? w.exit_code << 8 : w.sig | (w.core_dumped ? 0x80 : 0));
  if (tid == leader_) {
    leader_status_ = status;
    leader_reason_ = reason;
    // The terminal goes back to rrx, as to a shell when its job ends;
    // processes left running are background ones from now on.
    terminal_.take_back();
    tree_exit_.main_exited(TreeExit::Clock::now());
  }
  // The recording ends when the whole tree is gone (or, with --wait=main,
  // once the rest is ended); rrx record exits with the first process's status.
  if (tasks_.empty()) {
    finish(leader_status_, leader_reason_);
  } else {
    check_tree_exit();
  }
}

// ---------------------------------------------------------------------------
// Ptrace emulation (ptrace_emulation.h): the recorder's side.

void Recorder::hold_for_tracer(TaskState& ts) {
  if (current_ == ts.task->tid()) current_ = 0;
}

// ptrace, or a wait by a tracer inside the tree, at its entry stop.
void Recorder::emulate_at_entry(TaskState& ts, bool* held) {
  PendingSyscall& p = ts.pending;
  const pid_t tid = ts.task->tid();
  if (p.desc->special == sys::Special::Ptrace) {
    p.emulated_ret = emu_.request(tid, p.args);
    return;
  }
  int64_t ret = 0;
  switch (emu_.wait_at_entry(tid, p.nr, p.args, &ret)) {
    case PtraceEmulation::Wait::Real:
      ts.in_real_wait = true;
      return;
    case PtraceEmulation::Wait::Answered:
      p.emulated_ret = ret;
      return;
    case PtraceEmulation::Wait::Block:
      // It waits at its entry stop until a tracee stops (answer_wait), or
      // the kernel has a child's death to report (run_wait_for_real).
      if (!ts.entry_recorded) write_syscall_entry(ts);
      hold_for_tracer(ts);
      *held = true;
      return;
  }
}

Task* Recorder::task(pid_t tid) {
  auto it = tasks_.find(tid);
  return it == tasks_.end() ? nullptr : it->second.task.get();
}

pid_t Recorder::process_of(pid_t tid) {
  auto it = tasks_.find(tid);
  return it == tasks_.end() ? 0 : it->second.tgid;
}

std::optional<user_regs_struct> Recorder::regs_in_kernel(pid_t tid) {
  auto it = tasks_.find(tid);
  if (it == tasks_.end()) return std::nullopt;
  const TaskState& ts = it->second;
  if (ts.kernel_regs || !ts.in_syscall) return ts.kernel_regs;
  // In a call that went on in the kernel after its time slice (check_time_slice):
  // what its entry stop told, the other registers unknown.
  const PendingSyscall& p = ts.pending;
  user_regs_struct r{};
  r.rip = p.ip;
  r.rsp = p.sp;
  r.orig_rax = static_cast<uint64_t>(p.nr);
  r.rax = static_cast<uint64_t>(-ENOSYS);
  r.rdi = p.args[0];
  r.rsi = p.args[1];
  r.rdx = p.args[2];
  r.r10 = p.args[3];
  r.r8 = p.args[4];
  r.r9 = p.args[5];
  return r;
}

void Recorder::warn_about(pid_t tid, const std::string& msg) {
  auto it = tasks_.find(tid);
  if (it != tasks_.end()) warn(it->second, msg);
}

void Recorder::note_stop(pid_t tid, StopPoint at, const siginfo_t& si, bool synchronous) {
  auto it = tasks_.find(tid);
  if (at == StopPoint::AfterEvent || it == tasks_.end()) return;
  TaskState& ts = it->second;
  unless_killed(ts, [&] { append_tracer_stop(*writer_, *ts.task, ts.tgid, at, si.si_signo, synchronous); });
}

// The tracer let `tid` go: it takes up what it was doing when it stopped.
void Recorder::release(pid_t tid, const EmuRelease& given) {
  auto it = tasks_.find(tid);
  if (it == tasks_.end()) return;
  TaskState& ts = it->second;
  EmuRelease how = given;
  unless_killed(ts, [&] {
    if (how.skip_syscall) {
      // From a PTRACE_SYSEMU entry stop: the kernel runs no call, and
      // returns rax as the tracer left it (nr -1, on_syscall_entry).
      user_regs_struct r = ts.task->regs();
      if (!how.regs_before) how.regs_before = r;
      r.orig_rax = static_cast<uint64_t>(-1);
      ts.task->set_regs(r);
    }
    if (how.sigmask) ts.signals.set_blocked(*how.sigmask);
    if (needs_tracer_resume(how)) append_tracer_resume(*writer_, *ts.task, ts.tgid, how);
  });
  int inject = how.sig;
  switch (how.stop) {
    case EmuStop::Held:  // its queued stop, or its blocked call, goes on
      break;
    case EmuStop::SyscallEntry:
      if (ts.emu_entry_stop) ts.unhandled = *ts.emu_entry_stop;
      ts.emu_entry_stop.reset();
      ts.resume_deferred = false;
      break;
    case EmuStop::SyscallExit:
      ts.step_on_resume = how.single_step;
      if (ts.exiting) {
        // At its PTRACE_EVENT_EXIT stop: it runs no user code, it needs no CPU.
        unless_killed(ts, [&] { resume(ts); });
        return;
      }
      if (ts.in_vfork) {
        // The vfork parent waits in the kernel for its child, without the CPU.
        ts.in_vfork = false;
        unless_killed(ts, [&] { resume(ts); });
        return;
      }
      ts.resume_deferred = true;
      ts.deferred_sig = 0;
      break;
    case EmuStop::GroupStop:
      if (how.detach) {
        // Detached in a group-stop, it stays stopped (__ptrace_unlink), until SIGCONT.
        unless_killed(ts, [&] { ts.task->listen(); });
        ts.parked = false;
        return;
      }
      // The kernel lets a tracee resumed from its group-stop run, the group still stopped.
      ts.ran_in_group_stop = true;
      ts.resume_deferred = true;
      ts.deferred_sig = 0;
      inject = 0;
      break;
    case EmuStop::Signal:
      // At its signal-delivery stop: the signal the tracer passes is delivered now.
      ts.step_on_resume = how.single_step;
      if (how.sig != 0) {
        unless_killed(ts, [&] {
          ts.task->set_siginfo(how.si);
          record_signal(ts, how.si, how.synchronous);
        });
        ts.signals.before_delivery(how.sig, how.synchronous);
      }
      ts.resume_deferred = true;
      ts.deferred_sig = how.sig;
      inject = 0;
      break;
  }
  if (inject != 0 && inject != SIGKILL) {
    // A signal injected at another stop: sent to it now, recorded as it is
    // delivered (the emulation lets it through without another stop).
    ::syscall(SYS_tgkill, ts.tgid, tid, inject);
  } else if (inject == SIGKILL) {
    ::syscall(SYS_tgkill, ts.tgid, tid, SIGKILL);
  }
  ts.parked = false;
  bool queued = std::find(runnable_.begin(), runnable_.end(), tid) != runnable_.end();
  if ((ts.unhandled || ts.resume_deferred) && !queued) runnable_.push_back(tid);
}

void Recorder::listen(pid_t tid) {
  auto it = tasks_.find(tid);
  if (it == tasks_.end()) return;
  TaskState& ts = it->second;
  unless_killed(ts, [&] { ts.task->listen(); });  // (the trap that wakes it: on_trap_stop)
  ts.parked = false;
}

void Recorder::send_attach_stop(pid_t tid) {
  auto it = tasks_.find(tid);
  if (it == tasks_.end()) return;
  ++it->second.attach_stops;
  ::syscall(SYS_tgkill, it->second.tgid, tid, SIGSTOP);
}

void Recorder::interrupt(pid_t tid) {
  auto it = tasks_.find(tid);
  if (it == tasks_.end()) return;
  TaskState& ts = it->second;
  unless_killed(ts, [&] { ts.task->interrupt(); });  // (its trap: on_trap_stop)
}


void Recorder::answer_wait(pid_t waiter, int64_t ret) {
  auto it = tasks_.find(waiter);
  if (it == tasks_.end()) return;
  TaskState& ts = it->second;
  ts.pending.emulated_ret = ret;
  // Skipped in the kernel; its exit stop comes through the loop.
  unless_killed(ts, [&] {
    user_regs_struct r = ts.task->regs();
    r.orig_rax = static_cast<uint64_t>(-1);
    ts.task->set_regs(r);
    resume(ts);
  });
}

// Sent with tgkill and given its siginfo when it arrives (on_signal), for a
// tracer with a SIGCHLD handler that wants stops (no SA_NOCLDSTOP): such a
// tracer (gdb) waits for the signal before it calls wait.
void Recorder::notify_tracer(pid_t tracer, pid_t tid, int status) {
  auto it = tasks_.find(tracer);
  if (it == tasks_.end()) return;
  TaskState& ts = it->second;
  const KernelSigaction& act = ts.signals.action(SIGCHLD);
  const bool stop = (status & 0xff) == 0x7f;
  if (act.handler <= 1 || (stop && (act.flags & SA_NOCLDSTOP))) return;
  siginfo_t si{};
  si.si_signo = SIGCHLD;
  si.si_pid = tid;
  si.si_uid = ::getuid();
  if (stop) {
    si.si_code = CLD_TRAPPED;
    si.si_status = (status >> 8) & 0xff;
  } else if (WIFEXITED(status)) {
    si.si_code = CLD_EXITED;
    si.si_status = WEXITSTATUS(status);
  } else {
    si.si_code = WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED;
    si.si_status = WTERMSIG(status);
  }
  ts.tracer_sigchld.push_back(si);
  ::syscall(SYS_tgkill, ts.tgid, tracer, SIGCHLD);
}

void Recorder::wake_real_waits(pid_t process) {
  for (auto& [tid, t] : tasks_) {
    if (t.tgid != process || !t.in_real_wait || t.wait_kicked) continue;
    t.wait_kicked = true;
    try {
      t.task->interrupt();  // its exit stop says -ERESTARTSYS (on_syscall_exit), a trap stop follows
    } catch (const Error&) {
      t.wait_kicked = false;  // dying
    }
  }
}

void Recorder::run_wait_for_real(pid_t waiter) {
  auto it = tasks_.find(waiter);
  if (it == tasks_.end()) return;
  TaskState& ts = it->second;
  unless_killed(ts, [&] { resume(ts); });
}

int Recorder::run() {
  if (options_.argv.empty()) throw Error("nothing to record: give a program to run");
  std::string exe = find_program(options_.argv[0]);
  if (exe.empty()) {
    std::cerr << "rrx: " << options_.argv[0] << ": command not found\n";
    return 127;
  }
  ElfSummary elf = inspect_program(exe);
  switch (elf.kind) {
    case ElfSummary::Kind::Elf64X86_64:
    case ElfSummary::Kind::Script:
      break;
    case ElfSummary::Kind::Elf32:
      throw Error(exe + " is a 32-bit program; rrx records x86-64 programs only");
    case ElfSummary::Kind::OtherArch:
      throw Error(exe + " is not an x86-64 program; rrx records x86-64 programs only");
    case ElfSummary::Kind::NotExecutable:
      throw Error(exe + " is neither an ELF program nor a script");
  }

  refuse_fork_following_tracer();
  if (!options_.name.empty()) {
    trace_dir_ = trace::create_named_trace_dir(trace::traces_root(), options_.name);
  } else if (options_.output_dir.empty()) {
    trace_dir_ = trace::create_trace_dir(trace::traces_root(), fs::path(exe).filename().string());
  } else {
    trace_dir_ = trace::create_trace_dir_at(options_.output_dir);
  }
  files_ = std::make_unique<trace::FileStore>(trace_dir_, options_.max_file_data);
  shared_ = std::make_unique<SharedObjects>(*files_);
  if (options_.chaos.enabled) {
    chaos_ = std::make_unique<ChaosScheduler>(options_.chaos.seed ? *options_.chaos.seed : random_chaos_seed());
    if (!options_.quiet) std::cerr << "rrx: chaos scheduling, seed " << chaos_->seed() << "\n";
  }

  inherited_signals_ = current_signal_state();
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: waitpid returns EINTR
  for (int s : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(s, &sa, nullptr);

  for (int fd : {1, 2}) {
    if (::fstat(fd, &output_stat_[fd - 1]) != 0) output_stat_[fd - 1] = {};
  }
  std::vector<std::string> env = filter_environment(current_environment(), options_.environment);
  // The trace keeps the program's own environment; rrx's LD_PRELOAD is
  // added to each exec'd image's stack instead (record/preload_env.h).
  if (options_.syscallbuf) {
    preload_library_ = preload_library_path();
    desched_ = probe_desched();
    // Opt-in for now (RRX_EARLY_SETUP=1): with it, gdb fatal_signals ("mt")
    // failed in about 2 of 5 full-suite runs under load, cause not found
    // (bench/RESULTS-syscallbuf.md, stop 35).
    const char* early = std::getenv("RRX_EARLY_SETUP");
    if (early && std::string(early) == "1") {
      std::error_code ec;
      preload_library_name_ = fs::canonical(preload_library_, ec).string();
      preload_loads_ = load_segments(preload_library_name_);
      if (!ec && !preload_loads_.empty()) hook_table_ = hook_table_address(preload_library_name_);
    }
  }
  std::string no_faulting_why;
  cpuid_faulting_ = use_cpuid_faulting(options_.no_cpuid_faulting, &no_faulting_why);
  tsc_patch_ = !tsc_trap_works();
  const char* no_slots = std::getenv("RRX_NO_RETURN_SLOT");
  use_return_slots_ = options_.syscallbuf && !chaos_ && !(no_slots && *no_slots && std::string(no_slots) != "0");
  if (!cpuid_faulting_) random_insns_ = std::make_unique<RandomInsnFinder>(no_faulting_why);
  if (cpuid_faulting_ && options_.patch_cpuid) cpuid_sites_.prepare();
  if (RecordStats::wanted()) stats_ = std::make_unique<RecordStats>();
  // (Not with --chaos: a preemption drawn by its timer must land anywhere in
  // a thread's code; bound, rrx's timer waits for the scheduler's tick to
  // take the CPU from the tracee, and a race without a syscall in its
  // window (tests/programs/race_aba_stack.c) showed up 1 run in 40 instead
  // of 6.)
  if (!options_.cpu_unbound && !options_.chaos.enabled && !cpu_unbound_by_environment()) {
    std::string why;
    bound_cpu_ = bind_to_one_cpu(std::nullopt, &why);
    if (!bound_cpu_) std::cerr << "rrx: warning: cannot bind to one CPU (" << why << "); recording unbound, slower\n";
  }
  write_header(exe, env);
  spawn(exe, env);
  try {
    loop();
    if (stats_) stats_->print(std::cerr);
    if (stats_ && writer_) std::cerr << trace::describe(writer_->stats());
  } catch (const ProgramDidNotStart&) {
    // Nothing was recorded: no trace is left behind.
    if (!tasks_.empty()) kill_all();
    terminal_.take_back();
    writer_.reset();
    std::error_code ec;
    fs::remove_all(trace_dir_, ec);
    throw;
  } catch (...) {
    if (!tasks_.empty()) kill_all();
    terminal_.take_back();
    throw;
  }
  terminal_.take_back();
  return exit_status_;
}

}  // namespace

int record(const RecordOptions& options) {
  // (The heap keeps freed memory for the next flush: core/heap_pages.h, from main.)
  Recorder recorder(options);
  int status = recorder.run();
  return keep_trace(options.keep, recorder.trace_dir(), status, options.quiet);
}

}  // namespace rrx::record
