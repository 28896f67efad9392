// The recorder's side of the syscall buffer: see syscallbuf_record.h.
#include "record/syscallbuf_record.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <memory>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/pre_exec_child.h"
#include "core/proc_maps.h"
#include "core/syscallbuf_abi.h"

namespace rrx::record {

namespace fs = std::filesystem;

std::string preload_library_path() {
  if (const char* env = std::getenv("RRX_PRELOAD_LIB"); env && *env) {
    if (!fs::exists(env)) throw Error(std::string("RRX_PRELOAD_LIB names a missing file: ") + env);
    return fs::absolute(env).string();
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  fs::path lib = exe.parent_path().parent_path() / "lib" / "rrx" / "librrx_preload.so";
  if (ec || !fs::exists(lib)) {
    throw Error("the syscall buffer's library is missing (looked for " + lib.string() +
                "); record without it: rrx record -n");
  }
  return lib.string();
}

namespace {
constexpr uint32_t kIpLo = static_cast<uint32_t>(RRX_UNTRACED_IP);
constexpr uint32_t kIpHi = static_cast<uint32_t>(RRX_UNTRACED_IP >> 32);
// The recording-only instruction (the desched event's arm and disarm), in the same 4 GiB.
constexpr uint32_t kRecordingOnlyIpLo = static_cast<uint32_t>(RRX_RECORDING_ONLY_IP);
static_assert(RRX_RECORDING_ONLY_IP >> 32 == RRX_UNTRACED_IP >> 32);
// (A constant array: the child installs it between fork and exec.)
const sock_filter kFilter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 6),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, instruction_pointer)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kIpLo, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kRecordingOnlyIpLo, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, instruction_pointer) + 4),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kIpHi, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
};
}  // namespace

seccomp::Program fast_path_filter() { return seccomp::Program(std::begin(kFilter), std::end(kFilter)); }

int install_fast_path_filter() {
  // Raw syscalls: run in a child whose errno is rrx's (core/pre_exec_child.h).
  sock_fprog fprog{static_cast<unsigned short>(std::size(kFilter)), const_cast<sock_filter*>(kFilter)};
  const long filter = reinterpret_cast<long>(&fprog);
  long r = raw_syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, filter);
  if (r == 0) return 0;
  if (r != -EACCES) return static_cast<int>(-r);
  // Without CAP_SYS_ADMIN the kernel wants no_new_privs first (as rr sets it).
  r = raw_syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0);
  if (r != 0) return static_cast<int>(-r);
  return static_cast<int>(-raw_syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, filter));
}

std::span<const uint8_t> take_published(Task& task, BufferCursor& cursor) {
  // The recorder's one thread flushes. Not cleared when allocated: only the
  // n bytes read into it are used (clearing the whole buffer at the first
  // flush of each recording showed in short ones).
  static std::unique_ptr<uint8_t[]> bytes;
  static size_t capacity = 0;
  rrx_buffer_header h;
  // Unreadable: the kernel is taking the address space down (the thread is
  // being killed); nothing it did after its last stop can be recorded.
  if (!task.read_exact(cursor.addr, &h, sizeof h)) return {};
  if (h.magic != RRX_BUFFER_MAGIC || h.version != RRX_SYSCALLBUF_VERSION || h.header_size != sizeof h ||
      h.capacity > RRX_BUFFER_BYTES || h.bytes_used > h.capacity) {
    throw Error("syscall buffer of thread " + std::to_string(task.tid()) + " has a bad header");
  }
  if (h.generation != cursor.generation) {
    // The library emptied it after a traced call, at whose stop every record was taken.
    cursor.generation = h.generation;
    cursor.taken = 0;
  }
  if (h.bytes_used < cursor.taken) {
    throw Error("syscall buffer of thread " + std::to_string(task.tid()) + " shrank without a new generation");
  }
  if (h.bytes_used == cursor.taken) return {};
  const size_t n = h.bytes_used - cursor.taken;
  if (capacity < n) {
    capacity = std::max<size_t>(n, RRX_BUFFER_BYTES);
    bytes.reset(new uint8_t[capacity]);
  }
  if (!task.read_exact(cursor.addr + sizeof h + cursor.taken, bytes.get(), n)) {
    throw Error("syscall buffer of thread " + std::to_string(task.tid()) + " is unreadable");
  }
  cursor.taken = h.bytes_used;
  return std::span<const uint8_t>(bytes.get(), n);
}

void apply_to_signals(const syscallbuf::RecordView& call, ThreadSignals& signals) {
  const sys::SyscallDesc* d = sys::lookup(call.nr);
  if (!d || !(d->flags & (sys::kSetsSigaction | sys::kSetsSigmask))) return;
  std::span<const uint8_t> input, output;
  for (const auto& [arg, str] : call.strings) {
    if (d->buffered.in_len != 0 && arg == d->buffered.in_arg) {
      input = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(str.data()), str.size());
    }
  }
  // (check_record: the outputs are the row's, the one at argument 2)
  if (!call.outputs.empty()) output = call.outputs.front().bytes;
  signals.after_buffered(*d, call.args, call.ret, input, output);
}

kj::ArrayPtr<capnp::word> event_scratch(size_t words) {
  static std::vector<capnp::word> scratch;
  if (scratch.size() < words) scratch = std::vector<capnp::word>(std::max<size_t>(words, 2 * scratch.size()));
  return kj::arrayPtr(scratch.data(), scratch.size());
}

std::optional<sys::Range> raise_fd_epoch(Task& task) {
  uint32_t epoch = 0;
  if (!task.read_exact(RRX_STATE_ADDR + offsetof(rrx_process_state, fd_epoch), &epoch, sizeof epoch)) return std::nullopt;
  ++epoch;
  if (!task.write_mem(RRX_STATE_ADDR + offsetof(rrx_process_state, fd_epoch), &epoch, sizeof epoch)) return std::nullopt;
  return sys::Range{RRX_STATE_ADDR + offsetof(rrx_process_state, fd_epoch), sizeof epoch};
}

std::optional<sys::Range> set_trace_all(Task& task, BufferCursor& cursor, bool on) {
  const uint32_t value = on ? 1 : 0;
  const uint64_t addr = cursor.addr + offsetof(rrx_buffer_header, trace_all);
  if (!task.write_mem(addr, &value, sizeof value)) return std::nullopt;
  cursor.trace_all = on;
  return sys::Range{addr, sizeof value};
}

std::optional<sys::Range> publish_file_facts(Task& task, const rrx_file_facts& facts) {
  const uint64_t at = RRX_STATE_ADDR + offsetof(rrx_process_state, facts);
  if (!task.write_mem(at, &facts, sizeof facts)) return std::nullopt;
  return sys::Range{at, sizeof facts};
}

std::optional<sys::Range> set_process_trace_all(Task& task) {
  const uint64_t at = RRX_STATE_ADDR + offsetof(rrx_process_state, trace_all);
  const uint32_t on = 1;
  if (!task.write_mem(at, &on, sizeof on)) return std::nullopt;
  return sys::Range{at, sizeof on};
}

bool in_preload_code(pid_t tgid, uint64_t ip) {
  if (ip >= RRX_PAGE_ADDR && ip < RRX_PAGE_ADDR + RRX_PAGE_SIZE) return true;
  auto m = query_proc_mapping(tgid, ip);
  return in_preload_code(ip, m ? &*m : nullptr);
}

bool in_preload_code(uint64_t ip, const ProcMapping* m) {
  if (ip >= RRX_PAGE_ADDR && ip < RRX_PAGE_ADDR + RRX_PAGE_SIZE) return true;
  return m && m->path.find("librrx_preload.so") != std::string::npos;
}

}  // namespace rrx::record
