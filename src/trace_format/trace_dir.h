// The trace directory layout: ${RRX_TRACE_DIR:-~/.local/share/rrx}/NAME-N/,
// a `latest-trace` link, and the content-addressed store of files/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include <sys/stat.h>

#include "trace_format/hash_cache.h"
#include "trace_format/later_vouches.h"
#include "trace_format/sparse_file.h"

namespace rrx::trace {

// The directory holding all traces (created on demand).
std::filesystem::path traces_root();
// Where content hashes of system files are remembered across recordings
// (trace_format/hash_cache.h): ${XDG_CACHE_HOME:-$HOME/.cache}/rrx/file-hashes;
// empty when neither is set.
std::filesystem::path hash_cache_path();

// Creates ROOT/NAME-N with the first free N, and files/ inside; points
// ROOT/latest-trace at it.
std::filesystem::path create_trace_dir(const std::filesystem::path& root, const std::string& name);
// Creates ROOT/NAME exactly (rrx record --name NAME) and points
// ROOT/latest-trace at it; fails with a clear message if it exists.
std::filesystem::path create_named_trace_dir(const std::filesystem::path& root, const std::string& name);
// Removes DIR's parent's latest-trace link when it points at DIR (DIR was deleted).
void forget_latest_if(const std::filesystem::path& dir);
// Creates exactly DIR (rrx record -o DIR); fails if it exists and is not empty.
std::filesystem::path create_trace_dir_at(const std::filesystem::path& dir);

// Resolves what the user typed: empty -> latest trace; an existing path;
// a trace archive (unpacked once into the cache: trace_archive.h); or a
// NAME-N under the root. The result is absolute (a replay runs the
// trace's files from the recorded working directory). Throws rrx::Error with
// a clear message.
std::filesystem::path resolve_trace(const std::string& arg);

// Package-managed files (under /usr and /lib): replaced by rename(2) on
// upgrade, never rewritten in place.
bool package_managed(const std::string& name);

// Copies of mapped or executed files, one per distinct content:
// files/HASH/BASENAME. Files under /usr and /lib that cannot change in place
// (package-managed) are hard-linked where possible; all others are cloned
// (FICLONE) where the file system can, else copied sparsely: only the data
// extents are read and written, so holes (a 1 TiB memfd with a few pages
// written) stay holes. A file holding more data than `max_whole_data` is
// stored only for the range a mapping needs. Before a copy, the trace's file
// system must have room for its data plus kFreeSpaceMargin, else NoSpaceError
// (as for ENOSPC during the copy; no partial copy is left behind).
class FileStore {
 public:
  static constexpr uint64_t kDefaultMaxWholeData = uint64_t{1} << 30;  // 1 GiB
  static constexpr uint64_t kFreeSpaceMargin = uint64_t{64} << 20;     // 64 MiB
  explicit FileStore(std::filesystem::path trace_dir, uint64_t max_whole_data = kDefaultMaxWholeData);
  struct Stored {
    std::string hash;            // 16 hex digits of the content hash (FileHashKind::Pages)
    std::filesystem::path path;  // where the copy is
    uint64_t size = 0;           // of the copy
    uint64_t file_size = 0;      // of the file (== size unless range_only)
    bool range_only = false;     // the copy holds the file's bytes [range_offset, range_offset + size)
    uint64_t range_offset = 0;
  };
  // Stores the whole file readable at `source` (e.g. /proc/PID/fd/N), whose
  // original name is `name`. Cached by (dev, inode, size, mtime).
  Stored store(const std::filesystem::path& source, const std::string& name);
  // For a mapping of the file's bytes [offset, offset + length): the whole
  // file when it holds at most max_whole_data bytes of data, else only that
  // range (page-aligned, cut at the end of the file).
  Stored store_mapped(const std::filesystem::path& source, const std::string& name, uint64_t offset,
                      uint64_t length);
  // What store and store_mapped return, without opening the file, when its
  // whole content is stored already under the same (device, inode, size,
  // mtime) as `st` (a stat of the file taken now); nullopt otherwise.
  std::optional<Stored> stored_whole(const struct ::stat& st) const;
  // Path of the copy for a hash recorded in the trace (throws if missing).
  std::filesystem::path lookup(const std::filesystem::path& trace_dir, const std::string& hash) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  using Key = std::tuple<uint64_t, uint64_t, uint64_t, int64_t, uint64_t, uint64_t>;
  // (dev, inode, size, mtime, begin, end): end is kWholeEnd for a whole copy.
  static Key key_of(const struct ::stat& st, uint64_t begin, uint64_t end);
  Stored store_range(int fd, const struct ::stat& st, const std::string& name, uint64_t begin, uint64_t end);
  void check_free_space(uint64_t need, uint64_t apparent, const std::string& name) const;
  std::filesystem::path dir_;
  uint64_t max_whole_data_;
  std::map<Key, Stored> cache_;
  // Hashes of package-managed files from earlier recordings (hash_cache_path()).
  std::optional<HashCache> hashes_;
  // Links made with such a hash that no check vouched for: hashed beside
  // the recording, vouched for at the end (later_vouches.h).
  LaterVouches later_;
};

std::filesystem::path stored_file_path(const std::filesystem::path& trace_dir, const std::string& hash);
// The content hash a trace names a file by (16 hex digits; the kind is the
// trace header's fileHash, Pages for new traces); throws rrx::Error when the
// file cannot be read. Pages reads only the file's data extents.
std::string content_hash_of_file(const std::filesystem::path& path, FileHashKind kind = FileHashKind::Pages);
// stored_file_path, after checking that the copy's content still has that hash
// (throws rrx::Error naming the file when it was changed or truncated). The
// hash of a copy unchanged since an earlier check comes from
// VerifiedHashes::shared() (verified_hashes.h).
std::filesystem::path verified_stored_file(const std::filesystem::path& trace_dir, const std::string& hash,
                                           FileHashKind kind = FileHashKind::Pages);

// "50.0 GiB (53687091200 bytes)" ("50.0 GiB" when not exact): sizes in messages.
std::string describe_size(uint64_t bytes, bool exact = true);

}  // namespace rrx::trace
