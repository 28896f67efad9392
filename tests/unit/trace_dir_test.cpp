// Unit tests of the trace directory layout: NAME-N numbering, latest-trace,
// resolve_trace, and the content-addressed file store.
#include <catch2/catch.hpp>
#include <capnp/message.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "core/error.h"
#include "core/hash.h"
#include "trace_format/format.h"
#include "trace_format/trace_dir.h"
#include "trace_format/trace_reader.h"
#include "trace_format/trace_writer.h"
#include "trace_test_util.h"

namespace fs = std::filesystem;
using namespace rrx::trace;
using namespace rrx::trace::test;
namespace schema = rrx::schema;

namespace {

// Sets an environment variable for the scope of a test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value->c_str(), 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

void write_text(const fs::path& p, const std::string& s) {
  write_file(p, reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

std::string read_text(const fs::path& p) {
  auto v = read_file(p);
  return std::string(v.begin(), v.end());
}

void make_trace(const fs::path& dir) {
  capnp::MallocMessageBuilder hb;
  fill_header(hb.initRoot<schema::Header>());
  TraceWriter w(dir, hb);
  w.close(0, "exited");
}

// The name FileStore gives content s (FileHashKind::Pages).
std::string hash_of(const std::string& s) {
  PageHasher h(s.size());
  h.add(0, reinterpret_cast<const unsigned char*>(s.data()), s.size());
  return h.hex();
}

}  // namespace

TEST_CASE("trace_format: traces_root") {
  TempDir tmp;
  SECTION("RRX_TRACE_DIR") {
    ScopedEnv env("RRX_TRACE_DIR", (tmp / "a" / "b").string());
    CHECK(traces_root() == tmp / "a" / "b");
    CHECK(fs::is_directory(tmp / "a" / "b"));
  }
  SECTION("HOME") {
    ScopedEnv env("RRX_TRACE_DIR", std::nullopt);
    ScopedEnv home("HOME", tmp.path().string());
    CHECK(traces_root() == tmp / ".local" / "share" / "rrx");
    CHECK(fs::is_directory(tmp / ".local" / "share" / "rrx"));
  }
}

TEST_CASE("trace_format: create_trace_dir numbers NAME-N and updates latest-trace") {
  TempDir tmp;
  fs::path root = tmp / "root";
  fs::path a = create_trace_dir(root, "prog");
  CHECK(a == root / "prog-0");
  CHECK(fs::is_directory(a / "files"));
  CHECK(fs::is_symlink(root / "latest-trace"));
  CHECK(fs::read_symlink(root / "latest-trace") == "prog-0");

  fs::path b = create_trace_dir(root, "prog");
  fs::path c = create_trace_dir(root, "prog");
  CHECK(b == root / "prog-1");
  CHECK(c == root / "prog-2");
  CHECK(fs::read_symlink(root / "latest-trace") == "prog-2");

  fs::path other = create_trace_dir(root, "other");
  CHECK(other == root / "other-0");
  CHECK(fs::read_symlink(root / "latest-trace") == "other-0");

  // The first free number is reused.
  fs::remove_all(b);
  CHECK(create_trace_dir(root, "prog") == root / "prog-1");
  CHECK(create_trace_dir(root, "prog") == root / "prog-3");
  CHECK(fs::read_symlink(root / "latest-trace") == "prog-3");

  // No temporary links are left behind.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(root)) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 5 + 1);  // prog-0..3, other-0, latest-trace

  CHECK_THROWS_AS(create_trace_dir(root, ""), rrx::Error);
  CHECK_THROWS_AS(create_trace_dir(root, "a/b"), rrx::Error);
}

TEST_CASE("trace_format: concurrent create_trace_dir gets distinct directories") {
  TempDir tmp;
  fs::path root = tmp / "root";
  std::vector<fs::path> got(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i)
    threads.emplace_back([&, i] { got[i] = create_trace_dir(root, "p"); });
  for (auto& t : threads) t.join();
  std::sort(got.begin(), got.end());
  CHECK(std::unique(got.begin(), got.end()) == got.end());
  CHECK(fs::exists(root / "p-7"));
  CHECK(fs::is_directory(root / "latest-trace"));
}

TEST_CASE("trace_format: create_trace_dir_at") {
  TempDir tmp;
  fs::path d = tmp / "x" / "y" / "trace";
  CHECK(create_trace_dir_at(d) == d);
  CHECK(fs::is_directory(d / "files"));

  fs::create_directory(tmp / "empty");
  CHECK(create_trace_dir_at(tmp / "empty") == tmp / "empty");
  CHECK(fs::is_directory(tmp / "empty" / "files"));

  // Not empty now.
  CHECK_THROWS_AS(create_trace_dir_at(d), rrx::Error);
  fs::create_directory(tmp / "full");
  write_text(tmp / "full" / "f", "x");
  CHECK_THROWS_WITH(create_trace_dir_at(tmp / "full"), Catch::Contains("not empty"));
  CHECK_THROWS_AS(create_trace_dir_at(tmp / "full" / "f"), rrx::Error);
}

TEST_CASE("trace_format: resolve_trace") {
  TempDir tmp;
  fs::path root = tmp / "root";
  ScopedEnv env("RRX_TRACE_DIR", root.string());

  CHECK_THROWS_WITH(resolve_trace(""), Catch::Contains("no traces in " + root.string()) &&
                                           Catch::Contains("rrx record PROG"));

  fs::path t0 = create_trace_dir(root, "hello");
  make_trace(t0);
  fs::path t1 = create_trace_dir(root, "hello");
  make_trace(t1);

  // Always absolute (the replayed program runs in the recorded cwd).
  CHECK(resolve_trace("") == fs::canonical(t1));
  CHECK(resolve_trace("hello-0") == fs::canonical(root / "hello-0"));
  CHECK(resolve_trace(t0.string()) == fs::canonical(t0));
  CHECK(resolve_trace((t0 / "trace").string()) == fs::canonical(t0));
  CHECK_THROWS_WITH(resolve_trace("nope-3"), Catch::Contains("no trace named 'nope-3'") &&
                                                 Catch::Contains(root.string()));
  CHECK_THROWS_AS(resolve_trace((tmp / "nowhere" / "x").string()), rrx::Error);
  // A directory that is not a trace.
  CHECK_THROWS_WITH(resolve_trace(tmp.path().string()), Catch::Contains("not an rrx trace directory"));

  // Relative paths from the current directory come back absolute.
  fs::path cwd = fs::current_path();
  fs::create_directory(tmp / "elsewhere");
  fs::current_path(root);
  CHECK(resolve_trace("./hello-1") == fs::canonical(t1));
  CHECK(resolve_trace("hello-1/trace") == fs::canonical(t1));
  CHECK(resolve_trace("hello-1/") == fs::canonical(t1));
  fs::current_path(tmp / "elsewhere");
  CHECK(resolve_trace("../root/hello-0") == fs::canonical(t0));
  CHECK(resolve_trace("../root/hello-0/trace") == fs::canonical(t0));
  {
    // A relative RRX_TRACE_DIR: NAME-N under it, absolute too.
    ScopedEnv rel("RRX_TRACE_DIR", "../root");
    CHECK(resolve_trace("hello-0") == fs::canonical(t0));
    CHECK(resolve_trace("") == fs::canonical(t1));
  }
  fs::current_path(cwd);

  // latest-trace pointing at a deleted trace.
  fs::remove_all(t1);
  CHECK_THROWS_WITH(resolve_trace(""), Catch::Contains("not a trace any more"));
}

TEST_CASE("trace_format: FileStore dedups and keeps the content at store time") {
  TempDir tmp;
  fs::path trace = tmp / "trace";
  create_trace_dir_at(trace);
  FileStore store(trace);

  write_text(tmp / "a.txt", "same content\n");
  write_text(tmp / "b.txt", "same content\n");
  write_text(tmp / "c.txt", "different content\n");

  auto a = store.store(tmp / "a.txt", (tmp / "a.txt").string());
  auto b = store.store(tmp / "b.txt", (tmp / "b.txt").string());
  auto c = store.store(tmp / "c.txt", (tmp / "c.txt").string());
  CHECK(a.hash == hash_of("same content\n"));
  CHECK(a.hash.size() == 16);
  CHECK(a.size == 13);
  CHECK(a.hash == b.hash);
  CHECK(a.path == b.path);
  CHECK(a.path == trace / "files" / a.hash / "a.txt");
  CHECK(c.hash != a.hash);
  CHECK(c.path == trace / "files" / c.hash / "c.txt");
  CHECK(read_text(a.path) == "same content\n");
  CHECK(read_text(c.path) == "different content\n");

  // One directory per distinct content; no temporaries left.
  int dirs = 0;
  for (const auto& e : fs::directory_iterator(trace / "files")) {
    CHECK(e.is_directory());
    ++dirs;
  }
  CHECK(dirs == 2);

  // Cached: storing again gives the same answer.
  auto a2 = store.store(tmp / "a.txt", "a.txt");
  CHECK(a2.hash == a.hash);
  CHECK(a2.path == a.path);

  // Rewriting the original does not change the copy; storing it again gives a new hash.
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  write_text(tmp / "a.txt", "rewritten content, longer\n");
  CHECK(read_text(a.path) == "same content\n");
  auto a3 = store.store(tmp / "a.txt", (tmp / "a.txt").string());
  CHECK(a3.hash == hash_of("rewritten content, longer\n"));
  CHECK(read_text(a3.path) == "rewritten content, longer\n");
  CHECK(read_text(a.path) == "same content\n");

  // A copy is not a hard link of the original.
  struct stat s1 {}, s2 {};
  REQUIRE(::stat(c.path.c_str(), &s1) == 0);
  REQUIRE(::stat((tmp / "c.txt").c_str(), &s2) == 0);
  CHECK(s1.st_ino != s2.st_ino);

  // lookup / stored_file_path.
  CHECK(store.lookup(trace, a.hash) == a.path);
  CHECK(stored_file_path(trace, c.hash) == c.path);
  CHECK_THROWS_WITH(stored_file_path(trace, "0123456789abcdef"),
                    Catch::Contains("0123456789abcdef") && Catch::Contains(trace.string()));
  CHECK_THROWS_AS(stored_file_path(trace, "../../etc/passwd"), rrx::Error);

  // A new store instance (another recording session) reuses what is there.
  FileStore again(trace);
  auto b2 = again.store(tmp / "b.txt", "/some/where/b.txt");
  CHECK(b2.hash == a.hash);
  CHECK(b2.path == a.path);

  CHECK_THROWS_AS(store.store(tmp / "missing", "missing"), rrx::Error);
  CHECK_THROWS_AS(store.store(tmp.path(), "dir"), rrx::Error);
}

TEST_CASE("trace_format: FileStore stores from /proc/self/fd and empty and large files") {
  TempDir tmp;
  fs::path trace = tmp / "trace";
  create_trace_dir_at(trace);
  FileStore store(trace);

  std::string big(3 * 1024 * 1024 + 123, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 + (i >> 12));
  write_text(tmp / "big.bin", big);
  ::chmod((tmp / "big.bin").c_str(), 0755);
  int fd = ::open((tmp / "big.bin").c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  auto s = store.store("/proc/self/fd/" + std::to_string(fd), "/opt/app/bin/big.bin");
  ::close(fd);
  CHECK(s.hash == hash_of(big));
  CHECK(s.size == big.size());
  CHECK(s.path.filename() == "big.bin");
  CHECK(read_text(s.path) == big);
  struct stat st {};
  REQUIRE(::stat(s.path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0111) != 0);  // keeps the execute bits
  CHECK((st.st_mode & 0222) == 0);  // read-only copy

  write_text(tmp / "empty", "");
  auto e = store.store(tmp / "empty", "empty");
  CHECK(e.size == 0);
  CHECK(read_text(e.path).empty());

  write_text(tmp / ".hidden", "dot file");
  auto h = store.store(tmp / ".hidden", (tmp / ".hidden").string());
  CHECK(h.path.filename() == ".hidden");
  CHECK(stored_file_path(trace, h.hash) == h.path);
}

TEST_CASE("trace_format: FileStore package-managed files") {
  TempDir tmp;
  fs::path trace = tmp / "trace";
  create_trace_dir_at(trace);
  FileStore store(trace);
  // Any readable file under /usr or /lib will do.
  fs::path src;
  for (const char* p : {"/usr/bin/env", "/usr/bin/true", "/bin/sh", "/usr/lib/os-release"})
    if (::access(p, R_OK) == 0) {
      src = p;
      break;
    }
  if (src.empty()) return;
  auto s = store.store(src, src.string());
  auto orig = read_file(src);
  CHECK(read_file(s.path) == orig);
  CHECK(s.size == orig.size());
  CHECK(s.hash == hash_of(std::string(orig.begin(), orig.end())));
  CHECK(s.path.parent_path().filename() == s.hash);
  // Stored twice under different names: one copy.
  FileStore other(trace);
  auto s2 = other.store(src, "/lib/x86_64-linux-gnu/other-name");
  CHECK(s2.path == s.path);
}

TEST_CASE("trace_format: a trace is private (0700 directories, 0600 files) whatever the umask") {
  TempDir tmp;
  mode_t old = ::umask(0);
  auto mode_of = [](const fs::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
  };
  fs::path root = tmp / "root";
  fs::path named = create_trace_dir(root, "prog");
  CHECK(mode_of(named) == 0700);
  CHECK(mode_of(named / "files") == 0700);
  // -o DIR: created, or an empty one that existed.
  fs::path at = create_trace_dir_at(tmp / "a" / "b");
  CHECK(mode_of(at) == 0700);
  CHECK(mode_of(at / "files") == 0700);
  fs::create_directory(tmp / "existing");
  ::chmod((tmp / "existing").c_str(), 0777);
  create_trace_dir_at(tmp / "existing");
  CHECK(mode_of(tmp / "existing") == 0700);
  ::umask(0277);  // would make every new file read-only to its owner and directories unwritable
  fs::path strict = create_trace_dir(root, "prog");
  CHECK(mode_of(strict) == 0700);
  CHECK(mode_of(strict / "files") == 0700);
  ::umask(0);

  // The trace and its index.
  make_trace(at);
  CHECK(mode_of(at / "trace") == 0600);
  CHECK(mode_of(at / "trace.idx") == 0600);
  // An index rebuilt by a reader.
  fs::remove(at / "trace.idx");
  { TraceReader r(at); }
  CHECK(mode_of(at / "trace.idx") == 0600);

  // Copies: read-only to the owner (executable if the original was).
  FileStore store(at);
  write_text(tmp / "data.txt", "secret contents");
  ::chmod((tmp / "data.txt").c_str(), 0666);
  write_text(tmp / "tool", "#!/bin/sh\n");
  ::chmod((tmp / "tool").c_str(), 0755);
  auto d = store.store(tmp / "data.txt", (tmp / "data.txt").string());
  auto t = store.store(tmp / "tool", (tmp / "tool").string());
  CHECK(mode_of(d.path) == 0400);
  CHECK(mode_of(t.path) == 0500);
  CHECK(mode_of(d.path.parent_path()) == 0700);
  CHECK(mode_of(t.path.parent_path()) == 0700);
  ::umask(old);
}
