// Data extents, the Pages content hash and the hole-keeping copy of
// sparse_file.h.
#include "trace_format/sparse_file.h"

#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "core/error.h"

namespace rrx::trace {

namespace {

// Reads go through a buffer of at most this size, one per thread, kept for
// the next call: a fresh page costs a fault when first written, and where
// faults are slow (tens of microseconds on some VMs) a fresh megabyte per
// call cost several milliseconds, far more than reading libc into it.
constexpr size_t kBlock = 128 << 10;

// The calling thread's buffer (kBlock bytes, not value-initialised), or, for a
// call made from inside another's `take`, one of its own.
class BlockBuffer {
 public:
  BlockBuffer() {
    thread_local std::unique_ptr<unsigned char[]> kept;
    thread_local bool busy = false;
    if (busy) {
      own_.reset(new unsigned char[kBlock]);
      data_ = own_.get();
      return;
    }
    if (!kept) kept.reset(new unsigned char[kBlock]);
    busy = true;
    busy_ = &busy;
    data_ = kept.get();
  }
  ~BlockBuffer() {
    if (busy_ != nullptr) *busy_ = false;
  }
  BlockBuffer(const BlockBuffer&) = delete;
  BlockBuffer& operator=(const BlockBuffer&) = delete;
  unsigned char* data() const { return data_; }

 private:
  std::unique_ptr<unsigned char[]> own_;
  bool* busy_ = nullptr;
  unsigned char* data_ = nullptr;
};

bool out_of_space(int err) { return err == ENOSPC || err == EDQUOT; }

void pwrite_all(int fd, const unsigned char* data, size_t len, uint64_t pos, const std::string& what) {
  while (len > 0) {
    ssize_t w = ::pwrite(fd, data, len, static_cast<off_t>(pos));
    if (w < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      if (out_of_space(err))
        throw NoSpaceError("no space left on the trace's file system while writing " + what + ": " +
                           std::strerror(err));
      throw_errno("cannot write " + what, err);
    }
    data += w;
    len -= static_cast<size_t>(w);
    pos += static_cast<uint64_t>(w);
  }
}

}  // namespace

std::vector<Extent> data_extents(int fd, uint64_t begin, uint64_t end, const std::string& name) {
  std::vector<Extent> out;
  uint64_t pos = begin;
  while (pos < end) {
    off_t d = ::lseek(fd, static_cast<off_t>(pos), SEEK_DATA);
    if (d < 0) {
      if (errno == ENXIO) break;  // no data at or after pos
      if (errno == EINVAL || errno == EOPNOTSUPP) {
        out.push_back({pos, end - pos});  // no SEEK_DATA here: all of it may be data
        break;
      }
      throw_errno("cannot look for data in " + name);
    }
    uint64_t data = static_cast<uint64_t>(d);
    if (data >= end) break;
    off_t h = ::lseek(fd, d, SEEK_HOLE);
    if (h < 0) {
      if (errno == ENXIO) break;  // the file shrank under us
      throw_errno("cannot look for holes in " + name);
    }
    uint64_t hole = std::min(end, static_cast<uint64_t>(h));
    if (hole <= data) break;
    out.push_back({data, hole - data});
    pos = hole;
  }
  return out;
}

uint64_t data_bytes(int fd, uint64_t begin, uint64_t end, const std::string& name) {
  uint64_t total = 0;
  for (const Extent& e : data_extents(fd, begin, end, name)) total += e.length;
  return total;
}

uint64_t for_each_data_block(int fd, uint64_t begin, uint64_t end, const std::string& name,
                             const std::function<void(uint64_t, const unsigned char*, size_t)>& take) {
  const size_t n = kBlock;
  BlockBuffer buf;
  uint64_t last = begin;
  for (const Extent& e : data_extents(fd, begin, end, name)) {
    uint64_t pos = e.offset, stop = e.offset + e.length;
    while (pos < stop) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(n, stop - pos));
      ssize_t r = ::pread(fd, buf.data(), want, static_cast<off_t>(pos));
      if (r < 0) {
        if (errno == EINTR) continue;
        throw_errno("cannot read " + name);
      }
      if (r == 0) return last;  // the file ends early
      take(pos, buf.data(), static_cast<size_t>(r));
      pos += static_cast<uint64_t>(r);
      last = pos;
    }
  }
  return last;
}

bool all_zero(const unsigned char* data, size_t len) {
  if (len == 0) return true;
  return data[0] == 0 && std::memcmp(data, data + 1, len - 1) == 0;
}

PageHasher::PageHasher(uint64_t size) : size_(size) {
  static const char kTag[] = "rrx-pages-v1";
  hasher_.update(kTag, sizeof kTag - 1);
  hasher_.update(&size_, sizeof size_);
}

void PageHasher::flush() {
  if (page_ == UINT64_MAX) return;
  uint64_t start = page_ * kPage;
  if (start < size_) {
    size_t len = static_cast<size_t>(std::min<uint64_t>(kPage, size_ - start));
    if (!all_zero(buf_, len)) {
      hasher_.update(&page_, sizeof page_);
      hasher_.update(buf_, len);
    }
  }
  page_ = UINT64_MAX;
}

void PageHasher::add(uint64_t pos, const unsigned char* data, size_t len) {
  if (pos >= size_) return;
  len = static_cast<size_t>(std::min<uint64_t>(len, size_ - pos));
  while (len > 0) {
    uint64_t page = pos / kPage;
    size_t in = static_cast<size_t>(pos % kPage);
    size_t n = std::min<size_t>(len, kPage - in);
    if (in == 0 && n == kPage && page != page_) {
      // A whole page (the common case): hashed in place.
      flush();
      if (!all_zero(data, n)) {
        hasher_.update(&page, sizeof page);
        hasher_.update(data, n);
      }
    } else {
      if (page != page_) {
        flush();
        page_ = page;
        std::memset(buf_, 0, sizeof buf_);
      }
      std::memcpy(buf_ + in, data, n);
    }
    pos += n;
    data += n;
    len -= n;
  }
}

std::string PageHasher::hex() {
  flush();
  return hasher_.hex();
}

std::string content_hash_of_range(int fd, uint64_t begin, uint64_t end, FileHashKind kind,
                                  const std::string& name) {
  if (kind == FileHashKind::Pages) {
    PageHasher h(end - begin);
    for_each_data_block(fd, begin, end, name,
                        [&](uint64_t off, const unsigned char* data, size_t n) { h.add(off - begin, data, n); });
    return h.hex();
  }
  // Stream: every byte up to `end` or the end of the file, holes read as zeros.
  ContentHasher h;
  BlockBuffer buf;
  uint64_t pos = begin;
  while (pos < end) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(kBlock, end - pos));
    ssize_t r = ::pread(fd, buf.data(), want, static_cast<off_t>(pos));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot read " + name);
    }
    if (r == 0) break;
    h.update(buf.data(), static_cast<size_t>(r));
    pos += static_cast<uint64_t>(r);
  }
  return h.hex();
}

std::string sparse_copy(int in, uint64_t begin, uint64_t end, int out, const std::string& in_name,
                        const std::string& out_name) {
  const uint64_t size = end - begin;
  if (::ftruncate(out, static_cast<off_t>(size)) != 0) {
    int err = errno;
    if (out_of_space(err)) throw NoSpaceError("no space left on the trace's file system for " + out_name);
    throw_errno("cannot set the size of " + out_name + " to " + std::to_string(size) + " bytes", err);
  }
  PageHasher hasher(size);
  for_each_data_block(in, begin, end, in_name, [&](uint64_t off, const unsigned char* data, size_t n) {
    const uint64_t pos = off - begin;
    hasher.add(pos, data, n);
    // Pages of zeros stay holes.
    for_each_nonzero_run(pos, data, n, [&](uint64_t at, const unsigned char* bytes, size_t len) {
      pwrite_all(out, bytes, len, at, out_name);
    });
  });
  return hasher.hex();
}

void for_each_nonzero_run(uint64_t pos, const unsigned char* data, size_t n,
                          const std::function<void(uint64_t, const unsigned char*, size_t)>& put) {
  size_t i = 0, run = 0;
  bool in_run = false;
  while (i < n) {
    size_t piece = std::min<size_t>(n - i, PageHasher::kPage - static_cast<size_t>((pos + i) % PageHasher::kPage));
    bool zero = all_zero(data + i, piece);
    if (!zero && !in_run) {
      run = i;
      in_run = true;
    } else if (zero && in_run) {
      put(pos + run, data + run, i - run);
      in_run = false;
    }
    i += piece;
  }
  if (in_run) put(pos + run, data + run, n - run);
}

bool clone_file(int in, int out) { return ::ioctl(out, FICLONE, in) == 0; }

void empty_for_copy(int out, const std::string& name) {
  struct stat st {};
  if (::fstat(out, &st) == 0 && st.st_size == 0) return;
  if (::ftruncate(out, 0) != 0) throw_errno("cannot truncate " + name);
}

}  // namespace rrx::trace
