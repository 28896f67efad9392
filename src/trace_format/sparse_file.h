// Sparse files for the trace's file store: the data extents of a file
// (SEEK_DATA/SEEK_HOLE), a copy that keeps holes holes, and the content hash
// of a file computed without reading its holes. Used by FileStore (record)
// and by the replay's check and fill of a stored copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/hash.h"

namespace rrx::trace {

// The trace's file system has no room for a copy: the recording cannot go on.
class NoSpaceError : public Error {
 public:
  using Error::Error;
};

// A run of bytes [offset, offset + length) that may hold data.
struct Extent {
  uint64_t offset;
  uint64_t length;
};

// The data extents of fd within [begin, end), in order. Holes are left out;
// a file system without SEEK_DATA reports the whole range as data. Throws
// rrx::Error (naming `name`) when fd cannot be read.
std::vector<Extent> data_extents(int fd, uint64_t begin, uint64_t end, const std::string& name);
// Sum of the extents' lengths: the bytes a sparse copy of the range takes.
uint64_t data_bytes(int fd, uint64_t begin, uint64_t end, const std::string& name);

// Calls take(offset, bytes, len) for the data of [begin, end) in order, in
// blocks of at most 1 MiB, reading only the data extents. A read that ends
// early (the file shrank) ends the walk. Returns the end of the last bytes
// given (begin when none).
uint64_t for_each_data_block(int fd, uint64_t begin, uint64_t end, const std::string& name,
                             const std::function<void(uint64_t, const unsigned char*, size_t)>& take);

// How a trace names stored files by content (Header.fileHash in trace.capnp).
enum class FileHashKind {
  Stream,  // traces before sparse files: ContentHasher over all the bytes, in order
  Pages,   // ContentHasher over the size, then (index, bytes) of every page that is not all zeros
};

// The Pages hash: the content is cut into 4 KiB pages; pages of zeros (holes
// or written zeros, alike) add nothing, so hashing a sparse file costs its
// data, not its size. Feed the content's bytes with add(), in increasing
// position order (gaps between are zeros), then read hex().
class PageHasher {
 public:
  static constexpr uint64_t kPage = 4096;
  explicit PageHasher(uint64_t size);
  void add(uint64_t pos, const unsigned char* data, size_t len);
  std::string hex();

 private:
  void flush();
  uint64_t size_;
  ContentHasher hasher_;
  uint64_t page_ = UINT64_MAX;  // index of the page in buf_, UINT64_MAX: none
  unsigned char buf_[kPage];
};

// True when [data, data + len) is all zero bytes.
bool all_zero(const unsigned char* data, size_t len);

// The content hash of bytes [begin, end) of fd (the content a copy of that
// range holds), of the given kind.
std::string content_hash_of_range(int fd, uint64_t begin, uint64_t end, FileHashKind kind, const std::string& name);

// Writes bytes [begin, end) of `in` to `out` (an empty file) at position
// pos - begin, leaving holes where `in` has holes or pages of zeros; `out`
// gets size end - begin. Returns the Pages hash of what it wrote. Throws
// NoSpaceError when a write fails for lack of space (ENOSPC, EDQUOT),
// rrx::Error for other failures.
std::string sparse_copy(int in, uint64_t begin, uint64_t end, int out, const std::string& in_name,
                        const std::string& out_name);

// Calls put(pos, bytes, len) for each run of [data, data + n), which holds
// the bytes at position pos, made of 4 KiB pieces (aligned on positions)
// that are not all zeros: what must be written where zeros are already.
void for_each_nonzero_run(uint64_t pos, const unsigned char* data, size_t n,
                          const std::function<void(uint64_t, const unsigned char*, size_t)>& put);

// FICLONE: makes `out` share all of `in`'s extents (btrfs, XFS with reflink,
// bcachefs...). false when the file systems cannot (different ones, no
// support): copy instead.
bool clone_file(int in, int out);

// Empties `out` (a copy that clone_file may have begun) before a copy into
// it, without a truncation when it is empty already, as a failed clone
// leaves it: on ext4 a truncation to size 0 marks the file for block
// allocation and writeback at its close (auto_da_alloc, for programs that
// replace a file's contents by truncating it), ~55 us per stored copy here.
// `name` for the error.
void empty_for_copy(int out, const std::string& name);

}  // namespace rrx::trace
