// /proc/PID/maps, parsed once for everyone: the mappings of a process with
// their addresses, permissions, file offset, device, inode and path column
// (a file path, possibly with " (deleted)", a [name] or empty).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rrx {

struct ProcMapping {
  uint64_t start = 0, end = 0;  // [start, end)
  char perms[5] = "----";       // rwxp / rwxs
  uint64_t offset = 0;          // file offset (shmem: page offset) of start
  unsigned dev_major = 0, dev_minor = 0;
  uint64_t inode = 0;
  std::string path;

  bool readable() const { return perms[0] == 'r'; }
  bool writable() const { return perms[1] == 'w'; }
  bool executable() const { return perms[2] == 'x'; }
  bool shared() const { return perms[3] == 's'; }
  // Private and backed by no file: [heap], [stack], [anon:NAME] or nothing.
  bool private_anonymous() const { return !shared() && (path.empty() || path[0] == '['); }
  bool contains(uint64_t addr) const { return addr >= start && addr < end; }
};

// Whether [addr, addr + len) reaches [lo, hi) (a range that wraps past the
// top of the address space reaches up to it).
inline bool range_overlaps(uint64_t addr, uint64_t len, uint64_t lo, uint64_t hi) {
  const uint64_t end = addr + len < addr ? UINT64_MAX : addr + len;
  return addr < hi && end > lo;
}

// One line of a maps file; nullopt for a line that is not one.
std::optional<ProcMapping> parse_proc_maps_line(std::string_view line);
// The mappings of process (or thread) `pid`, in address order; empty when
// its maps cannot be read (the process is gone).
std::vector<ProcMapping> read_proc_maps(pid_t pid);
// The text of its maps file as it is ("" when it cannot be read): for a
// search that parses only the lines that can match.
std::string read_proc_maps_text(pid_t pid);
// The mapping holding `addr`, if any.
std::optional<ProcMapping> proc_mapping_at(pid_t pid, uint64_t addr);

// The mapping holding `addr`, as proc_mapping_at gives it, asked with the
// PROCMAP_QUERY ioctl (Linux 6.11) where the kernel has it: one mapping, no
// line of the others formatted (the recorder asks at every site it patches).
// Its path is the kernel's own (the text escapes a newline in a file name as
// \012). proc_mapping_at (the text) on older kernels.
std::optional<ProcMapping> query_proc_mapping(pid_t pid, uint64_t addr);
// Its bounds [start, end) alone (at every exec: the stack's, the vDSO's).
std::optional<std::pair<uint64_t, uint64_t>> proc_mapping_bounds(pid_t pid, uint64_t addr);

// Whether process `pid` maps the file (dev_major:dev_minor, inode) writable
// and shared (VM_WRITE and VM_MAYSHARE: "rw?s" in its maps), asked with the
// PROCMAP_QUERY ioctl (Linux 6.11) for its writable shared file mappings
// only, so no line of its maps is formatted or parsed; false when its maps
// cannot be opened (the process is gone, or not ours to read). nullopt where
// the kernel has no PROCMAP_QUERY: read_proc_maps_text then.
std::optional<bool> maps_file_writable_shared(pid_t pid, unsigned dev_major, unsigned dev_minor, uint64_t inode);

}  // namespace rrx
