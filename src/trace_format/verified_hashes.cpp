// Content hashes remembered across replays: see verified_hashes.h.
#include "trace_format/verified_hashes.h"

#include <fcntl.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "core/unique_fd.h"
#include "trace_format/trace_dir.h"

namespace fs = std::filesystem;

namespace rrx::trace {

namespace {

constexpr int64_t kNs = 1000000000;

int64_t ns(const struct timespec& t) { return static_cast<int64_t>(t.tv_sec) * kNs + t.tv_nsec; }

// Linux 6.13 gave these file systems multigrain timestamps
// (Documentation/filesystems/multigrain-ts.rst).
bool kernel_has_multigrain() {
  static const bool yes = [] {
    struct utsname u {};
    int major = 0, minor = 0;
    if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
    return major > 6 || (major == 6 && minor >= 13);
  }();
  return yes;
}

constexpr long kExt4Magic = 0xEF53, kXfsMagic = 0x58465342, kBtrfsMagic = 0x9123683E, kTmpfsMagic = 0x01021994;

}  // namespace

bool same_file_state(const struct ::stat& a, const struct ::stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size && ns(a.st_mtim) == ns(b.st_mtim) &&
         ns(a.st_ctim) == ns(b.st_ctim);
}

fs::path verified_hash_cache_path() {
  fs::path records = hash_cache_path();
  if (records.empty()) return {};
  return records.parent_path() / "verified-hashes";
}

bool multigrain_ctime(int fd) {
  if (!kernel_has_multigrain()) return false;
  struct ::statfs sf {};
  if (::fstatfs(fd, &sf) != 0) return false;
  long type = static_cast<long>(sf.f_type);
  return type == kExt4Magic || type == kXfsMagic || type == kBtrfsMagic || type == kTmpfsMagic;
}

bool ctime_settled(int fd, const struct ::stat& st, const struct timespec& before) {
  if (multigrain_ctime(fd)) return true;
  // Coarse timestamps: a change in the tick of st's ctime (or, where the
  // file system keeps coarser times, within its granularity) leaves the
  // ctime as it was; st must have been taken after that.
  struct timespec res {};
  if (::clock_getres(CLOCK_REALTIME_COARSE, &res) != 0) return false;
  int64_t margin = std::max<int64_t>(2 * ns(res), 20 * 1000000);
  const int64_t ctime = ns(st.st_ctim);
  if (st.st_ctim.tv_nsec % 10000000 == 0) margin = 3 * kNs;  // times in 10 ms, seconds or 2 s
  return ns(before) - ctime > margin;
}

VerifiedHashes& VerifiedHashes::shared() {
  static VerifiedHashes hashes(verified_hash_cache_path());
  return hashes;
}

HashCache& VerifiedHashes::cache(FileHashKind kind) {
  std::optional<HashCache>& c = kind == FileHashKind::Pages ? pages_ : stream_;
  if (!c)
    c.emplace(path_, HashCache::Key::WithCtime, kind == FileHashKind::Pages ? "rrx-pages-1" : "rrx-stream-1",
              kMaxBytes);
  return *c;
}

std::optional<std::string> VerifiedHashes::lookup(const struct ::stat& st, FileHashKind kind) {
  if (!S_ISREG(st.st_mode)) return std::nullopt;
  return cache(kind).lookup(st);
}

std::string VerifiedHashes::hash_of(const fs::path& path, FileHashKind kind) {
  last_from_cache_ = false;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw_errno("cannot open " + path.string());
  struct timespec now {};
  const bool have_now = ::clock_gettime(CLOCK_REALTIME, &now) == 0;
  struct ::stat before {};
  if (::fstat(fd.get(), &before) != 0) throw_errno("cannot stat " + path.string());
  if (auto known = lookup(before, kind)) {
    last_from_cache_ = true;
    return *known;
  }
  uint64_t end = kind == FileHashKind::Pages ? static_cast<uint64_t>(before.st_size) : UINT64_MAX;
  std::string hash = content_hash_of_range(fd.get(), 0, end, kind, path.string());
  struct ::stat after {};
  if (S_ISREG(before.st_mode) && have_now && ::fstat(fd.get(), &after) == 0 && same_file_state(before, after) &&
      ctime_settled(fd.get(), before, now))
    cache(kind).add(before, hash);
  return hash;
}

void VerifiedHashes::vouch(int fd, FileHashKind kind, const std::string& hash, const struct ::stat* same_as) {
  struct timespec now {};
  if (::clock_gettime(CLOCK_REALTIME, &now) != 0) return;
  struct ::stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
  if (same_as != nullptr && (st.st_dev != same_as->st_dev || st.st_ino != same_as->st_ino ||
                             st.st_size != same_as->st_size || ns(st.st_mtim) != ns(same_as->st_mtim)))
    return;
  if (ctime_settled(fd, st, now)) cache(kind).add(st, hash);
}

}  // namespace rrx::trace
