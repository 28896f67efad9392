// The trace's copies of mapped files as descriptors of the replayed
// processes: see mapped_copies.h. Used by ReplaySession::spawn (placed
// before the program's exec) and by the replay of mmap (the map's fd).
#include "replay/mapped_copies.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/pre_exec_child.h"
#include "trace_format/trace_dir.h"

namespace fs = std::filesystem;

namespace rrx::replay {

namespace {

bool is_hash_name(const std::string& s) {
  return s.size() == 16 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

MappedCopies::MappedCopies(const fs::path& trace_dir) {
  if (const char* v = std::getenv("RRX_REPLAY_MAP_COPIES"); v && std::string(v) == "0") return;
  fs::path dir = trace_dir / "files";
  struct statvfs vfs{};
  if (::statvfs(dir.c_str(), &vfs) != 0 || (vfs.f_flag & ST_NOEXEC)) return;
  std::vector<std::string> hashes;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (is_hash_name(name)) hashes.push_back(name);
  }
  if (ec || hashes.empty()) return;
  std::sort(hashes.begin(), hashes.end());
  // The replayed processes' descriptors: just under the soft limit, far
  // above the ones their executed calls create (the kernel gives the
  // lowest free one), raised where the limit is small.
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  uint64_t n = hashes.size();
  uint64_t top = std::max<uint64_t>(lim.rlim_cur, 512 + n);
  if (lim.rlim_max != RLIM_INFINITY && top > lim.rlim_max) return;
  // rrx holds them too: its own soft limit must cover its other files besides.
  if (lim.rlim_cur < top + 64) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max == RLIM_INFINITY ? top + 64 : std::min<uint64_t>(lim.rlim_max, top + 64);
    if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) return;
  }
  uint64_t base = top - n;
  for (uint64_t i = 0; i < n; ++i) {
    fs::path p;
    try {
      p = trace::stored_file_path(trace_dir, hashes[i]);
    } catch (const Error&) {
      continue;
    }
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    if (static_cast<uint64_t>(fd) >= base) {
      // rrx's own descriptors reach into the targets: a dup2 would close one.
      ::close(fd);
      for (int o : own_) ::close(o);
      own_.clear();
      target_.clear();
      return;
    }
    own_.push_back(fd);
    target_[hashes[i]] = static_cast<int>(base + i);
  }
  // Pairs in the order of own_: target_ is sorted like hashes, and skipped
  // ones are absent from both.
  limit_ = static_cast<int>(top);
}

MappedCopies::~MappedCopies() {
  for (int fd : own_) ::close(fd);
}

bool MappedCopies::install_in_child() const {
  // Raw syscalls: run in a child whose errno is rrx's (core/pre_exec_child.h).
  if (own_.empty()) return true;
  rlimit lim{};
  if (raw_syscall(SYS_getrlimit, RLIMIT_NOFILE, reinterpret_cast<long>(&lim)) != 0) return false;
  if (lim.rlim_cur < static_cast<rlim_t>(limit_)) {
    lim.rlim_cur = static_cast<rlim_t>(limit_);
    if (raw_syscall(SYS_setrlimit, RLIMIT_NOFILE, reinterpret_cast<long>(&lim)) != 0) return false;
  }
  size_t i = 0;
  for (const auto& [hash, target] : target_) {
    if (raw_syscall(SYS_dup2, own_[i++], target) != target) return false;  // dup2: without close-on-exec
  }
  return true;
}

int MappedCopies::fd_of(const std::string& hash) const {
  auto it = target_.find(hash);
  return it == target_.end() ? -1 : it->second;
}

}  // namespace rrx::replay
