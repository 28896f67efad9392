// The recorder's handling of cpuid and of the instructions cpuid announces
// (rdrand, rdseed): where CPUID faulting is available, every recorded thread
// faults on cpuid and gets rrx's answer (recorded as a `cpuid` event, with
// the features rrx cannot record hidden); where it is not, the executable
// mappings are searched for rdrand/rdseed (`randomInsns` events, one warning).
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/forced_signal.h"
#include "core/ptrace_task.h"
#include "record/insn_scan/insn_scan.h"
#include "record/insn_site_cache.h"
#include "trace_format/trace_writer.h"

namespace rrx::record {

// Whether this recording traps cpuid: CPUID faulting is available and not
// turned off (--no-cpuid-faulting, or RRX_NO_CPUID_FAULTING=1 in rrx's
// environment). `why_not` says why not, for the warning.
bool use_cpuid_faulting(bool refused_by_option, std::string* why_not);

// A trapped cpuid at the stopped task's ip (length `len`): answers it,
// steps over it and appends the `cpuid` event for thread tid of process pid.
// `undo`: what rrx put back after the trap's SIGSEGV (core/forced_signal.h).
void answer_cpuid(trace::TraceWriter& writer, Task& task, pid_t pid, size_t len, const ForcedSignalUndo& undo);

// The fallback: rdrand/rdseed in the files a process maps executable.
class RandomInsnFinder {
 public:
  // `why` completes the warning: "this machine has no CPUID faulting", ...
  explicit RandomInsnFinder(std::string why) : why_(std::move(why)) {}

  // The executable file mappings of a process just after its exec (from
  // /proc/TID/maps; the exec'd program's own are `in_program`).
  void scan_exec(trace::TraceWriter& writer, Task& task, pid_t pid, const std::string& exe);
  // A mapping just made by mmap: [addr, addr+len) of `path` from file offset `offset`.
  void scan_mapping(trace::TraceWriter& writer, Task& task, pid_t pid, const std::string& path,
                    const std::string& display_path, uint64_t addr, uint64_t len, uint64_t offset);

 private:
  struct Mapping {
    std::string path;          // where to read the file
    std::string display_path;  // what the trace and the warning call it
    uint64_t addr, len, offset;
    bool in_program;
  };
  void record(trace::TraceWriter& writer, Task& task, pid_t pid, const std::vector<Mapping>& maps);
  const std::vector<insn_scan::Site>& sites_of(const std::string& path);

  std::string why_;
  // Per distinct file (device, inode, size, mtime): scanned once per recording,
  // and once for all recordings where the user has a cache (insn_site_cache.h).
  std::map<std::tuple<uint64_t, uint64_t, uint64_t, int64_t>, std::vector<insn_scan::Site>> cache_;
  std::optional<InsnSiteCache> known_;  // made at the first file
  bool warned_ = false;
};

}  // namespace rrx::record
