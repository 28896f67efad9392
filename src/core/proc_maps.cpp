#include "core/proc_maps.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>

namespace rrx {

namespace {

// The parser runs over every line of every maps file the recorder reads (at
// each patched site, each mmap of a shared file: for all processes of the
// machine): hand-written, no sscanf, no stream.
bool hex_field(std::string_view& s, uint64_t* out) {
  size_t i = 0;
  uint64_t v = 0;
  for (; i < s.size() && i < 16; ++i) {
    char c = s[i];
    unsigned d;
    if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = static_cast<unsigned>(c - 'A' + 10);
    else break;
    v = v << 4 | d;
  }
  if (i == 0 || (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i])))) return false;
  *out = v;
  s.remove_prefix(i);
  return true;
}

bool dec_field(std::string_view& s, uint64_t* out) {
  size_t i = 0;
  uint64_t v = 0;
  for (; i < s.size() && i < 20 && s[i] >= '0' && s[i] <= '9'; ++i) v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  if (i == 0) return false;
  *out = v;
  s.remove_prefix(i);
  return true;
}

bool expect(std::string_view& s, char c) {
  if (s.empty() || s[0] != c) return false;
  s.remove_prefix(1);
  return true;
}

void skip_spaces(std::string_view& s) {
  while (!s.empty() && (s[0] == ' ' || s[0] == '\t')) s.remove_prefix(1);
}

}  // namespace

std::optional<ProcMapping> parse_proc_maps_line(std::string_view s) {
  // START-END PERMS OFFSET MAJOR:MINOR INODE [PATH]
  ProcMapping m;
  uint64_t major = 0, minor = 0;
  if (!hex_field(s, &m.start) || !expect(s, '-') || !hex_field(s, &m.end) || !expect(s, ' ')) return std::nullopt;
  size_t n = 0;
  while (n < s.size() && n < 4 && s[n] != ' ') ++n;
  if (n == 0 || n >= s.size() || s[n] != ' ') return std::nullopt;
  for (size_t i = 0; i < n; ++i) m.perms[i] = s[i];
  s.remove_prefix(n);
  skip_spaces(s);
  if (!hex_field(s, &m.offset) || !expect(s, ' ') || !hex_field(s, &major) || !expect(s, ':') ||
      !hex_field(s, &minor) || !expect(s, ' ') || !dec_field(s, &m.inode) || m.end < m.start) {
    return std::nullopt;
  }
  m.dev_major = static_cast<unsigned>(major);
  m.dev_minor = static_cast<unsigned>(minor);
  skip_spaces(s);
  m.path = std::string(s);
  return m;
}

std::string read_proc_maps_text(pid_t pid) {
  std::string text;
  std::string path = "/proc/" + std::to_string(pid) + "/maps";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

std::vector<ProcMapping> read_proc_maps(pid_t pid) {
  std::vector<ProcMapping> out;
  const std::string text = read_proc_maps_text(pid);
  std::string_view rest(text);
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
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
