// trace_format/verified_hashes: the replay's check of stored copies,
// remembered across replays by (device, inode, size, mtime, ctime): an
// unchanged file is not read again, a changed one always is (also when its
// size and mtime are put back), a damaged cache file is ignored, a cache that
// cannot be written is only this process's.
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/unique_fd.h"
#include "trace_format/hash_cache.h"
#include "trace_format/later_vouches.h"
#include "trace_format/trace_dir.h"
#include "trace_format/verified_hashes.h"

namespace fs = std::filesystem;
using rrx::trace::content_hash_of_file;
using rrx::trace::FileHashKind;
using rrx::trace::VerifiedHashes;

namespace {

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("rrx-verified-test-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

struct timespec now() {
  struct timespec t {};
  ::clock_gettime(CLOCK_REALTIME, &t);
  return t;
}

// Where timestamps are coarse, a file changed just now cannot be remembered
// yet (ctime_settled): wait until it can.
void wait_settled(const fs::path& file) {
  rrx::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(fd.get() >= 0);
  for (int i = 0; i < 100; ++i) {
    struct stat st {};
    struct timespec before = now();
    REQUIRE(::fstat(fd.get(), &st) == 0);
    if (rrx::trace::ctime_settled(fd.get(), st, before)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("the ctime of " << file << " never settled");
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

}  // namespace

TEST_CASE("verified_hashes: an unchanged file comes from the cache, also in another process", "[verified_hashes]") {
  TempDir dir("same");
  fs::path file = dir.path / "libc.so";
  write_file(file, std::string(10000, 'x') + "tail");
  wait_settled(file);
  const std::string expected = content_hash_of_file(file, FileHashKind::Pages);
  fs::path cache_file = dir.path / "verified-hashes";
  {
    VerifiedHashes v(cache_file);
    CHECK(v.hash_of(file, FileHashKind::Pages) == expected);
    CHECK(!v.last_from_cache());
    CHECK(v.hash_of(file, FileHashKind::Pages) == expected);
    CHECK(v.last_from_cache());
    // Another kind of hash is another entry.
    CHECK(v.hash_of(file, FileHashKind::Stream) == content_hash_of_file(file, FileHashKind::Stream));
    CHECK(!v.last_from_cache());
  }
  VerifiedHashes later(cache_file);  // the next replay
  CHECK(later.hash_of(file, FileHashKind::Pages) == expected);
  CHECK(later.last_from_cache());
  // A hard link is the same inode: the same entry (until the link changes its ctime).
  fs::path link = dir.path / "link.so";
  fs::create_hard_link(file, link);
  CHECK(later.hash_of(link, FileHashKind::Pages) == expected);
  CHECK(!later.last_from_cache());
}

TEST_CASE("verified_hashes: a changed file is hashed again", "[verified_hashes]") {
  TempDir dir("changed");
  fs::path file = dir.path / "prog";
  fs::path cache_file = dir.path / "verified-hashes";
  write_file(file, std::string(8192, 'a'));
  wait_settled(file);
  VerifiedHashes v(cache_file);
  const std::string original = v.hash_of(file, FileHashKind::Pages);
  REQUIRE(v.hash_of(file, FileHashKind::Pages) == original);
  REQUIRE(v.last_from_cache());

  SECTION("written in place, same size, mtime set back: the ctime tells") {
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    {
      rrx::UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
      REQUIRE(fd.get() >= 0);
      REQUIRE(::pwrite(fd.get(), "b", 1, 100) == 1);
    }
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    REQUIRE(::utimensat(AT_FDCWD, file.c_str(), times, 0) == 0);
    struct stat again {};
    REQUIRE(::stat(file.c_str(), &again) == 0);
    REQUIRE(again.st_size == st.st_size);
    REQUIRE(again.st_mtim.tv_nsec == st.st_mtim.tv_nsec);
    REQUIRE(again.st_mtim.tv_sec == st.st_mtim.tv_sec);
    const std::string now_hash = v.hash_of(file, FileHashKind::Pages);
    CHECK(!v.last_from_cache());
    CHECK(now_hash != original);
    CHECK(now_hash == content_hash_of_file(file, FileHashKind::Pages));
    // Another process reading the cache file sees no entry that lies either.
    VerifiedHashes other(cache_file);
    CHECK(other.hash_of(file, FileHashKind::Pages) == now_hash);
  }
  SECTION("truncated") {
    fs::resize_file(file, 4096);
    CHECK(v.hash_of(file, FileHashKind::Pages) != original);
    CHECK(!v.last_from_cache());
  }
  SECTION("replaced by another file under the same name") {
    fs::path next = dir.path / "prog.new";
    write_file(next, std::string(8192, 'c'));
    fs::rename(next, file);
    CHECK(v.hash_of(file, FileHashKind::Pages) == content_hash_of_file(file, FileHashKind::Pages));
    CHECK(!v.last_from_cache());
  }
}

TEST_CASE("verified_hashes: a damaged cache file is ignored, an unwritable one only costs the cache",
          "[verified_hashes]") {
  TempDir dir("damaged");
  fs::path file = dir.path / "lib.so";
  write_file(file, "content of the library");
  wait_settled(file);
  const std::string expected = content_hash_of_file(file, FileHashKind::Pages);
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);

  SECTION("garbage, a wrong hash, cut-off lines and the recorder's lines") {
    fs::path cache_file = dir.path / "verified-hashes";
    {
      std::ofstream out(cache_file);
      out << "garbage\n\x01\x02\n"
          << "rrx-pages-1 " << st.st_dev << " " << st.st_ino << " " << st.st_size << " 1 2 nothex\n"
          // The recorder's format (no ctime), with a wrong hash: not this cache's.
          << "rrx-pages-1 " << st.st_dev << " " << st.st_ino << " " << st.st_size << " "
          << (int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec) << " 0123456789abcdef\n"
          << "rrx-hash-1 " << st.st_dev << " " << st.st_ino << " " << st.st_size << " "
          << (int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec) << " 0123456789abcdef\n"
          << "rrx-pages-1 1 2";
    }
    VerifiedHashes v(cache_file);
    CHECK(v.hash_of(file, FileHashKind::Pages) == expected);
    CHECK(!v.last_from_cache());
    VerifiedHashes again(cache_file);
    CHECK(again.hash_of(file, FileHashKind::Pages) == expected);
    CHECK(again.last_from_cache());
  }
  SECTION("a cache file over the size limit is started again") {
    fs::path cache_file = dir.path / "verified-hashes";
    {
      std::ofstream out(cache_file);
      std::string filler(VerifiedHashes::kMaxBytes + 1, '#');
      out << filler << "\n";
    }
    VerifiedHashes v(cache_file);
    CHECK(v.hash_of(file, FileHashKind::Pages) == expected);
    CHECK(fs::file_size(cache_file) < 1000);
  }
  SECTION("in a directory that does not exist") {
    VerifiedHashes v(dir.path / "no-such-dir" / "verified-hashes");
    CHECK(v.hash_of(file, FileHashKind::Pages) == expected);
    CHECK(v.hash_of(file, FileHashKind::Pages) == expected);
    CHECK(v.last_from_cache());  // this process's memory
    CHECK(!fs::exists(dir.path / "no-such-dir"));
  }
  SECTION("nowhere at all") {
    VerifiedHashes v{fs::path()};
    CHECK(v.hash_of(file, FileHashKind::Pages) == expected);
  }
  SECTION("a file that cannot be read is an error, as without the cache") {
    VerifiedHashes v(dir.path / "verified-hashes");
    CHECK_THROWS(v.hash_of(dir.path / "missing", FileHashKind::Pages));
  }
}

TEST_CASE("verified_hashes: the recorder vouches for a copy it made", "[verified_hashes]") {
  TempDir dir("vouch");
  fs::path file = dir.path / "copy";
  write_file(file, "the copy's bytes");
  const std::string hash = content_hash_of_file(file, FileHashKind::Pages);
  fs::path cache_file = dir.path / "verified-hashes";
  rrx::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(fd.get() >= 0);
  struct stat st {};
  REQUIRE(::fstat(fd.get(), &st) == 0);
  {
    VerifiedHashes v(cache_file);
    struct stat other = st;
    other.st_mtim.tv_sec -= 1;  // not the file it made
    v.vouch(fd.get(), FileHashKind::Pages, hash, &other);
    CHECK(!v.lookup(st, FileHashKind::Pages));
    v.vouch(fd.get(), FileHashKind::Pages, hash, &st);
    // Only where a change made after now must change the ctime.
    struct timespec t = now();
    if (rrx::trace::ctime_settled(fd.get(), st, t)) CHECK(v.lookup(st, FileHashKind::Pages) == hash);
  }
  wait_settled(file);
  VerifiedHashes v(cache_file);
  v.vouch(fd.get(), FileHashKind::Pages, hash);
  CHECK(v.lookup(st, FileHashKind::Pages) == hash);
  CHECK(!v.lookup(st, FileHashKind::Stream));
  CHECK(v.hash_of(file, FileHashKind::Pages) == hash);
  CHECK(v.last_from_cache());
}

TEST_CASE("verified_hashes: coarse timestamps settle only after their granularity", "[verified_hashes]") {
  // /proc has no multigrain timestamps: the margins apply.
  rrx::UniqueFd fd(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC));
  REQUIRE(fd.get() >= 0);
  REQUIRE(!rrx::trace::multigrain_ctime(fd.get()));
  struct timespec t = now();
  struct stat st {};
  st.st_ctim = t;
  st.st_ctim.tv_nsec = 123456789;
  st.st_ctim.tv_sec = t.tv_sec - 10;
  CHECK(rrx::trace::ctime_settled(fd.get(), st, t));
  st.st_ctim = t;
  if (st.st_ctim.tv_nsec % 10000000 == 0) st.st_ctim.tv_nsec += 1;
  CHECK(!rrx::trace::ctime_settled(fd.get(), st, t));  // just now
  st.st_ctim.tv_sec = t.tv_sec + 5;
  CHECK(!rrx::trace::ctime_settled(fd.get(), st, t));  // in the future
  // Whole seconds: a file system with coarser times waits seconds.
  st.st_ctim.tv_sec = t.tv_sec - 1;
  st.st_ctim.tv_nsec = 0;
  CHECK(!rrx::trace::ctime_settled(fd.get(), st, t));
  st.st_ctim.tv_sec = t.tv_sec - 4;
  CHECK(rrx::trace::ctime_settled(fd.get(), st, t));
}

TEST_CASE("verified_hashes: a link's hash taken from the record-side cache is checked beside the recording",
          "[verified_hashes]") {
  // LaterVouches (FileStore's, for hard links whose hash came from the
  // record-side cache): vouched for at the end only where the content has
  // the hash said and the file is as it was when hashed.
  TempDir dir("later");
  const std::string big(rrx::trace::LaterVouches::kMinBytes + 4096, 'x');
  fs::path good = dir.path / "good", wrong = dir.path / "wrong";
  write_file(good, big);
  write_file(wrong, big + "y");
  const std::string hash = content_hash_of_file(good, FileHashKind::Pages);
  rrx::UniqueFd g(::open(good.c_str(), O_RDONLY | O_CLOEXEC)), w(::open(wrong.c_str(), O_RDWR | O_CLOEXEC));
  REQUIRE((g.get() >= 0 && w.get() >= 0));
  wait_settled(good);
  wait_settled(wrong);
  VerifiedHashes v(dir.path / "verified-hashes");
  {
    rrx::trace::LaterVouches later(&v);
    later.add(g.get(), hash);
    later.add(w.get(), hash);  // not its content's hash
    CHECK(later.finish(true) == 1);
  }
  struct stat st {};
  REQUIRE(::fstat(g.get(), &st) == 0);
  CHECK(v.lookup(st, FileHashKind::Pages) == hash);
  REQUIRE(::fstat(w.get(), &st) == 0);
  CHECK(!v.lookup(st, FileHashKind::Pages));

  // Without drain, what is not hashed by then is given up; nothing is
  // vouched for that does not hold (wrong's content is still not `hash`).
  {
    rrx::trace::LaterVouches later(&v);
    later.add(w.get(), hash);
    later.add(g.get(), hash);
    CHECK(later.finish() <= 1);
  }
  REQUIRE(::fstat(w.get(), &st) == 0);
  CHECK(!v.lookup(st, FileHashKind::Pages));
}
