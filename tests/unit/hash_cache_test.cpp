// trace_format/hash_cache: content hashes remembered across recordings, keyed
// by a file's identity and mtime; bad lines ignored, entries shared through
// the file by separate caches (separate recordings).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "trace_format/hash_cache.h"

namespace fs = std::filesystem;
using rrx::trace::HashCache;

TEST_CASE("hash_cache: remembered by identity and mtime, shared through the file", "[hash_cache]") {
  fs::path dir = fs::temp_directory_path() / ("rrx-hash-cache-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path file = dir / "lib.so";
  std::ofstream(file) << "content";
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  fs::path cache_file = dir / ".file-hashes";
  {
    HashCache c(cache_file);
    CHECK(!c.lookup(st));
    c.add(st, "0123456789abcdef");
    CHECK(c.lookup(st) == std::optional<std::string>("0123456789abcdef"));
    c.add(st, "not a hash");  // refused
  }
  {
    HashCache other(cache_file);  // another recording
    CHECK(other.lookup(st) == std::optional<std::string>("0123456789abcdef"));
    struct stat changed = st;
    changed.st_mtim.tv_nsec += 1;  // the file was written
    CHECK(!other.lookup(changed));
    changed = st;
    changed.st_size += 1;
    CHECK(!other.lookup(changed));
    changed = st;
    changed.st_ino += 1;  // replaced (a package upgrade renames a new file over it)
    CHECK(!other.lookup(changed));
  }
  {
    // Garbage, a cut-off last line and a bad hash are ignored.
    std::ofstream(cache_file, std::ios::app) << "garbage\nrrx-hash-1 1 2 3 4 xyz\nrrx-hash-1 1 2 3 4 0123";
    HashCache again(cache_file);
    CHECK(again.lookup(st) == std::optional<std::string>("0123456789abcdef"));
  }
  {
    HashCache missing(dir / "no-such-dir" / ".file-hashes");  // cannot be read or written: only empty
    CHECK(!missing.lookup(st));
    missing.add(st, "0123456789abcdef");
    CHECK(missing.lookup(st) == std::optional<std::string>("0123456789abcdef"));
  }
  fs::remove_all(dir);
}
