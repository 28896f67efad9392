// `rrx dump`, `rrx info`, `rrx ls`, `rrx ps`: reading traces for people and
// scripts; `rrx pack`: making one self-contained.
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
// `rrx info --here` (info_here.cpp): what a recording here would use.
int info_here(bool json);
int list_traces(bool json);
int list_processes(const std::string& trace, bool json);
// `rrx pack [TRACE] [--archive OUT]`: trace_pack.h, then trace_archive.h.
int pack_command(const std::string& trace, const std::string& archive, bool quiet);

}  // namespace rrx::cli
