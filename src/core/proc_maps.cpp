#include "core/proc_maps.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>

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

// PROCMAP_QUERY (linux/fs.h since 6.11; older headers lack it): one mapping
// of a process by address, filtered by its flags, without its text.
struct ProcmapQuery {
  uint64_t size;
  uint64_t query_flags;
  uint64_t query_addr;
  uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
  uint32_t dev_major, dev_minor;
  uint32_t vma_name_size, build_id_size;
  uint64_t vma_name_addr, build_id_addr;
};
static_assert(sizeof(ProcmapQuery) == 104);
constexpr unsigned long kProcmapQuery = _IOWR('f', 17, ProcmapQuery);
constexpr uint64_t kQueryReadable = 0x01, kQueryWritable = 0x02, kQueryExecutable = 0x04, kQueryShared = 0x08;
constexpr uint64_t kQueryCoveringOrNext = 0x10, kQueryFileBacked = 0x20;
constexpr uint64_t kUserEnd = uint64_t{1} << 47;  // the user half with 4-level paging (above: the text, only slower)

// Cleared at the first "no such ioctl": this kernel predates it.
std::atomic<bool> g_procmap_query{true};

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

namespace {

// One PROCMAP_QUERY on an open maps file: 1 found, 0 none, -1 no such ioctl
// on this kernel (remembered) or another failure.
int procmap_query(int fd, ProcmapQuery* q) {
  for (;;) {
    if (::ioctl(fd, kProcmapQuery, q) == 0) return 1;
    if (errno == EINTR) continue;
    if (errno == ENOTTY || errno == EINVAL || errno == EOPNOTSUPP) {
      g_procmap_query.store(false, std::memory_order_relaxed);
      return -1;
    }
    return errno == ENOENT || errno == ESRCH ? 0 : -1;
  }
}

}  // namespace

namespace {

// The mapping holding `addr` by PROCMAP_QUERY, with its path when `path` is
// not null: 1 found, 0 none, -1 no answer (no such ioctl: read the text).
int query_mapping(pid_t pid, uint64_t addr, ProcmapQuery* q, std::string* path) {
  if (!g_procmap_query.load(std::memory_order_relaxed)) return -1;
  std::string maps = "/proc/" + std::to_string(pid) + "/maps";
  int fd = ::open(maps.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;  // (as read_proc_maps: no mappings)
  char name[4096 + 64];
  *q = ProcmapQuery{};
  q->size = sizeof *q;
  q->query_addr = addr;
  if (path) {
    q->vma_name_addr = reinterpret_cast<uint64_t>(name);
    q->vma_name_size = sizeof name;
  }
  int got = procmap_query(fd, q);
  ::close(fd);
  // (vma_name_size counts the terminating NUL; 0: the mapping has no name.)
  if (got == 1 && path) *path = q->vma_name_size > 0 ? std::string(name, strnlen(name, q->vma_name_size)) : "";
  return got;
}

}  // namespace

std::optional<ProcMapping> query_proc_mapping(pid_t pid, uint64_t addr) {
  ProcmapQuery q{};
  std::string path;
  int got = query_mapping(pid, addr, &q, &path);
  // ([vsyscall], in the kernel's half, is no mapping of the process: only the text shows it.)
  if (got < 0 || (got == 0 && addr >= kUserEnd)) return proc_mapping_at(pid, addr);
  if (got == 0) return std::nullopt;
  ProcMapping m;
  m.start = q.vma_start;
  m.end = q.vma_end;
  m.perms[0] = q.vma_flags & kQueryReadable ? 'r' : '-';
  m.perms[1] = q.vma_flags & kQueryWritable ? 'w' : '-';
  m.perms[2] = q.vma_flags & kQueryExecutable ? 'x' : '-';
  m.perms[3] = q.vma_flags & kQueryShared ? 's' : 'p';
  m.offset = q.vma_offset;
  m.dev_major = q.dev_major;
  m.dev_minor = q.dev_minor;
  m.inode = q.inode;
  m.path = std::move(path);
  return m;
}

std::optional<std::pair<uint64_t, uint64_t>> proc_mapping_bounds(pid_t pid, uint64_t addr) {
  ProcmapQuery q{};
  int got = query_mapping(pid, addr, &q, nullptr);
  if (got == 1) return std::make_pair(q.vma_start, q.vma_end);
  if (got == 0 && addr < kUserEnd) return std::nullopt;
  auto m = proc_mapping_at(pid, addr);
  if (!m) return std::nullopt;
  return std::make_pair(m->start, m->end);
}

std::optional<bool> maps_file_writable_shared(pid_t pid, unsigned dev_major, unsigned dev_minor, uint64_t inode) {
  if (!g_procmap_query.load(std::memory_order_relaxed)) return std::nullopt;
  std::string path = "/proc/" + std::to_string(pid) + "/maps";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::optional<bool> out = false;
  for (uint64_t addr = 0;;) {
    ProcmapQuery q{};
    q.size = sizeof q;
    q.query_flags = kQueryCoveringOrNext | kQueryWritable | kQueryShared | kQueryFileBacked;
    q.query_addr = addr;
    int got = procmap_query(fd, &q);
    if (got <= 0) {
      // None further (or no address space left); or fall back to the text.
      if (got < 0) out = std::nullopt;
      break;
    }
    if (q.inode == inode && q.dev_major == dev_major && q.dev_minor == dev_minor) {
      out = true;
      break;
    }
    if (q.vma_end <= addr) break;
    addr = q.vma_end;
  }
  ::close(fd);
  return out;
}

}  // namespace rrx
