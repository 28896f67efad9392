// The recorder's side of the syscall buffer (the fast path, `rrx record
// --syscallbuf`): where the preload library is, the seccomp filter that lets
// the library's untraced instruction run without a stop, and the cursor that
// takes the records a thread published since its last stop.
#pragma once

#include <sys/types.h>

#include <capnp/common.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/proc_maps.h"
#include "core/ptrace_task.h"
#include "core/seccomp_filter.h"
#include "core/syscall_table.h"
#include "core/syscallbuf.h"
#include "core/syscallbuf_abi.h"
#include "record/signal_state.h"

namespace rrx::record {

// librrx_preload.so beside rrx: <dir of rrx>/../lib/rrx/ (build tree and
// install), or $RRX_PRELOAD_LIB. Throws rrx::Error when it is missing.
std::string preload_library_path();

// In the child, before its exec (after the recorder seized it): the filter
// that allows calls made from RRX_UNTRACED_IP and returns SECCOMP_RET_TRACE for
// every other. Sets PR_SET_NO_NEW_PRIVS when the kernel asks for it. Returns
// 0 or the errno of the failure (async-signal-safe: no allocation).
int install_fast_path_filter();
// The same filter, for tests (seccomp::run).
seccomp::Program fast_path_filter();

// One thread's buffer as the recorder follows it: shared by the tasks that
// share the memory (vfork), copied at fork.
struct BufferCursor {
  uint64_t addr = 0;        // struct rrx_buffer_header in the thread's memory
  uint32_t generation = 0;  // the library's generation the cursor counts in
  uint32_t taken = 0;       // bytes of records already turned into events
  bool trace_all = false;   // the header's trace_all as the recorder last wrote it
};

// The bytes of the records published since the cursor, which moves past
// them (none when the memory is gone: a thread being killed), for a
// syscallbuf::RecordParser. They stay valid until the next call (a buffer
// kept from flush to flush). Throws rrx::Error when the header is not what
// the library writes.
std::span<const uint8_t> take_published(Task& task, BufferCursor& cursor);

// A record of the flush applied to the thread's signal state model, in
// order (core/syscallbuf_abi.h, "Signal state"): rt_sigaction's and
// rt_sigprocmask's (the rows with kSetsSigaction or kSetsSigmask); other
// calls change nothing of it.
void apply_to_signals(const syscallbuf::RecordView& call, ThreadSignals& signals);

// Zeroed space for the first segment of a buffered call's event message of
// `words` words (capnp::MallocMessageBuilder zeroes what it used when it is
// destroyed, so the space is reused from call to call without malloc). One
// message at a time.
kj::ArrayPtr<capnp::word> event_scratch(size_t words);

// Raises the fd epoch in the process state page of `task`'s process (core/
// syscallbuf_abi.h: the library then forgets what it knew of each fd) and
// returns the range written, for the event's memory writes; nothing when the
// page is not there.
std::optional<sys::Range> raise_fd_epoch(Task& task);

// Sets the header's trace_all (core/syscallbuf_abi.h: the library buffers
// none of the thread's calls while it is set) in `task`'s memory and returns
// the range written, for the event's memory writes; nothing when the header
// cannot be written (the memory is gone).
std::optional<sys::Range> set_trace_all(Task& task, BufferCursor& cursor, bool on);

// Writes `facts` into the task's process state page (what the library needs
// to decide a write's fd without asking: core/syscallbuf_abi.h); the range to
// record as a memory write of the current event, or nullopt (no page).
std::optional<sys::Range> publish_file_facts(Task& task, const rrx_file_facts& facts);

// Sets the process's trace_all (rrx_process_state: it has a seccomp mode of
// its own, the library makes no call of its own from now on); the range
// written, a memory write of the event, or nullopt where the process has no
// state page (no library).
std::optional<sys::Range> set_process_trace_all(Task& task);

// True when `ip` is in the library's code or the rrx page of process `tgid`:
// rrx does not take the CPU from a thread there (a transaction must not be
// split by a preemption event).
bool in_preload_code(pid_t tgid, uint64_t ip);
// The same, where the mapping holding `ip` is known already (none: nullptr).
bool in_preload_code(uint64_t ip, const ProcMapping* mapping);

}  // namespace rrx::record
