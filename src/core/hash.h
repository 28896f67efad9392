// Hashes: a fast 64-bit content hash (file store) and CRC-32C (chunk checksums).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace rrx {

class ContentHasher {
 public:
  void update(const void* data, size_t len);
  uint64_t digest() const;
  std::string hex() const;  // 16 lowercase hex digits

 private:
  uint64_t state_[4] = {0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull,
                        0x85EBCA77C2B2AE63ull};
  unsigned char tail_[32];
  size_t tail_len_ = 0;
  uint64_t total_ = 0;
};

uint32_t crc32c(const void* data, size_t len, uint32_t crc = 0);

}  // namespace rrx
