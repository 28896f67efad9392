// `rrx record`: runs a program under ptrace and writes its trace.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "record/chaos.h"
#include "record/environment.h"
#include "record/keep_trace.h"

namespace rrx::record {

struct RecordOptions {
  std::vector<std::string> argv;       // program and arguments
  std::filesystem::path output_dir;    // empty: ${RRX_TRACE_DIR:-~/.local/share/rrx}/NAME-N
  std::string name;                    // --name: ${RRX_TRACE_DIR:-~/.local/share/rrx}/NAME exactly
  Keep keep = Keep::Always;            // --keep: what happens to the trace at the end (keep_trace.h)
  ChaosOptions chaos;                  // --chaos: randomized scheduling (chaos.h)
  bool strict = false;                 // a syscall without a table row is an error, not ENOSYS
  bool quiet = false;                  // no "trace written to" line
  EnvironmentFilter environment;       // the program runs with rrx's environment, reduced by this
  // Processes left running when the main (first) process exits: wait for
  // them (All), or end them with SIGKILL (Main); see README, daemons.
  enum class WaitFor { All, Main };
  WaitFor wait_for = WaitFor::All;
  std::optional<double> wait_timeout_s;  // with All: end them this long after the main process exited
  // Do not trap cpuid even where CPUID faulting is available (as on a machine
  // without it: rdrand/rdseed are searched for and warned about instead).
  bool no_cpuid_faulting = false;
  // With CPUID faulting: patch cpuid sites to look rrx's answers up in the
  // process (cpuid_sites.h) instead of trapping each (--no-cpuid-patching: off).
  bool patch_cpuid = true;
  // Run rrx and the tree on any CPU instead of one (--cpu-unbound,
  // RRX_CPU_UNBOUND=1; core/cpu_binding.h): slower, as every ptrace stop
  // then wakes another CPU.
  bool cpu_unbound = false;
  // A mapped file holding more data than this (bytes; holes do not count) is
  // stored only for the mapped range (--max-file-data; trace::FileStore).
  uint64_t max_file_data = uint64_t{1} << 30;
  // The fast path (--syscallbuf; -n: off, the default): the preload library records the calls the
  // syscall table marks kBuffered in-process, a seccomp filter lets them run
  // without a ptrace stop, and the other calls stop once at entry (their
  // seccomp stop) instead of at an entry stop (README, "Syscall buffer").
  bool syscallbuf = false;
};

// Records and returns what `rrx record` exits with: the program's exit
// status, 128+N when it was killed by signal N, 127 when it could not be
// started. Throws rrx::Error for failures of rrx itself.
int record(const RecordOptions& options);

}  // namespace rrx::record
