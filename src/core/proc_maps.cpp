#include "core/proc_maps.h"

#include <cinttypes>
#include <cstdio>
#include <fstream>

namespace rrx {

std::optional<ProcMapping> parse_proc_maps_line(std::string_view line) {
  // START-END PERMS OFFSET MAJOR:MINOR INODE [PATH]
  std::string s(line);
  ProcMapping m;
  char perms[8] = {};
  int path_at = 0;
  if (std::sscanf(s.c_str(), "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n", &m.start, &m.end, perms,
                  &m.offset, &m.dev_major, &m.dev_minor, &m.inode, &path_at) < 7 ||
      m.end < m.start) {
    return std::nullopt;
  }
  for (int i = 0; i < 4 && perms[i]; ++i) m.perms[i] = perms[i];
  if (path_at > 0 && static_cast<size_t>(path_at) <= s.size()) m.path = s.substr(static_cast<size_t>(path_at));
  return m;
}

std::vector<ProcMapping> read_proc_maps(pid_t pid) {
  std::vector<ProcMapping> out;
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (auto m = parse_proc_maps_line(line)) out.push_back(std::move(*m));
  }
  return out;
}

std::optional<ProcMapping> proc_mapping_at(pid_t pid, uint64_t addr) {
  for (auto& m : read_proc_maps(pid)) {
    if (m.contains(addr)) return std::move(m);
  }
  return std::nullopt;
}

}  // namespace rrx
