// The --keep policy of rrx record (keep_trace.h).
#include "record/keep_trace.h"

#include <iostream>

#include "core/error.h"
#include "trace_format/trace_dir.h"
#include "trace_format/trace_pack.h"

namespace rrx::record {

std::optional<Keep> parse_keep(const std::string& text) {
  if (text == "always") return Keep::Always;
  if (text == "failure") return Keep::Failure;
  if (text == "never") return Keep::Never;
  return std::nullopt;
}

int keep_trace(Keep keep, const std::filesystem::path& dir, int status, bool quiet) {
  if (dir.empty()) return status;
  const bool failed = status != 0;
  if (keep == Keep::Never || (keep == Keep::Failure && !failed)) {
    trace::remove_trace_tree(dir);
    trace::forget_latest_if(dir);
    if (!quiet) {
      std::cerr << "rrx: the program " << (failed ? "failed" : "succeeded") << " (status " << status
                << "); its trace was deleted (--keep=" << (keep == Keep::Never ? "never" : "failure") << ")\n";
    }
    return status;
  }
  if (keep == Keep::Failure) {
    // Kept to leave the machine: self-contained now, while the recorded
    // files are still the ones on this machine.
    try {
      trace::pack_trace(dir, trace::FileHashKind::Pages);
    } catch (const Error& e) {
      std::cerr << "rrx: warning: the trace could not be packed: " << e.what() << "\n";
    }
    if (!quiet) std::cerr << "rrx: the program failed (status " << status << "); packed trace in " << dir.string() << "\n";
    return status;
  }
  if (!quiet) std::cerr << "rrx: trace written to " << dir.string() << "\n";
  return status;
}

}  // namespace rrx::record
