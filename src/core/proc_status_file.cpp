// ProcStatusFile: see proc_status_file.h.
#include "core/proc_status_file.h"


#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/whole_file.h"

namespace rrx {

ProcStatusFile::ProcStatusFile(const std::string& path) {
  // (~1.5 KB today: one read.)
  if (auto text = read_whole_file(path)) text_ = std::move(*text);
}

ProcStatusFile ProcStatusFile::of(pid_t tid) { return ProcStatusFile("/proc/" + std::to_string(tid) + "/status"); }

std::optional<std::string_view> ProcStatusFile::field(std::string_view name) const {
  std::string_view text(text_);
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(at, nl - at);
    at = nl + 1;
    if (line.size() > name.size() && line.substr(0, name.size()) == name && line[name.size()] == ':') {
      line.remove_prefix(name.size() + 1);
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
      return line;
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> ProcStatusFile::hex_field(std::string_view name) const {
  auto v = field(name);
  if (!v || v->empty()) return std::nullopt;
  std::string s(*v);
  char* end = nullptr;
  errno = 0;
  unsigned long long x = std::strtoull(s.c_str(), &end, 16);
  if (errno != 0 || end == s.c_str()) return std::nullopt;
  return x;
}

std::optional<int64_t> ProcStatusFile::int_field(std::string_view name) const {
  std::vector<int64_t> all = int_list(name);
  if (all.empty()) return std::nullopt;
  return all.front();
}

std::vector<int64_t> ProcStatusFile::int_list(std::string_view name) const {
  std::vector<int64_t> out;
  auto v = field(name);
  if (!v) return out;
  std::string s(*v);
  const char* p = s.c_str();
  for (;;) {
    char* end = nullptr;
    errno = 0;
    long long x = std::strtoll(p, &end, 10);
    if (end == p || errno != 0) break;
    out.push_back(x);
    p = end;
  }
  return out;
}

}  // namespace rrx
