// `rrx dump`, `rrx info`, `rrx ls`: reading traces for people and scripts.
#pragma once

#include <string>
#include <vector>

namespace rrx::cli {

struct DumpOptions {
  std::string trace;
  bool json = false;
  std::vector<std::string> syscalls;  // -e filters; empty: all events
};
int dump_trace(const DumpOptions& options);
int info_trace(const std::string& trace, bool json);
int list_traces(bool json);
int list_processes(const std::string& trace, bool json);

}  // namespace rrx::cli
