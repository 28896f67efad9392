// The trace's copies of mapped files, open in every replayed process at
// descriptors of their own (inherited through fork and exec), so that replay
// maps a file mapping from its copy, sharing the page cache as the recording
// did, instead of filling anonymous memory with the file's bytes.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace rrx::replay {

class MappedCopies {
 public:
  // Opens every copy under trace_dir/files in rrx. Off (no descriptors)
  // when RRX_REPLAY_MAP_COPIES=0, when the copies lie on a noexec mount
  // (a PROT_EXEC map of them would fail), or when the descriptor limit
  // leaves no room for them.
  explicit MappedCopies(const std::filesystem::path& trace_dir);
  ~MappedCopies();
  MappedCopies(const MappedCopies&) = delete;
  MappedCopies& operator=(const MappedCopies&) = delete;

  // In the replayed child between fork and exec: puts each copy at its
  // descriptor (no close-on-exec), raising the soft RLIMIT_NOFILE to cover
  // them. Only async-signal-safe calls. False: a copy could not be placed.
  bool install_in_child() const;
  // The descriptor of the copy with this content hash in a replayed
  // process, or -1 (not in the trace, or the mechanism is off).
  int fd_of(const std::string& hash) const;

 private:
  std::vector<int> own_;              // rrx's descriptors, in the order of the targets
  std::map<std::string, int> target_;  // hash -> the descriptor in the replayed processes
  int limit_ = 0;                      // the soft RLIMIT_NOFILE the child needs
};

}  // namespace rrx::replay
