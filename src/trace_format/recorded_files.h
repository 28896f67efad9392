// The files a recording executed or mapped, by the paths the program knew
// them by, and the trace's copies of them (files/HASH/NAME). Read by the gdb
// stub's Host I/O (the debugger reads the recorded binaries, not the host's)
// and by `rrx sources` (the binaries whose debug info names source files).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "trace_format/sparse_file.h"

namespace rrx::trace {

class TraceReader;

class RecordedFiles {
 public:
  // Where a file came from in the trace.
  enum class Role { Executable, Interpreter, Mapping };
  // One version of a file at one path: the trace's copy of the bytes the
  // program saw there from event `event` on.
  struct Version {
    uint64_t event = 0;
    int pid = 0;
    std::string hash;
    Role role = Role::Mapping;
    std::string path;  // the path the recording used it by
  };
  // A distinct content the recording used, and the paths it was seen at.
  struct Copy {
    std::string hash;
    std::vector<std::string> paths;  // first: the path it was first executed or mapped at
    Role role = Role::Mapping;       // of its first use
  };

  // Opens the trace at `trace_dir` (throws TraceError / rrx::Error for a
  // trace it cannot read); read_until() reads its events. Paths: an
  // execve's program (/proc/PID/exe after the exec) and its PT_INTERP, every
  // file-backed mmap (as /proc/PID/maps named it), and the path an
  // open/openat that returned the mmap'd fd was given (ld.so opens
  // /lib/x86_64-linux-gnu/libc.so.6, the map names
  // /usr/lib/x86_64-linux-gnu/libc.so.6; gdb asks for the first, from the
  // link map). Copies that hold only part of a file (larger than `rrx record
  // --max-file-data`) are left out: they cannot stand for the file.
  explicit RecordedFiles(const std::filesystem::path& trace_dir);
  ~RecordedFiles();
  RecordedFiles(RecordedFiles&&) noexcept;
  // Reads the events before `now` not read yet (UINT64_MAX: the whole
  // trace). A replay reads as far as it has gone: what gdb can ask for
  // (the program, the link map's libraries) was mapped before the current
  // event.
  void read_until(uint64_t now);
  // The whole trace, read.
  static RecordedFiles scan(const std::filesystem::path& trace_dir);

  // The version of `path` as process `pid` saw it when event `now` is next:
  // the last one that process used before `now`, else the last any process
  // did, else the first one recorded. `/proc/PID/exe` (or /proc/self/exe for
  // `pid`) names the program PID ran then. nullopt: the recording never
  // used that path (nor its lexically normal form).
  std::optional<Version> find(const std::string& path, int pid, uint64_t now) const;
  // The program process `pid` ran before event `now` (its path), if it exec'd.
  std::optional<std::string> exe_of(int pid, uint64_t now) const;
  // For "/proc/PID/exe" or "/proc/self/exe" (self: `pid`): the program that
  // process ran before event `now`. nullopt for other paths.
  std::optional<std::string> proc_exe(const std::string& path, int pid, uint64_t now) const;
  // True when the recording used `path` (any version).
  bool recorded(const std::string& path) const { return by_path_.count(path) != 0; }

  // Every distinct content, in the order of first use.
  const std::vector<Copy>& copies() const { return copies_; }
  const std::filesystem::path& trace_dir() const { return trace_dir_; }
  FileHashKind hash_kind() const { return hash_kind_; }

 private:
  void add(const std::string& path, Version v);
  static const Version* pick(const std::vector<Version>& versions, int pid, uint64_t now);

  std::filesystem::path trace_dir_;
  std::unique_ptr<TraceReader> reader_;
  bool read_all_ = false;
  // Per process: the path each open fd was opened by, while it stays open.
  std::map<int, std::map<int64_t, std::string>> opened_;
  FileHashKind hash_kind_ = FileHashKind::Pages;
  std::map<std::string, std::vector<Version>> by_path_;  // versions in event order
  std::map<int, std::vector<Version>> exes_;             // per pid, in event order
  std::vector<Copy> copies_;
  std::map<std::string, size_t> copy_index_;  // hash -> copies_ index
};

}  // namespace rrx::trace
