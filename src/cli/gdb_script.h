// The gdb command file `rrx replay` loads into the gdb it starts (-ix): rr's
// commands as plain gdb commands (when, when-tid, goto, checkpoint, restart,
// info checkpoints, delete checkpoint) and the hook that makes gdb re-read
// the program after a monitor command. Written to a temporary file.
#pragma once

#include <string>

namespace rrx::cli {

// The text of the command file (gdb commands with an embedded Python block).
const std::string& gdb_startup_script();

// The command file on disk for as long as this object lives (or until
// remove()); path() is empty when it could not be written.
class GdbStartupFile {
 public:
  GdbStartupFile();
  ~GdbStartupFile();
  GdbStartupFile(const GdbStartupFile&) = delete;
  GdbStartupFile& operator=(const GdbStartupFile&) = delete;
  const std::string& path() const { return path_; }
  void remove();

 private:
  std::string path_;
};

}  // namespace rrx::cli
