// Content hashes of the files a replay checks (the trace's stored copies of
// the programs and libraries it runs, the dynamic loader the kernel loads),
// remembered across replays. Hashing libc, ld.so and the program again at
// every replay was a quarter of a short replay's CPU time.
//
// An entry is keyed by the file's (device, inode, size, mtime, ctime)
// (HashCache::Key::WithCtime), in ${XDG_CACHE_HOME:-~/.cache}/rrx/verified-hashes
// (verified_hash_cache_path()): writing a file, truncating it or setting its
// mtime back all change its ctime, which no one can set by hand. Many
// stored copies are hard links to the system's files, so the entry is for
// that inode, wherever it is linked from.
//
// Two things could still make an entry lie, and neither gets one written:
// * a change in the same clock tick as the stat the entry was made from
//   leaves the ctime as it was. Entries are written only when a later change
//   must give another ctime (ctime_settled): on a file system with
//   multigrain timestamps (Linux >= 6.13: ext4, xfs, btrfs, tmpfs), a stat
//   makes the next change take a finer, later time; elsewhere, the ctime
//   must be older than the stat by more than the timestamps' granularity.
// * a change while the file was being hashed: the stat after the hash must
//   be the stat before it.
// A file that cannot be stat'ed, a cache file that cannot be read or
// written: the hash is computed as before, nothing else happens.
#pragma once

#include <sys/stat.h>
#include <time.h>

#include <filesystem>
#include <optional>
#include <string>

#include "trace_format/hash_cache.h"
#include "trace_format/sparse_file.h"

namespace rrx::trace {

// hash_cache_path()'s directory / verified-hashes; empty when there is none.
std::filesystem::path verified_hash_cache_path();

// The same file, unchanged: equal device, inode, size, mtime and ctime
// (HashCache::Key::WithCtime's key).
bool same_file_state(const struct ::stat& a, const struct ::stat& b);

// Whether the file open as `fd` is on a file system whose ctime changes with
// every change made after a stat of it, however soon (multigrain timestamps).
bool multigrain_ctime(int fd);

// Whether every change to the file open as `fd` made after `st` was taken
// gives it another ctime than st's. `before` is CLOCK_REALTIME read before st
// was taken.
bool ctime_settled(int fd, const struct ::stat& st, const struct timespec& before);

class VerifiedHashes {
 public:
  // Entries in `cache_file` (empty: this object's memory only).
  explicit VerifiedHashes(std::filesystem::path cache_file) : path_(std::move(cache_file)) {}
  // Every recording adds entries (its links change the ctime of the files
  // linked; its copies are new files), all read at each replay (~1 ms for
  // 64 KiB, some 700 entries): past this size, the file is started again,
  // which costs the next replay one hash of its copies.
  static constexpr uint64_t kMaxBytes = 64 << 10;
  // The process's own, on verified_hash_cache_path().
  static VerifiedHashes& shared();

  // content_hash_of_file(path, kind): from the cache when the file is the one
  // hashed before, unchanged; else hashed, and remembered when it can be.
  // Throws rrx::Error as content_hash_of_file when the file cannot be read.
  std::string hash_of(const std::filesystem::path& path, FileHashKind kind);
  // Whether the last hash_of was answered by the cache (for tests and stats).
  bool last_from_cache() const { return last_from_cache_; }

  // The hash remembered for the file whose stat is `st`, if any.
  std::optional<std::string> lookup(const struct ::stat& st, FileHashKind kind);

  // For the recorder, which has just made a stored copy open as `fd` (a hard
  // link to a file, a copy or a clone) and knows its content has hash `hash`
  // (it hashed it, with no change seen, or lookup() vouched for it): making
  // the copy changed the file's ctime, so the entry for the stat taken now is
  // written, where ctime_settled allows. With `same_as`: only when the file
  // still has that stat's device, inode, size and mtime.
  void vouch(int fd, FileHashKind kind, const std::string& hash, const struct ::stat* same_as = nullptr);

 private:
  HashCache& cache(FileHashKind kind);
  std::filesystem::path path_;
  std::optional<HashCache> pages_, stream_;
  bool last_from_cache_ = false;
};

}  // namespace rrx::trace
