// The syscall buffer set up by the recorder before the preload library's
// constructor (core/syscallbuf_abi.h, "Early set-up"), so that the dynamic
// loader's own calls (each library's openat, read, fstat, pread64, close,
// the RELRO mprotects: ~30 per exec) are buffered like the program's: at the
// exit of the loader's mmap of the library's last segment, the recorder maps
// the rrx page, the state page, early thread-locals with their alternate
// stack and a buffer, fills them in as the library's constructor would,
// and marks the library's rrx_hook_table `early`. One trace event
// (schema PreloadEarly), which replay/preload_early_replay applies at the
// same point.
#pragma once

#include <signal.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/ptrace_task.h"
#include "trace_format/trace.capnp.h"

namespace rrx::record {

struct EarlySetup {
  uint64_t inject_at = 0;  // where the remote calls were made from (the library's code)
  uint64_t map_addr = 0, map_len = 0, code_addr = 0, code_len = 0;
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> writes;
  uint64_t buffer = 0;  // the thread's buffer (0: none)
};

// The ELF address of rrx_hook_table in the library at `path`, or nullopt
// (no such symbol: a library without the early set-up).
std::optional<uint64_t> hook_table_address(const std::string& path);

// In `task`, stopped at the exit of the mmap that mapped the library's last
// segment with load bias `bias`: maps and fills the pages (the recording-only
// instruction as the replay has it: the desched event comes later, at the
// constructor's RRX_CALL_INIT_BUFFER). `table` is hook_table_address's.
// nullopt (nothing changed) when the table is not this rrx's or the pages'
// addresses are taken. Live signals that arrive meanwhile go to *signals.
// (The remote calls meet the fast path's seccomp filter: a seccomp stop
// each, then the exit.)
std::optional<EarlySetup> set_up_early(Task& task, uint64_t bias, uint64_t table, std::vector<siginfo_t>* signals);

// Ends the early set-up of `task`'s process where it is still in effect
// (its slot names the early thread-locals): a thread is being made that
// would share them. The event's writes, or nullopt (nothing to end).
std::optional<EarlySetup> end_early(Task& task);

void fill_preload_early(schema::PreloadEarly::Builder b, const EarlySetup& e);

}  // namespace rrx::record
