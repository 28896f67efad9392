// Unit tests of the fast path's LD_PRELOAD value (record/preload_env.h:
// rrx's library first, or second after a runtime that must be the first) and
// of the DT_NEEDED list it is computed from (core/elf_file.h).
#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <string>
#include <vector>

#include "core/elf_file.h"
#include "record/preload_env.h"

using rrx::record::must_load_first;
using rrx::record::preload_list;

TEST_CASE("preload_env: ASan's runtimes must load first, nothing else") {
  CHECK(must_load_first("libasan.so.8"));
  CHECK(must_load_first("/usr/lib/x86_64-linux-gnu/libasan.so.6"));
  CHECK(must_load_first("libclang_rt.asan-x86_64.so"));
  CHECK(!must_load_first("libc.so.6"));
  CHECK(!must_load_first("libtsan.so.2"));
  CHECK(!must_load_first("/opt/libasan/libfoo.so"));
  CHECK(!must_load_first(""));
}

TEST_CASE("preload_env: rrx's library first, before libc") {
  CHECK(preload_list("/l/rrx.so", "", {"libc.so.6"}) == "/l/rrx.so");
  CHECK(preload_list("/l/rrx.so", "", {"libstdc++.so.6", "libasan.so.8"}) == "/l/rrx.so");
  CHECK(preload_list("/l/rrx.so", "", {}) == "/l/rrx.so");
}

TEST_CASE("preload_env: after the program's first DT_NEEDED when it is ASan's runtime") {
  CHECK(preload_list("/l/rrx.so", "", {"libasan.so.8", "libc.so.6"}) == "libasan.so.8:/l/rrx.so");
  CHECK(preload_list("/l/rrx.so", "", {"libclang_rt.asan-x86_64.so"}) == "libclang_rt.asan-x86_64.so:/l/rrx.so");
}

TEST_CASE("preload_env: the user's LD_PRELOAD follows, its own order kept, its ASan runtime stays first") {
  CHECK(preload_list("/l/rrx.so", "a.so b.so:c.so", {"libc.so.6"}) == "/l/rrx.so:a.so:b.so:c.so");
  CHECK(preload_list("/l/rrx.so", "libasan.so.8 b.so", {"libc.so.6"}) == "libasan.so.8:/l/rrx.so:b.so");
  // The user's first entry is what a native run loads first: not the program's libasan.
  CHECK(preload_list("/l/rrx.so", "a.so", {"libasan.so.8"}) == "/l/rrx.so:a.so");
  // ld.so skips empty entries; separators only: as if unset.
  CHECK(preload_list("/l/rrx.so", " ::libasan.so.8: ", {"libc.so.6"}) == "libasan.so.8:/l/rrx.so");
  CHECK(preload_list("/l/rrx.so", " : ", {"libasan.so.8"}) == "libasan.so.8:/l/rrx.so");
}

TEST_CASE("elf_file: a dynamically linked program's DT_NEEDED list") {
  rrx::ElfSummary s = rrx::inspect_program(RRX_TEST_PROGRAMS_DIR "/exit_code");
  REQUIRE(!s.interpreter.empty());
  CHECK(s.needed == std::vector<std::string>{"libc.so.6"});
}

TEST_CASE("elf_file: the DT_NEEDED list of a program with a large dynamic string table (gcc's cc1)") {
  // cc1 exports its symbols: a 1.3 MB table, of which inspect_program reads
  // only the part that holds the names.
  std::string cc1;
  if (FILE* p = ::popen("gcc -print-prog-name=cc1 2>/dev/null", "r")) {
    char buf[4096] = {};
    if (std::fgets(buf, sizeof buf, p)) cc1 = buf;
    ::pclose(p);
  }
  while (!cc1.empty() && (cc1.back() == '\n' || cc1.back() == ' ')) cc1.pop_back();
  if (cc1.empty() || cc1[0] != '/' || ::access(cc1.c_str(), R_OK) != 0) {
    WARN("no cc1 here");
    return;
  }
  rrx::ElfSummary s = rrx::inspect_program(cc1);
  REQUIRE(!s.interpreter.empty());
  REQUIRE(s.needed.size() >= 2);
  CHECK(std::find(s.needed.begin(), s.needed.end(), "libc.so.6") != s.needed.end());
  for (const std::string& n : s.needed) CHECK(n.find(".so") != std::string::npos);
}
