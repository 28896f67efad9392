// The trace directory layout: ${RRX_TRACE_DIR:-~/.local/share/rrx}/NAME-N/,
// a `latest-trace` link, and the content-addressed store of files/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <tuple>

namespace rrx::trace {

// The directory holding all traces (created on demand).
std::filesystem::path traces_root();

// Creates ROOT/NAME-N with the first free N, and files/ inside; points
// ROOT/latest-trace at it.
std::filesystem::path create_trace_dir(const std::filesystem::path& root, const std::string& name);
// Creates exactly DIR (rrx record -o DIR); fails if it exists and is not empty.
std::filesystem::path create_trace_dir_at(const std::filesystem::path& dir);

// Resolves what the user typed: empty -> latest trace; an existing path;
// or a NAME-N under the root. The result is absolute (a replay runs the
// trace's files from the recorded working directory). Throws rrx::Error with
// a clear message.
std::filesystem::path resolve_trace(const std::string& arg);

// Copies of mapped or executed files, one per distinct content:
// files/HASH/BASENAME. Files under /usr and /lib that cannot change in place
// (package-managed) are hard-linked where possible; all others are copied,
// so rewriting the original later does not change the trace.
class FileStore {
 public:
  explicit FileStore(std::filesystem::path trace_dir);
  struct Stored {
    std::string hash;            // 16 hex digits of the content hash
    std::filesystem::path path;  // where the copy is
    uint64_t size;
  };
  // Stores the file readable at `source` (e.g. /proc/PID/fd/N), whose
  // original name is `name`. Cached by (dev, inode, size, mtime).
  Stored store(const std::filesystem::path& source, const std::string& name);
  // Path of the copy for a hash recorded in the trace (throws if missing).
  std::filesystem::path lookup(const std::filesystem::path& trace_dir, const std::string& hash) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::map<std::tuple<uint64_t, uint64_t, uint64_t, int64_t>, Stored> cache_;
};

std::filesystem::path stored_file_path(const std::filesystem::path& trace_dir, const std::string& hash);
// The content hash FileStore names a file by (16 hex digits); throws
// rrx::Error when the file cannot be read.
std::string content_hash_of_file(const std::filesystem::path& path);
// stored_file_path, after checking that the copy's content still has that hash
// (throws rrx::Error naming the file when it was changed or truncated).
std::filesystem::path verified_stored_file(const std::filesystem::path& trace_dir, const std::string& hash);

}  // namespace rrx::trace
