#include "trace_format/chunk_format.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/hash.h"

namespace rrx::trace::detail {

namespace {

template <typename T>
void put(unsigned char* p, T v) {
  std::memcpy(p, &v, sizeof v);
}
template <typename T>
T get(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

void encode_chunk_header(const ChunkHeader& h, unsigned char out[kChunkHeaderSize]) {
  put<uint32_t>(out + 0, h.magic);
  put<uint8_t>(out + 4, h.kind);
  put<uint8_t>(out + 5, h.codec);
  put<uint16_t>(out + 6, h.reserved);
  put<uint32_t>(out + 8, h.compressed_size);
  put<uint32_t>(out + 12, h.uncompressed_size);
  put<uint64_t>(out + 16, h.first_event);
  put<uint32_t>(out + 24, h.count);
  put<uint32_t>(out + 28, h.crc);
}

ChunkHeader decode_chunk_header(const unsigned char in[kChunkHeaderSize]) {
  ChunkHeader h;
  h.magic = get<uint32_t>(in + 0);
  h.kind = get<uint8_t>(in + 4);
  h.codec = get<uint8_t>(in + 5);
  h.reserved = get<uint16_t>(in + 6);
  h.compressed_size = get<uint32_t>(in + 8);
  h.uncompressed_size = get<uint32_t>(in + 12);
  h.first_event = get<uint64_t>(in + 16);
  h.count = get<uint32_t>(in + 24);
  h.crc = get<uint32_t>(in + 28);
  return h;
}

std::vector<unsigned char> encode_index(const std::vector<IndexEntry>& entries, uint64_t trace_size) {
  std::vector<unsigned char> out(kIndexHeaderSize + entries.size() * kIndexEntrySize + 4, 0);
  unsigned char* p = out.data();
  std::memcpy(p, kIndexMagic, 8);
  put<uint32_t>(p + 8, kIndexVersion);
  put<uint32_t>(p + 12, kFormatVersion);
  put<uint64_t>(p + 16, trace_size);
  put<uint32_t>(p + 24, static_cast<uint32_t>(entries.size()));
  p += kIndexHeaderSize;
  for (const IndexEntry& e : entries) {
    put<uint64_t>(p + 0, e.offset);
    put<uint64_t>(p + 8, e.first_event);
    put<uint32_t>(p + 16, e.compressed_size);
    put<uint32_t>(p + 20, e.uncompressed_size);
    put<uint32_t>(p + 24, e.count);
    put<uint32_t>(p + 28, e.crc);
    put<uint8_t>(p + 32, e.kind);
    p += kIndexEntrySize;
  }
  put<uint32_t>(p, crc32c(out.data(), out.size() - 4));
  return out;
}

std::optional<std::vector<IndexEntry>> decode_index(const unsigned char* data, size_t len,
                                                    uint64_t trace_size) {
  if (len < kIndexHeaderSize + 4) return std::nullopt;
  if (std::memcmp(data, kIndexMagic, 8) != 0) return std::nullopt;
  if (get<uint32_t>(data + 8) != kIndexVersion) return std::nullopt;
  if (get<uint32_t>(data + 12) != kFormatVersion) return std::nullopt;
  if (get<uint64_t>(data + 16) != trace_size) return std::nullopt;
  uint64_t n = get<uint32_t>(data + 24);
  if (get<uint32_t>(data + 28) != 0) return std::nullopt;
  if (len != kIndexHeaderSize + n * kIndexEntrySize + 4) return std::nullopt;
  if (get<uint32_t>(data + len - 4) != crc32c(data, len - 4)) return std::nullopt;
  std::vector<IndexEntry> entries(n);
  const unsigned char* p = data + kIndexHeaderSize;
  for (IndexEntry& e : entries) {
    e.offset = get<uint64_t>(p + 0);
    e.first_event = get<uint64_t>(p + 8);
    e.compressed_size = get<uint32_t>(p + 16);
    e.uncompressed_size = get<uint32_t>(p + 20);
    e.count = get<uint32_t>(p + 24);
    e.crc = get<uint32_t>(p + 28);
    e.kind = get<uint8_t>(p + 32);
    for (int i = 33; i < 40; ++i)
      if (p[i] != 0) return std::nullopt;
    p += kIndexEntrySize;
  }
  return entries;
}

bool write_all(int fd, const void* data, size_t len) {
  const auto* p = static_cast<const unsigned char*>(data);
  while (len > 0) {
    ssize_t w = ::write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (w == 0) {
      errno = EIO;
      return false;
    }
    p += w;
    len -= static_cast<size_t>(w);
  }
  return true;
}

long long pread_full(int fd, void* data, size_t len, uint64_t offset) {
  auto* p = static_cast<unsigned char*>(data);
  size_t done = 0;
  while (done < len) {
    ssize_t r = ::pread(fd, p + done, len - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return static_cast<long long>(done);
}

bool write_file_atomically(const std::string& path, const void* data, size_t len, bool sync) {
  std::string tmp = path + ".XXXXXX.rrxtmp";
  // mkstemps: the 6 X's followed by a 7-character suffix.
  int fd = ::mkostemps(tmp.data(), 7, O_CLOEXEC);
  if (fd < 0) return false;
  // 0600 like every file of a trace (it may hold secrets).
  bool ok = ::fchmod(fd, 0600) == 0 && write_all(fd, data, len) && (!sync || ::fsync(fd) == 0);
  int saved = errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    saved = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    errno = saved;
  }
  return ok;
}

}  // namespace rrx::trace::detail
