// `rrx replay` with a debugger: the gdb stub over a replay, and gdb itself.
#pragma once

#include <string>
#include <vector>

#include "replay/replay_session.h"

namespace rrx::cli {

struct DebugOptions {
  replay::ReplayOptions replay;
  std::string debugger = "gdb";       // --debugger PATH
  std::vector<std::string> scripts;   // -x FILE, passed to gdb
  std::vector<std::string> gdb_args;  // after `--`
  bool batch = false;                 // gdb -batch
  int serve_port = -1;                // -s PORT: serve only, no gdb
  std::string process;                // -p PID or program name: the process to debug
  std::string onfork;                 // -f PID: debug that process from its fork
  std::string goto_event;             // -g EVENT: start there
};

int debug_replay(const DebugOptions& options);

}  // namespace rrx::cli
