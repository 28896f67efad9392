#include "core/hash.h"

#include <cstring>

namespace rrx {

namespace {
constexpr uint64_t kP1 = 0x9E3779B185EBCA87ull;
constexpr uint64_t kP2 = 0xC2B2AE3D27D4EB4Full;

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t round(uint64_t acc, uint64_t input) {
  acc += input * kP2;
  acc = rotl(acc, 31);
  return acc * kP1;
}
inline uint64_t load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
}  // namespace

void ContentHasher::update(const void* data, size_t len) {
  const auto* p = static_cast<const unsigned char*>(data);
  total_ += len;
  if (tail_len_ > 0) {
    size_t take = std::min(len, sizeof tail_ - tail_len_);
    std::memcpy(tail_ + tail_len_, p, take);
    tail_len_ += take;
    p += take;
    len -= take;
    if (tail_len_ < sizeof tail_) return;
    for (int i = 0; i < 4; ++i) state_[i] = round(state_[i], load64(tail_ + 8 * i));
    tail_len_ = 0;
  }
  while (len >= 32) {
    for (int i = 0; i < 4; ++i) state_[i] = round(state_[i], load64(p + 8 * i));
    p += 32;
    len -= 32;
  }
  std::memcpy(tail_, p, len);
  tail_len_ = len;
}

uint64_t ContentHasher::digest() const {
  uint64_t h = rotl(state_[0], 1) + rotl(state_[1], 7) + rotl(state_[2], 12) + rotl(state_[3], 18);
  h ^= total_;
  for (size_t i = 0; i < tail_len_; ++i) {
    h ^= tail_[i] * kP1;
    h = rotl(h, 11) * kP2;
  }
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP1;
  h ^= h >> 32;
  return h;
}

std::string ContentHasher::hex() const {
  static const char digits[] = "0123456789abcdef";
  uint64_t v = digest();
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i) {
    s[static_cast<size_t>(i)] = digits[v & 0xf];
    v >>= 4;
  }
  return s;
}

namespace {

// The SSE4.2 crc32 instruction computes the same CRC-32C, 8 bytes at a time.
__attribute__((target("sse4.2"))) uint32_t crc32c_hw(const unsigned char* p, size_t len, uint32_t crc) {
  uint64_t c = ~crc & 0xffffffffu;
  while (len >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
    p += 8;
    len -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (len-- > 0) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return ~c32;
}

uint32_t crc32c_sw(const unsigned char* p, size_t len, uint32_t crc);

}  // namespace

uint32_t crc32c(const void* data, size_t len, uint32_t crc) {
  static const bool hw = __builtin_cpu_supports("sse4.2");
  const auto* p = static_cast<const unsigned char*>(data);
  return hw ? crc32c_hw(p, len, crc) : crc32c_sw(p, len, crc);
}

namespace {

uint32_t crc32c_sw(const unsigned char* p, size_t len, uint32_t crc) {
  static uint32_t table[256];
  static bool ready = [] {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      table[i] = c;
    }
    return true;
  }();
  (void)ready;
  crc = ~crc;
  for (size_t i = 0; i < len; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

}  // namespace

}  // namespace rrx
