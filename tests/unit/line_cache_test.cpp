// core/line_cache and the caches built on it: facts remembered across rrx
// runs in ~/.cache/rrx. A changed key misses, a damaged cache file is
// ignored line by line, and a cache that cannot be written still works.
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/kernel_probe.h"
#include "core/line_cache.h"
#include "record/insn_site_cache.h"

namespace fs = std::filesystem;
using rrx::KernelFactCache;
using rrx::LineCache;
using rrx::record::InsnSiteCache;

namespace {

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& what)
      : path(fs::temp_directory_path() / ("rrx-" + what + "-test-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("line_cache: shared through the file, by tag and whole key", "[line_cache]") {
  TempDir dir("line-cache");
  fs::path file = dir.path / "facts";
  {
    LineCache c(file, "rrx-test-1", 2);
    CHECK(!c.lookup("a b"));
    c.add("a b", "value with spaces");
    c.add("a", "one field: refused");
    c.add("a b c", "three fields: refused");
    c.add("a  b", "an empty field: refused");
    c.add("x y", "a\nnewline: refused");
    c.add("x y", "");  // empty: refused
    CHECK(c.lookup("a b") == std::optional<std::string>("value with spaces"));
    CHECK(!c.lookup("a"));
    CHECK(!c.lookup("x y"));
  }
  // Each line is written after a newline (one a killed writer cut short
  // ends there) and ends with its own check word.
  const std::string text = read_all(file);
  CHECK(text.rfind("\nrrx-test-1 a b value with spaces #", 0) == 0);
  CHECK(text.size() == std::string("\nrrx-test-1 a b value with spaces #01234567\n").size());
  CHECK(text.back() == '\n');
  {
    LineCache other(file, "rrx-test-1", 2);  // another run
    CHECK(other.lookup("a b") == std::optional<std::string>("value with spaces"));
    CHECK(!other.lookup("a c"));  // another key
    other.add("a b", "newer");
    LineCache third(file, "rrx-test-1", 2);
    CHECK(third.lookup("a b") == std::optional<std::string>("newer"));  // the last line wins
    LineCache next_version(file, "rrx-test-2", 2);
    CHECK(!next_version.lookup("a b"));
  }
  {
    // Garbage, another tag, a tag that only starts the same, too few fields
    // and a last line cut short are ignored; the good line before them stays.
    std::ofstream(file, std::ios::app) << "garbage\n\nrrx-other-1 a b x\nrrx-test-10 c d x\nrrx-test-1 c\n"
                                          "rrx-test-1 c d\nrrx-test-1 e f cut sh";
    LineCache again(file, "rrx-test-1", 2);
    CHECK(again.lookup("a b") == std::optional<std::string>("newer"));
    CHECK(!again.lookup("c d"));
    CHECK(!again.lookup("e f"));
  }
  {
    // Past its size limit the file starts again.
    LineCache small(file, "rrx-test-1", 2, 16);
    CHECK(!small.lookup("a b"));
    CHECK(!fs::exists(file));
  }
}

TEST_CASE("line_cache: a cache that cannot be written lasts as long as the object", "[line_cache]") {
  TempDir dir("line-cache-ro");
  for (const fs::path& where : {dir.path / "no-such-dir" / "facts", fs::path()}) {
    LineCache c(where, "rrx-test-1", 1);
    CHECK(!c.lookup("k"));
    c.add("k", "v");
    CHECK(c.lookup("k") == std::optional<std::string>("v"));
    LineCache other(where, "rrx-test-1", 1);
    CHECK(!other.lookup("k"));
  }
  {
    // Binary garbage, then a directory where the file should be.
    fs::path junk = dir.path / "junk";
    std::ofstream(junk, std::ios::binary) << std::string("\0\xff\n\n rrx-test-1\0 k v\n", 20);
    LineCache c(junk, "rrx-test-1", 1);
    CHECK(!c.lookup("k"));
    fs::create_directories(dir.path / "a-dir");
    LineCache d(dir.path / "a-dir", "rrx-test-1", 1);
    CHECK(!d.lookup("k"));
    d.add("k", "v");
    CHECK(d.lookup("k") == std::optional<std::string>("v"));
  }
  if (::geteuid() != 0) {  // (root writes anywhere)
    fs::path ro = dir.path / "ro";
    fs::create_directories(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    LineCache c(ro / "facts", "rrx-test-1", 1);
    c.add("k", "v");
    CHECK(c.lookup("k") == std::optional<std::string>("v"));
    CHECK(!fs::exists(ro / "facts"));
    fs::permissions(ro, fs::perms::owner_all);
  }
}

TEST_CASE("line_cache: user_cache_file follows XDG_CACHE_HOME, then HOME", "[line_cache]") {
  TempDir dir("line-cache-home");
  std::string old_xdg = std::getenv("XDG_CACHE_HOME") ? std::getenv("XDG_CACHE_HOME") : "";
  std::string old_home = std::getenv("HOME") ? std::getenv("HOME") : "";
  ::setenv("XDG_CACHE_HOME", (dir.path / "xdg").c_str(), 1);
  CHECK(rrx::user_cache_file("f") == dir.path / "xdg" / "rrx" / "f");
  CHECK(fs::is_directory(dir.path / "xdg" / "rrx"));
  ::setenv("XDG_CACHE_HOME", "relative", 1);  // not absolute: ignored
  ::setenv("HOME", dir.path.c_str(), 1);
  CHECK(rrx::user_cache_file("f") == dir.path / ".cache" / "rrx" / "f");
  ::unsetenv("XDG_CACHE_HOME");
  ::unsetenv("HOME");
  CHECK(rrx::user_cache_file("f").empty());
  if (!old_xdg.empty()) ::setenv("XDG_CACHE_HOME", old_xdg.c_str(), 1);
  if (!old_home.empty()) ::setenv("HOME", old_home.c_str(), 1);
}

TEST_CASE("insn_site_cache: sites by file identity and mtime, damaged values ignored", "[line_cache]") {
  using rrx::insn_scan::Site;
  TempDir dir("insn-site-cache");
  fs::path lib = dir.path / "lib.so";
  std::ofstream(lib) << "content";
  struct stat st {};
  REQUIRE(::stat(lib.c_str(), &st) == 0);
  fs::path file = dir.path / "insn-sites";
  const std::vector<Site> sites = {{"rdrand", 0x1234, 0x401234}, {"rdseed", 0x10, 0x10}};
  {
    InsnSiteCache c(file);
    CHECK(!c.lookup(st));
    c.add(st, sites);
    struct stat none = st;
    none.st_ino += 1;
    c.add(none, {});
  }
  InsnSiteCache other(file);
  auto got = other.lookup(st);
  REQUIRE(got);
  REQUIRE(got->size() == 2);
  CHECK((*got)[0].mnemonic == "rdrand");
  CHECK((*got)[0].file_offset == 0x1234);
  CHECK((*got)[0].elf_addr == 0x401234);
  CHECK((*got)[1].mnemonic == "rdseed");
  struct stat changed = st;
  changed.st_ino += 1;  // a file without any: known, and empty
  REQUIRE(other.lookup(changed));
  CHECK(other.lookup(changed)->empty());
  changed = st;
  changed.st_mtim.tv_nsec += 1;  // the file was written
  CHECK(!other.lookup(changed));
  changed = st;
  changed.st_size += 1;
  CHECK(!other.lookup(changed));
  changed = st;
  changed.st_dev += 1;
  CHECK(!other.lookup(changed));

  CHECK(InsnSiteCache::decode(InsnSiteCache::encode(sites)));
  CHECK(InsnSiteCache::decode("0"));
  for (const char* bad : {"", "x", "1", "2 rdrand:1:2", "1 rdrand:1:2 rdrand:3:4", "1 cpuid:1:2", "1 rdrand:1",
                          "1 rdrand:1:2x", "1 rdrand:1:2 ", "1 rdrand::2", "-1", "1 rdrand:1:2rrx-insn-1"}) {
    CAPTURE(bad);
    CHECK(!InsnSiteCache::decode(bad));
  }
}

TEST_CASE("kernel_fact_cache: per boot, release and build, only 0 or 1", "[line_cache]") {
  TempDir dir("kernel-facts");
  fs::path file = dir.path / "kernel-probes";
  {
    KernelFactCache c(file, "boot-a 6.1.0 1:2:3:4");
    CHECK(!c.lookup("skip-sysemu"));
    c.add("skip-sysemu", true);
    c.add("skip-set-info-exit", false);
  }
  KernelFactCache same(file, "boot-a 6.1.0 1:2:3:4");
  CHECK(same.lookup("skip-sysemu") == std::optional<bool>(true));
  CHECK(same.lookup("skip-set-info-exit") == std::optional<bool>(false));
  CHECK(!same.lookup("skip-regs"));
  CHECK(!KernelFactCache(file, "boot-b 6.1.0 1:2:3:4").lookup("skip-sysemu"));  // rebooted
  CHECK(!KernelFactCache(file, "boot-a 6.2.0 1:2:3:4").lookup("skip-sysemu"));  // (kexec)
  CHECK(!KernelFactCache(file, "boot-a 6.1.0 1:2:3:5").lookup("skip-sysemu"));  // rrx rebuilt
  KernelFactCache unknown(file, "");  // no boot id: nothing shared
  CHECK(!unknown.lookup("skip-sysemu"));
  unknown.add("skip-regs", true);
  CHECK(unknown.lookup("skip-regs") == std::optional<bool>(true));
  std::ofstream(file, std::ios::app) << "rrx-probe-1 boot-a 6.1.0 1:2:3:4 skip-regs yes\n";
  CHECK(!KernelFactCache(file, "boot-a 6.1.0 1:2:3:4").lookup("skip-regs"));
  // This machine's key: three fields.
  std::string key = rrx::this_boot_key();
  CHECK(std::count(key.begin(), key.end(), ' ') == 2);
}

TEST_CASE("kernel_probe: cpuid_faulting_supported leaves rrx's own cpuid alone", "[line_cache]") {
  (void)rrx::cpuid_faulting_supported();
  // ARCH_GET_CPUID: 1 when cpuid does not fault in this thread.
  CHECK(::syscall(SYS_arch_prctl, 0x1011, 0) == 1);
}

TEST_CASE("line_cache: a line a killed writer cut short does not swallow the next one", "[line_cache]") {
  TempDir dir("line-cache-cut");
  fs::path file = dir.path / "facts";
  LineCache(file, "rrx-test-1", 2).add("a b", "whole");
  std::ofstream(file, std::ios::app) << "\nrrx-test-1 c d cut sho";  // the writer died there
  // A line without its check word, or whose check word is of other bytes.
  std::ofstream(file, std::ios::app) << "\nrrx-test-1 g h unchecked\nrrx-test-1 i j forged #00000000\n";
  {
    LineCache c(file, "rrx-test-1", 2);
    c.add("e f", "after");
  }
  LineCache other(file, "rrx-test-1", 2);
  CHECK(other.lookup("a b") == std::optional<std::string>("whole"));
  CHECK(!other.lookup("c d"));
  CHECK(other.lookup("e f") == std::optional<std::string>("after"));
  CHECK(!other.lookup("g h"));
  CHECK(!other.lookup("i j"));
}
