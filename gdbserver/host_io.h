// gdb's Host I/O packets (vFile:setfs/open/pread/pwrite/close/fstat/stat/
// readlink/unlink): how a debugger with `set sysroot target:` (gdb's
// default) reads the debugged program's executable and libraries through
// the stub. Regular files only, opened read-only where Target::file_for
// says the bytes are; writes and unlink are refused with EPERM.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "gdbserver/target.h"

namespace rrx::gdb {

class HostIo {
 public:
  explicit HostIo(Target& target) : target_(target) {}
  ~HostIo();
  HostIo(const HostIo&) = delete;
  HostIo& operator=(const HostIo&) = delete;

  // Answers `packet` (what follows "vFile:"): "F..." replies, with binary
  // data escaped. Empty: not a Host I/O operation this stub knows.
  std::string handle(std::string_view packet);
  // Closes every file gdb left open (a new connection starts with none).
  void reset();

  // gdb's File-I/O errno values (gdb/include/gdb/fileio.h).
  static int to_fileio_errno(int linux_errno);

 private:
  std::string open(std::string_view args);
  std::string pread(std::string_view args);
  std::string fstat_reply(int fd);

  Target& target_;
  int fs_pid_ = 0;        // vFile:setfs: whose files (0: the current process's)
  std::set<int> fds_;     // host fds gdb holds open (gdb names them by these numbers)
};

}  // namespace rrx::gdb
