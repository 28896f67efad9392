#include <catch2/catch.hpp>

#include <string>

#include "core/hash.h"

TEST_CASE("hash: crc32c matches the standard check value and chains") {
  REQUIRE(rrx::crc32c("123456789", 9) == 0xe3069283u);
  REQUIRE(rrx::crc32c("", 0) == 0u);
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7 + 3));
  uint32_t whole = rrx::crc32c(data.data(), data.size());
  for (size_t split : {0, 1, 3, 8, 13, 500, 999, 1000}) {
    uint32_t a = rrx::crc32c(data.data(), split);
    REQUIRE(rrx::crc32c(data.data() + split, data.size() - split, a) == whole);
  }
}

TEST_CASE("hash: content hash depends on every byte and not on how it is fed") {
  std::string data(100000, 'x');
  rrx::ContentHasher one;
  one.update(data.data(), data.size());
  rrx::ContentHasher pieces;
  for (size_t off = 0; off < data.size(); off += 777) pieces.update(data.data() + off, std::min<size_t>(777, data.size() - off));
  REQUIRE(one.hex() == pieces.hex());
  REQUIRE(one.hex().size() == 16);
  data[54321] = 'y';
  rrx::ContentHasher changed;
  changed.update(data.data(), data.size());
  REQUIRE(changed.hex() != one.hex());
}
