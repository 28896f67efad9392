#include "trace_format/trace_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <system_error>
#include <vector>

#include "core/error.h"
#include "core/hash.h"
#include "core/line_cache.h"
#include "core/unique_fd.h"
#include "trace_format/chunk_format.h"
#include "trace_format/format.h"
#include "trace_format/trace_archive.h"
#include "trace_format/verified_hashes.h"

namespace fs = std::filesystem;

namespace rrx::trace {

namespace {

void make_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create directory " + dir.string() + ": " + ec.message());
}

// A trace holds the program's environment, arguments and every byte it read:
// its directories are 0700 and its files 0600 (0400/0500 for the read-only
// copies in files/), whatever the umask, so the mode is set explicitly.
constexpr mode_t kPrivateDirMode = 0700;

// mkdir(2) with mode 0700 regardless of the umask. false + errno (EEXIST...) on failure.
bool make_private_dir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), kPrivateDirMode) != 0) return false;
  if (::chmod(dir.c_str(), kPrivateDirMode) != 0) {
    int err = errno;
    ::rmdir(dir.c_str());
    errno = err;
    return false;
  }
  return true;
}

// A unique-enough suffix for temporary names.
std::string temp_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}() ^ static_cast<uint64_t>(::getpid())};
  static const char digits[] = "0123456789abcdef";
  uint64_t v = rng();
  std::string s = std::to_string(::getpid()) + ".";
  for (int i = 0; i < 12; ++i, v >>= 4) s += digits[v & 0xf];
  return s;
}

bool is_trace_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec) && fs::is_regular_file(p / kTraceFileName, ec);
}

bool is_hex16(const std::string& s) {
  if (s.size() != 16) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

bool package_managed(const std::string& name) {
  return name.rfind("/usr/", 0) == 0 || name.rfind("/lib", 0) == 0;
}

fs::path traces_root() {
  fs::path root;
  const char* env = std::getenv("RRX_TRACE_DIR");
  if (env != nullptr && *env != '\0') {
    root = env;
  } else {
    const char* home = std::getenv("HOME");
    std::string h = home != nullptr ? home : "";
    if (h.empty()) {
      struct passwd* pw = ::getpwuid(::getuid());
      if (pw != nullptr && pw->pw_dir != nullptr) h = pw->pw_dir;
    }
    if (h.empty()) throw Error("cannot find the trace directory: neither RRX_TRACE_DIR nor HOME is set");
    root = fs::path(h) / ".local" / "share" / "rrx";
  }
  make_dirs(root);
  return root;
}

fs::path hash_cache_path() {
  // Not in the trace root: with --keep=failure that must hold nothing but
  // the traces kept (CI jobs upload it).
  return user_cache_file("file-hashes");
}

namespace {

void check_trace_name(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name == kLatestLinkName || name.find('\0') != std::string::npos)
    throw Error("invalid trace name '" + name + "'");
}

// Points ROOT/latest-trace at ROOT/LEAF atomically: a new link under a
// temporary name, renamed over the old one.
void point_latest_at(const fs::path& root, const std::string& leaf) {
  fs::path link = root / kLatestLinkName;
  for (int attempt = 0;; ++attempt) {
    fs::path tmp = root / ("." + std::string(kLatestLinkName) + "." + temp_suffix() + ".rrxtmp");
    if (::symlink(leaf.c_str(), tmp.c_str()) != 0) {
      if (errno == EEXIST && attempt < 8) continue;
      throw_errno("cannot create link " + tmp.string());
    }
    if (::rename(tmp.c_str(), link.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      throw_errno("cannot update " + link.string(), err);
    }
    break;
  }
}

}  // namespace

fs::path create_trace_dir(const fs::path& root, const std::string& name) {
  check_trace_name(name);
  make_dirs(root);
  fs::path dir;
  std::string leaf;
  for (uint64_t n = 0;; ++n) {
    leaf = name + "-" + std::to_string(n);
    dir = root / leaf;
    if (make_private_dir(dir)) break;
    if (errno != EEXIST) throw_errno("cannot create trace directory " + dir.string());
  }
  if (!make_private_dir(dir / kFilesDirName)) throw_errno("cannot create " + (dir / kFilesDirName).string());
  point_latest_at(root, leaf);
  return dir;
}

fs::path create_named_trace_dir(const fs::path& root, const std::string& name) {
  check_trace_name(name);
  make_dirs(root);
  fs::path dir = root / name;
  if (!make_private_dir(dir)) {
    if (errno == EEXIST)
      throw Error("a trace named '" + name + "' exists already (" + dir.string() +
                  "); remove it or choose another --name");
    throw_errno("cannot create trace directory " + dir.string());
  }
  if (!make_private_dir(dir / kFilesDirName)) throw_errno("cannot create " + (dir / kFilesDirName).string());
  point_latest_at(root, name);
  return dir;
}

void forget_latest_if(const fs::path& dir) {
  fs::path link = dir.parent_path() / kLatestLinkName;
  std::error_code ec;
  if (fs::is_symlink(link, ec) && fs::read_symlink(link, ec) == dir.filename()) ::unlink(link.c_str());
}

fs::path create_trace_dir_at(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) throw Error(dir.string() + " exists and is not a directory");
    if (!fs::is_empty(dir, ec) || ec)
      throw Error(dir.string() + " exists and is not empty; choose a new directory for the trace");
  } else {
    make_dirs(dir);
  }
  // The directory is the trace's now (also one that existed, empty): private.
  if (::chmod(dir.c_str(), kPrivateDirMode) != 0) throw_errno("cannot chmod " + dir.string());
  if (!make_private_dir(dir / kFilesDirName)) throw_errno("cannot create " + (dir / kFilesDirName).string());
  return dir;
}

namespace {

// What the user typed, as found (relative paths stay relative).
fs::path find_trace(const std::string& arg) {
  if (arg.empty()) {
    fs::path root = traces_root();
    fs::path link = root / kLatestLinkName;
    std::error_code ec;
    if (!fs::is_symlink(link, ec) && !fs::exists(link, ec))
      throw Error("no traces in " + root.string() + "; record one with `rrx record PROG`");
    fs::path target = fs::canonical(link, ec);
    if (ec || !is_trace_dir(target)) {
      std::string to = fs::is_symlink(link, ec) ? fs::read_symlink(link, ec).string() : "?";
      throw Error(link.string() + " points to " + to +
                  ", which is not a trace any more; record one with `rrx record PROG`");
    }
    return target;
  }
  fs::path p(arg);
  if (is_trace_dir(p)) return p;
  std::error_code ec;
  // A trace archive (rrx pack --archive): its unpacked copy in the cache.
  if (is_trace_archive(p)) return cached_archive_trace(p);
  // The trace file itself (DIR/trace) names its directory.
  if (p.filename() == kTraceFileName && fs::is_regular_file(p, ec)) return p.parent_path().empty() ? "." : p.parent_path();
  fs::path root;
  bool name_like = arg.find('/') == std::string::npos && arg != "." && arg != "..";
  if (name_like) {
    root = traces_root();
    if (is_trace_dir(root / arg)) return root / arg;
  }
  if (fs::is_directory(p, ec))
    throw Error("'" + arg + "' is not an rrx trace directory (it has no `" + kTraceFileName + "` file)");
  if (!name_like) throw Error("no trace at '" + arg + "'");
  throw Error("no trace named '" + arg + "' (looked in " + fs::absolute(p, ec).string() + " and " +
              (root / arg).string() + ")");
}

}  // namespace

fs::path resolve_trace(const std::string& arg) {
  fs::path found = find_trace(arg);
  // Absolute, once: the replayed program runs in the recorded cwd, so paths
  // into the trace (files/...) handed to it must not depend on rrx's cwd.
  std::error_code ec;
  fs::path abs = fs::canonical(found, ec);
  if (ec) abs = fs::absolute(found, ec).lexically_normal();
  if (ec) throw Error("cannot resolve the trace path " + found.string() + ": " + ec.message());
  return abs;
}

FileStore::FileStore(fs::path trace_dir, uint64_t max_whole_data)
    : dir_(std::move(trace_dir)), max_whole_data_(max_whole_data) {}

namespace {

constexpr uint64_t kWholeEnd = UINT64_MAX;  // Key's end for a whole-file copy

// A regular file to store, open for reading.
struct OpenedFile {
  OpenedFile(const fs::path& source, const std::string& name) : fd(::open(source.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd.get() < 0) throw_errno("cannot open " + name + " (" + source.string() + ")");
    if (::fstat(fd.get(), &st) != 0) throw_errno("cannot stat " + name);
    if (!S_ISREG(st.st_mode)) throw Error("cannot store " + name + ": not a regular file");
  }
  UniqueFd fd;
  struct stat st {};
};

// throw_errno, but a full file system (ENOSPC, EDQUOT) is a NoSpaceError.
[[noreturn]] void throw_store_errno(const std::string& what, int err) {
  if (err == ENOSPC || err == EDQUOT)
    throw NoSpaceError("no space left on the trace's file system: " + what + ": " + std::strerror(err));
  throw_errno(what, err);
}

}  // namespace

FileStore::Stored FileStore::store(const fs::path& source, const std::string& name) {
  OpenedFile f(source, name);
  return store_range(f.fd.get(), f.st, name, 0, kWholeEnd);
}

FileStore::Stored FileStore::store_mapped(const fs::path& source, const std::string& name, uint64_t offset,
                                          uint64_t length) {
  OpenedFile f(source, name);
  const uint64_t size = static_cast<uint64_t>(f.st.st_size);
  if (data_bytes(f.fd.get(), 0, size, name) <= max_whole_data_) return store_range(f.fd.get(), f.st, name, 0, kWholeEnd);
  constexpr uint64_t kPage = PageHasher::kPage;
  uint64_t begin = std::min(offset / kPage * kPage, size);
  uint64_t end = length > size ? size : std::min(size, (offset + length + kPage - 1) / kPage * kPage);
  if (end < begin) end = begin;
  return store_range(f.fd.get(), f.st, name, begin, end);
}

void FileStore::check_free_space(uint64_t need, uint64_t apparent, const std::string& name) const {
  fs::path files = dir_ / kFilesDirName;
  struct statvfs vfs {};
  if (::statvfs(files.c_str(), &vfs) != 0) throw_errno("cannot read the free space of " + files.string());
  uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  // For tests only (tests/e2e/sparse_files.sh, sparse_file_test.cpp): believe
  // that exactly this many bytes are free, to reach the check without filling
  // a disk, or to pass it and meet ENOSPC on a small file system.
  if (const char* believed = std::getenv("RRX_TEST_FREE_SPACE"); believed != nullptr && *believed != '\0')
    free_bytes = std::strtoull(believed, nullptr, 10);
  if (need <= free_bytes && free_bytes - need >= kFreeSpaceMargin) return;
  throw NoSpaceError("not enough free space to store a copy of " + name + " in the trace: its data takes " +
                     describe_size(need) + " (apparent size " + describe_size(apparent, false) +
                     "), and the file system of " + dir_.string() + " has " + describe_size(free_bytes) +
                     " free, of which rrx leaves " + describe_size(kFreeSpaceMargin, false) + " unused");
}

FileStore::Key FileStore::key_of(const struct stat& st, uint64_t begin, uint64_t end) {
  const int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return Key{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
             mtime, begin, end};
}

std::optional<FileStore::Stored> FileStore::stored_whole(const struct stat& st) const {
  if (!S_ISREG(st.st_mode)) return std::nullopt;
  auto it = cache_.find(key_of(st, 0, kWholeEnd));
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

FileStore::Stored FileStore::store_range(int fd, const struct stat& st, const std::string& name, uint64_t begin,
                                         uint64_t end) {
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  const bool whole = end == kWholeEnd;
  // A whole copy of the file serves every range too.
  if (auto it = cache_.find(key_of(st, 0, kWholeEnd)); it != cache_.end()) return it->second;
  const Key key = key_of(st, begin, end);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  if (whole) end = file_size;

  std::string base = fs::path(name).filename().string();
  if (base.empty() || base == "." || base == "..") base = "file";
  fs::path files = dir_ / kFilesDirName;
  if (!make_private_dir(files) && errno != EEXIST) throw_store_errno("cannot create " + files.string(), errno);
  auto remember = [&](Stored s) {
    s.file_size = file_size;
    s.range_only = !whole;
    s.range_offset = whole ? 0 : begin;
    cache_[key] = s;
    return s;
  };

  // Moves `tmp` (a complete copy or link of content `hash`) into files/HASH/BASENAME,
  // or drops it when that content is stored already (placed stays false).
  bool placed = false;
  auto place = [&](const fs::path& tmp, const std::string& hash, uint64_t size) -> Stored {
    fs::path hdir = files / hash;
    if (!make_private_dir(hdir)) {
      int err = errno;
      ::unlink(tmp.c_str());
      if (err != EEXIST) throw_store_errno("cannot create " + hdir.string(), err);
      return remember(Stored{hash, stored_file_path(dir_, hash), size, file_size});
    }
    fs::path dest = hdir / base;
    if (::rename(tmp.c_str(), dest.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      ::rmdir(hdir.c_str());
      throw_store_errno("cannot store " + dest.string(), err);
    }
    placed = true;
    return remember(Stored{hash, dest, size, file_size});
  };

  if (whole && package_managed(name)) {
    // Hash first; hard-link the very inode that was hashed when it is new.
    // (Remembered across recordings: hashing the same libraries at each one
    // was much of a short recording's cost. Keyed by the stat taken before
    // the hash, unchanged after it; replay checks every stored file's hash.)
    if (!hashes_) hashes_.emplace(hash_cache_path());
    std::string hash;
    // Whether `hash` is known to be this inode's content as of `st` (as a
    // replay would check it): then the replay's check of the link is
    // vouched for (VerifiedHashes::vouch), the link having changed its ctime.
    bool content_known = false;
    if (auto known = hashes_->lookup(st)) {
      hash = *known;
      content_known = VerifiedHashes::shared().lookup(st, FileHashKind::Pages) == hash;
    } else {
      hash = content_hash_of_range(fd, 0, file_size, FileHashKind::Pages, name);
      struct stat hashed {};
      if (::fstat(fd, &hashed) == 0 && hashed.st_size == st.st_size && hashed.st_mtim.tv_sec == st.st_mtim.tv_sec &&
          hashed.st_mtim.tv_nsec == st.st_mtim.tv_nsec) {
        hashes_->add(st, hash);
        content_known = hashed.st_ctim.tv_sec == st.st_ctim.tv_sec && hashed.st_ctim.tv_nsec == st.st_ctim.tv_nsec &&
                        multigrain_ctime(fd);
      }
    }
    std::error_code ec;
    if (fs::is_directory(files / hash, ec)) return remember(Stored{hash, stored_file_path(dir_, hash), file_size, file_size});
    struct stat after {};
    fs::path tmp = files / (".link." + temp_suffix() + ".rrxtmp");
    std::string proc = "/proc/self/fd/" + std::to_string(fd);
    if (::fstat(fd, &after) == 0 && after.st_size == st.st_size && after.st_mtim.tv_sec == st.st_mtim.tv_sec &&
        after.st_mtim.tv_nsec == st.st_mtim.tv_nsec &&
        ::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, tmp.c_str(), AT_SYMLINK_FOLLOW) == 0) {
      Stored s = place(tmp, hash, file_size);
      if (content_known && after.st_ctim.tv_sec == st.st_ctim.tv_sec && after.st_ctim.tv_nsec == st.st_ctim.tv_nsec)
        VerifiedHashes::shared().vouch(fd, FileHashKind::Pages, hash, &st);
      else if (placed && file_size >= LaterVouches::kMinBytes)
        later_.add(fd, hash);
      return s;
    }
    // Another file system, protected_hardlinks, ...: copy instead.
  }

  // Clone or copy, hashing exactly the bytes stored.
  fs::path tmp = files / (".copy." + temp_suffix() + ".rrxtmp");
  UniqueFd out(::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) throw_store_errno("cannot create " + tmp.string(), errno);
  std::string hash;
  uint64_t size = end - begin;
  try {
    struct stat cloned {};
    if (whole && clone_file(fd, out.get()) && ::fstat(out.get(), &cloned) == 0) {
      // Shares the original's extents: no space to check, and the clone is a
      // snapshot, hashed as it is.
      size = static_cast<uint64_t>(cloned.st_size);
      hash = content_hash_of_range(out.get(), 0, size, FileHashKind::Pages, tmp.string());
    } else {
      empty_for_copy(out.get(), tmp.string());
      check_free_space(data_bytes(fd, begin, end, name), end - begin, name);
      hash = sparse_copy(fd, begin, end, out.get(), name, "the copy of " + name + " (" + tmp.string() + ")");
    }
    // Read-only copies (executable if the original was): nothing should edit
    // them in place, and only their owner may read them. Hard links (above)
    // share the system file's inode and keep its mode: files/ being 0700 is
    // what protects them.
    mode_t mode = 0400 | ((st.st_mode & 0111) != 0 ? 0100 : 0);
    if (::fchmod(out.get(), mode) != 0) throw_errno("cannot chmod " + tmp.string());
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  Stored s = place(tmp, hash, size);
  // The copy holds what was hashed: the replay's check of it is vouched for
  // (a copy that another already stored made unneeded is gone).
  if (placed)
    VerifiedHashes::shared().vouch(out.get(), FileHashKind::Pages, hash);
  return s;
}

fs::path FileStore::lookup(const fs::path& trace_dir, const std::string& hash) const {
  return stored_file_path(trace_dir, hash);
}

fs::path stored_file_path(const fs::path& trace_dir, const std::string& hash) {
  if (!is_hex16(hash)) throw Error("invalid file hash '" + hash + "' in trace " + trace_dir.string());
  fs::path hdir = trace_dir / kFilesDirName / hash;
  DIR* d = ::opendir(hdir.c_str());
  if (d != nullptr) {
    fs::path found;
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      found = hdir / e->d_name;
      break;
    }
    ::closedir(d);
    if (!found.empty()) return found;
  }
  throw Error("the copy of the file with hash " + hash + " is missing from trace " + trace_dir.string() +
              " (expected " + hdir.string() + "/*)");
}

std::string content_hash_of_file(const fs::path& path, FileHashKind kind) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw_errno("cannot open " + path.string());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno("cannot stat " + path.string());
  uint64_t end = kind == FileHashKind::Pages ? static_cast<uint64_t>(st.st_size) : UINT64_MAX;
  return content_hash_of_range(fd.get(), 0, end, kind, path.string());
}

fs::path verified_stored_file(const fs::path& trace_dir, const std::string& hash, FileHashKind kind) {
  fs::path path = stored_file_path(trace_dir, hash);
  std::string actual = VerifiedHashes::shared().hash_of(path, kind);
  if (actual != hash) {
    throw Error("the trace's copy " + path.string() + " is damaged: its content hash is " + actual +
                ", the recording stored " + hash);
  }
  return path;
}

std::string describe_size(uint64_t bytes, bool exact) {
  static const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  double v = static_cast<double>(bytes);
  int u = -1;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return exact ? std::string(buf) + " (" + std::to_string(bytes) + " bytes)" : std::string(buf);
}

}  // namespace rrx::trace
