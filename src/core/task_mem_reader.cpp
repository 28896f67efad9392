// The recorder's answers to the syscall table's questions about a tracee
// beyond its memory (core/syscall_table.h, MemReader): the size of a SysV
// semaphore set, which parts of a range are file or shared mappings, and
// whether an fd is some process's /proc/P/mem.
#include <sys/sem.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/ptrace_task.h"
#include "core/proc_maps.h"

namespace rrx {

namespace {

// Digits only, no sign, no overflow past int32.
std::optional<int32_t> parse_pid(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int32_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + (ch - '0');
  }
  return v;
}

}  // namespace

// SysV IPC objects are system-wide within an IPC namespace, and sem_nsems
// never changes after semget, so rrx asks the kernel itself when it shares
// the tracee's namespace (unshare and setns are refused; clone with
// CLONE_NEWIPC is not). Where it cannot ask (another namespace, a set it may
// not read), the kernel's limit on a set's size (SEMMSL) bounds the array:
// the bytes past its end are recorded as they were, which replay writes
// back unchanged.
std::optional<uint64_t> TaskMemReader::semaphore_count(int semid) {
  std::error_code ec;
  const std::string tracee_ns = std::filesystem::read_symlink("/proc/" + std::to_string(task_.tid()) + "/ns/ipc", ec);
  const std::string own_ns = std::filesystem::read_symlink("/proc/self/ns/ipc", ec);
  struct semid_ds ds {};
  if (!tracee_ns.empty() && tracee_ns == own_ns && ::semctl(semid, 0, IPC_STAT, &ds) == 0) return ds.sem_nsems;
  std::ifstream limits("/proc/sys/kernel/sem");
  uint64_t semmsl = 0;
  if (limits >> semmsl && semmsl > 0) return std::min<uint64_t>(semmsl, 65536);
  return 32000;  // SEMMSL's default
}

// From /proc/TID/maps: a mapping is private anonymous when it is private
// ('p') and has no file ([heap], [stack], [anon:NAME] or nothing).
std::vector<sys::Range> TaskMemReader::backed_ranges(uint64_t addr, uint64_t len) {
  std::vector<sys::Range> out;
  if (len == 0 || addr + len < addr) return out;
  const uint64_t end = addr + len;
  for (const ProcMapping& m : read_proc_maps(task_.tid())) {
    if (m.end <= addr || m.start >= end) continue;
    if (m.private_anonymous()) continue;
    const uint64_t from = std::max<uint64_t>(m.start, addr), to = std::min<uint64_t>(m.end, end);
    if (!out.empty() && out.back().addr + out.back().len == from) out.back().len += to - from;
    else out.push_back({from, to - from});
  }
  return out;
}

// /proc/P/mem or /proc/P/task/T/mem (the link names it in rrx's pid
// namespace, the tree's), and its position from fdinfo.
std::optional<sys::MemReader::MemFile> TaskMemReader::mem_file(int fd) {
  if (fd < 0) return std::nullopt;
  const std::string base = "/proc/" + std::to_string(task_.tid());
  char link[256];
  ssize_t n = ::readlink((base + "/fd/" + std::to_string(fd)).c_str(), link, sizeof link - 1);
  if (n <= 0) return std::nullopt;
  std::string_view target(link, static_cast<size_t>(n));
  if (!target.starts_with("/proc/") || !target.ends_with("/mem")) return std::nullopt;
  std::string_view middle = target.substr(6, target.size() - 10);  // P or P/task/T
  std::optional<int32_t> pid = parse_pid(middle.substr(0, middle.find('/')));
  if (!pid) return std::nullopt;
  if (size_t slash = middle.find('/'); slash != std::string_view::npos) {
    std::string_view rest = middle.substr(slash);
    if (!rest.starts_with("/task/") || !parse_pid(rest.substr(6))) return std::nullopt;
  }
  std::ifstream info(base + "/fdinfo/" + std::to_string(fd));
  std::string key;
  long long pos = 0;
  if (!(info >> key >> pos) || key != "pos:") return std::nullopt;
  return MemFile{*pid, static_cast<uint64_t>(pos)};
}

}  // namespace rrx
