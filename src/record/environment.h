// The environment a recorded program runs with: rrx's own, reduced by
// `rrx record --env-keep/--env-drop`. The recorder passes the result to the
// program's execve and writes exactly it into the trace header.
#pragma once

#include <string>
#include <vector>

namespace rrx::record {

// Shell-style glob patterns (fnmatch(3)) on variable NAMES.
struct EnvironmentFilter {
  std::vector<std::string> keep;  // non-empty: keep only the variables matching one of these
  std::vector<std::string> drop;  // then drop the variables matching one of these
};

// Throws rrx::Error for a pattern that cannot match a name (empty, or with '=').
void check_environment_filter(const EnvironmentFilter& filter);

// The entries ("NAME=VALUE") of `env` that pass the filter, in their order:
// the keep-list first (when it is not empty), then the drop-list.
std::vector<std::string> filter_environment(const std::vector<std::string>& env, const EnvironmentFilter& filter);

// rrx's own environment (environ), as entries.
std::vector<std::string> current_environment();

}  // namespace rrx::record
