// Content hashes of system files remembered across recordings: every
// recording stores the files its programs map (ld.so, libc, the program...)
// by content hash, and hashing the same unchanged files again at each
// recording was a large part of a short recording's cost. The cache maps a
// file's identity (device, inode, size, mtime: what FileStore keys a file by
// within one recording; package managers replace files, which changes the
// inode or mtime) to its hash, in one text file shared by the recordings of
// a user (hash_cache_path(): ~/.cache/rrx/file-hashes; core/line_cache.h).
// Not ctime: the hard link each recording makes to a system file changes
// it. A wrong entry cannot go unseen: replay checks every stored file
// against the hash it is named by.
//
// That check keeps hashes of its own in the same way, in another file, with
// the ctime in the key too (WithCtime; trace_format/verified_hashes.h): no
// one can write a file or set its mtime back without changing its ctime.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/line_cache.h"

namespace rrx::trace {

class HashCache {
 public:
  // The cache file `path`; nothing is read before the first lookup. A file
  // that cannot be read or written (or an empty path) only makes the cache
  // empty: it then lasts as long as this object.
  explicit HashCache(std::filesystem::path path) : HashCache(std::move(path), Key::Mtime, "rrx-hash-1", kMaxBytes) {}
  // What an entry is keyed by, and the tag its lines start with: caches
  // with different tags can share a file, each reading only its own lines.
  enum class Key { Mtime, WithCtime };
  // Past max_bytes, the file is started again.
  HashCache(std::filesystem::path path, Key key, std::string tag, uint64_t max_bytes)
      : with_ctime_(key == Key::WithCtime), lines_(std::move(path), std::move(tag), with_ctime_ ? 5 : 4, max_bytes) {}
  // The hash recorded for the file whose stat is `st`, if any.
  std::optional<std::string> lookup(const struct ::stat& st);
  // Remembers `hash` (16 hex digits) for the file whose stat is `st`.
  void add(const struct ::stat& st, const std::string& hash);

  // Past this size the file is started again (entries for files long gone).
  static constexpr uint64_t kMaxBytes = 4 << 20;

 private:
  // file_identity_key(), then CTIME_NS with Key::WithCtime.
  std::string key_of(const struct ::stat& st) const;
  bool with_ctime_ = false;
  LineCache lines_;  // "TAG DEV INO SIZE MTIME_NS [CTIME_NS] HASH"
};

}  // namespace rrx::trace
