// A fast first check of a trace message: see message_check.h. The wire
// format is Cap'n Proto's (capnproto.org/encoding.html): a pointer is one
// little-endian word, its two low bits the kind (0 struct, 1 list, 2 far,
// 3 other), bits 2..31 a signed offset in words from the word after it to
// its target; a struct pointer's bits 32..47 and 48..63 are the sizes of its
// data (words) and pointer sections; a list pointer's bits 32..34 are the
// element size, bits 35..63 the element count (for an inline-composite list,
// its size in words: a tag word shaped like a struct pointer, whose offset
// field is the element count, comes first).
#include "trace_format/message_check.h"

#include <cstdint>
#include <cstring>

namespace rrx::trace {

namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "rrx traces are little-endian");

constexpr int kMaxDepth = 60;                     // capnp's reader allows 64
constexpr uint64_t kMaxZeroSizedElements = 1024;  // as the full check

class Walk {
 public:
  Walk(const uint64_t* seg, uint64_t size) : seg_(seg), size_(size), budget_(size) {}

  // The pointer at word `pos` of the segment.
  bool pointer(uint64_t pos, int depth) {
    const uint64_t v = seg_[pos];
    if (v == 0) return true;  // null
    if (depth > kMaxDepth) return false;
    const int64_t target = static_cast<int64_t>(pos) + 1 + (static_cast<int32_t>(static_cast<uint32_t>(v)) >> 2);
    if (target < 0) return false;
    const auto at = static_cast<uint64_t>(target);
    switch (v & 3) {
      case 0: {  // struct
        const uint64_t data = (v >> 32) & 0xffff, ptrs = v >> 48;
        if (!take(at, data + ptrs)) return false;
        return pointers(at + data, ptrs, depth + 1);
      }
      case 1: {  // list
        const uint64_t n = v >> 35;
        switch ((v >> 32) & 7) {
          case 0: return n <= kMaxZeroSizedElements;  // void
          case 1: return take(at, (n + 63) / 64);
          case 2: return take(at, (n + 7) / 8);
          case 3: return take(at, (2 * n + 7) / 8);
          case 4: return take(at, (4 * n + 7) / 8);
          case 5: return take(at, n);
          case 6: return take(at, n) && pointers(at, n, depth + 1);
          default: {  // inline composite: n words after the tag
            if (!take(at, n + 1)) return false;
            const uint64_t tag = seg_[at];
            if ((tag & 3) != 0) return false;
            const uint64_t count = static_cast<uint32_t>(tag) >> 2;
            const uint64_t data = (tag >> 32) & 0xffff, ptrs = tag >> 48;
            if (data + ptrs == 0) return count <= kMaxZeroSizedElements;
            if (count * (data + ptrs) > n) return false;
            if (ptrs == 0) return true;
            uint64_t e = at + 1;
            for (uint64_t i = 0; i < count; ++i) {
              if (!pointers(e + data, ptrs, depth + 1)) return false;
              e += data + ptrs;
            }
            return true;
          }
        }
      }
      default: return false;  // far (another segment), capability, other
    }
  }

 private:
  // [at, at + words) lies inside the segment, and the walk may visit it.
  bool take(uint64_t at, uint64_t words) {
    if (at > size_ || words > size_ - at || words > budget_) return false;
    budget_ -= words;
    return true;
  }
  bool pointers(uint64_t at, uint64_t n, int depth) {
    for (uint64_t i = 0; i < n; ++i) {
      if (!pointer(at + i, depth)) return false;
    }
    return true;
  }

  const uint64_t* seg_;
  uint64_t size_;
  uint64_t budget_;  // words of objects left to visit: a tree visits each once
};

}  // namespace

bool message_certainly_fine(const capnp::word* words, size_t count) {
  if (count < 2) return false;
  uint32_t table[2];
  std::memcpy(table, words, sizeof table);
  if (table[0] != 0) return false;  // more than one segment
  const uint64_t size = table[1];
  if (size < 1 || size > count - 1) return false;
  // (capnp::word is a plain 8-byte word: its storage is the message's bytes.)
  const auto* seg = reinterpret_cast<const uint64_t*>(words + 1);
  Walk walk(seg, size);
  return walk.pointer(0, 0);
}

}  // namespace rrx::trace
