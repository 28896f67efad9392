// /proc/PID/status (or /proc/PID/task/TID/status) read whole with one
// read(2) and looked up by field: the recorder reads it at every new task
// (NSpid), exec (SigIgn) and signal stop (SigIgn/SigCgt); stdio and
// iostreams line by line cost several times the kernel's own work there.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rrx {

class ProcStatusFile {
 public:
  // Reads `path`; empty (every field absent) when it cannot be read.
  explicit ProcStatusFile(const std::string& path);
  // /proc/TID/status.
  static ProcStatusFile of(pid_t tid);
  bool ok() const { return !text_.empty(); }
  // The value of "NAME:\t..." (without the name, the colon, the leading
  // blanks and the newline), or nullopt.
  std::optional<std::string_view> field(std::string_view name) const;
  // A hexadecimal mask field (SigIgn, SigCgt, SigBlk...).
  std::optional<uint64_t> hex_field(std::string_view name) const;
  // A decimal field (PPid, TracerPid...).
  std::optional<int64_t> int_field(std::string_view name) const;
  // The numbers of a field that lists several (NSpid, NStgid).
  std::vector<int64_t> int_list(std::string_view name) const;

 private:
  std::string text_;
};

}  // namespace rrx
