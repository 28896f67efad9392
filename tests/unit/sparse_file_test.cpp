// Unit tests of sparse files in the trace's file store: data extents, the
// hole-keeping copy, the Pages content hash (holes and written zeros alike,
// cheap for huge sparse files), ranges of big files and the free-space check.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/hash.h"
#include "trace_format/sparse_file.h"
#include "trace_format/trace_dir.h"
#include "trace_test_util.h"

namespace fs = std::filesystem;
using namespace rrx::trace;
using namespace rrx::trace::test;

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kGiB = uint64_t{1} << 30;

std::vector<unsigned char> page_of(uint64_t off) {
  std::vector<unsigned char> p(kPage);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<unsigned char>((off >> 12) * 13 + i * 5 + 1);
  return p;
}

// A file of `size` bytes with a pattern page at each offset (cut at `size`), holes elsewhere.
void make_sparse(const fs::path& path, uint64_t size, const std::vector<uint64_t>& offsets) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, static_cast<off_t>(size)) == 0);
  for (uint64_t off : offsets) {
    auto p = page_of(off);
    REQUIRE(::pwrite(fd, p.data(), p.size(), static_cast<off_t>(off)) == static_cast<ssize_t>(p.size()));
  }
  REQUIRE(::ftruncate(fd, static_cast<off_t>(size)) == 0);  // a last page cut short
  ::close(fd);
}

uint64_t allocated(const fs::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

std::vector<unsigned char> read_at(const fs::path& path, uint64_t off, size_t n) {
  std::vector<unsigned char> v(n);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  ssize_t got = ::pread(fd, v.data(), n, static_cast<off_t>(off));
  ::close(fd);
  REQUIRE(got == static_cast<ssize_t>(n));
  return v;
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
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

bool temporaries_left(const fs::path& files) {
  for (const auto& e : fs::recursive_directory_iterator(files))
    if (e.path().extension() == ".rrxtmp") return true;
  return false;
}

}  // namespace

TEST_CASE("sparse_file: the Pages hash counts pages of zeros as nothing, wherever they come from") {
  TempDir tmp;
  // The same content three ways: holes, written zeros, and bytes fed in pieces.
  const uint64_t size = 64 * kPage + 100;  // ends in a partial page
  make_sparse(tmp / "holes", size, {0, 7 * kPage, 64 * kPage});
  std::vector<unsigned char> dense(size, 0);
  for (uint64_t off : {uint64_t{0}, 7 * kPage, 64 * kPage}) {
    auto p = page_of(off);
    std::copy(p.begin(), p.begin() + std::min<uint64_t>(kPage, size - off), dense.begin() + off);
  }
  write_file(tmp / "dense", dense);
  std::string h_holes = content_hash_of_file(tmp / "holes");
  CHECK(h_holes == content_hash_of_file(tmp / "dense"));
  PageHasher pieces(size);
  for (size_t i = 0; i < size; i += 1000) pieces.add(i, dense.data() + i, std::min<size_t>(1000, size - i));
  CHECK(pieces.hex() == h_holes);

  // Other content, other position, other size: other hashes.
  make_sparse(tmp / "moved", size, {0, 8 * kPage, 64 * kPage});
  CHECK(content_hash_of_file(tmp / "moved") != h_holes);
  make_sparse(tmp / "longer", size + kPage, {0, 7 * kPage, 64 * kPage});
  CHECK(content_hash_of_file(tmp / "longer") != h_holes);
  make_sparse(tmp / "zeros1", 3 * kPage, {});
  make_sparse(tmp / "zeros2", 4 * kPage, {});
  CHECK(content_hash_of_file(tmp / "zeros1") != content_hash_of_file(tmp / "zeros2"));

  // Stream (older traces): ContentHasher over every byte, as before.
  rrx::ContentHasher stream;
  stream.update(dense.data(), dense.size());
  CHECK(content_hash_of_file(tmp / "holes", FileHashKind::Stream) == stream.hex());
  CHECK(content_hash_of_file(tmp / "dense", FileHashKind::Stream) == stream.hex());
}

TEST_CASE("sparse_file: extents, copy and hash of a 50 GiB sparse file read only its data") {
  TempDir tmp;
  const uint64_t size = 50 * kGiB;
  const std::vector<uint64_t> offsets = {0, 123 * kPage, kGiB + 5 * kPage, 25 * kGiB, size - kPage};
  make_sparse(tmp / "big", size, offsets);

  int in = ::open((tmp / "big").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(in >= 0);
  auto extents = data_extents(in, 0, size, "big");
  uint64_t data = data_bytes(in, 0, size, "big");
  CHECK(data >= offsets.size() * kPage);
  CHECK(data < 64 * 1024 * 1024);  // extents, not the apparent size (allows file systems with big blocks)
  for (uint64_t off : offsets) {
    bool covered = false;
    for (const Extent& e : extents) covered |= e.offset <= off && off + kPage <= e.offset + e.length;
    CHECK(covered);
  }

  auto t0 = std::chrono::steady_clock::now();
  int out = ::open((tmp / "copy").c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  REQUIRE(out >= 0);
  std::string copied_hash = sparse_copy(in, 0, size, out, "big", "copy");
  ::close(out);
  std::string hash = content_hash_of_file(tmp / "big");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(in);
  CHECK(secs < 5.0);  // reading 50 GiB of zeros would take far longer
  CHECK(copied_hash == hash);
  CHECK(content_hash_of_file(tmp / "copy") == hash);
  CHECK(fs::file_size(tmp / "copy") == size);
  CHECK(allocated(tmp / "copy") < 64 * 1024 * 1024);
  for (uint64_t off : offsets) CHECK(read_at(tmp / "copy", off, kPage) == page_of(off));
  CHECK(read_at(tmp / "copy", 2 * kGiB, kPage) == std::vector<unsigned char>(kPage, 0));

  // Ranges: [begin, end) of the file, at position 0 of the copy.
  int in2 = ::open((tmp / "big").c_str(), O_RDONLY | O_CLOEXEC);
  int out2 = ::open((tmp / "range").c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  REQUIRE(in2 >= 0);
  REQUIRE(out2 >= 0);
  std::string range_hash = sparse_copy(in2, kGiB, kGiB + 16 * kPage, out2, "big", "range");
  CHECK(range_hash == content_hash_of_range(in2, kGiB, kGiB + 16 * kPage, FileHashKind::Pages, "big"));
  ::close(in2);
  ::close(out2);
  CHECK(fs::file_size(tmp / "range") == 16 * kPage);
  CHECK(read_at(tmp / "range", 5 * kPage, kPage) == page_of(kGiB + 5 * kPage));
  CHECK(content_hash_of_file(tmp / "range") == range_hash);
}

TEST_CASE("sparse_file: a page of written zeros inside data stays a hole in the copy") {
  TempDir tmp;
  std::vector<unsigned char> bytes(16 * kPage, 0);
  auto p = page_of(0);
  std::copy(p.begin(), p.end(), bytes.begin());
  p = page_of(15 * kPage);
  std::copy(p.begin(), p.end(), bytes.begin() + 15 * kPage);
  bytes[9 * kPage + 17] = 1;  // a page with one byte set
  write_file(tmp / "dense", bytes);
  int in = ::open((tmp / "dense").c_str(), O_RDONLY | O_CLOEXEC);
  int out = ::open((tmp / "copy").c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  REQUIRE(in >= 0);
  REQUIRE(out >= 0);
  sparse_copy(in, 0, bytes.size(), out, "dense", "copy");
  ::close(in);
  ::close(out);
  CHECK(read_file(tmp / "copy") == bytes);
  CHECK(allocated(tmp / "copy") <= 3 * kPage + 4096);  // 3 pages of data (block rounding aside)

  // for_each_nonzero_run: the runs, on page boundaries of their positions.
  std::vector<std::pair<uint64_t, size_t>> runs;
  for_each_nonzero_run(1000, bytes.data(), bytes.size(),
                       [&](uint64_t pos, const unsigned char*, size_t n) { runs.emplace_back(pos, n); });
  REQUIRE(!runs.empty());
  CHECK(runs.front().first == 1000);
  for (auto& r : runs) CHECK(!all_zero(bytes.data() + (r.first - 1000), r.second));
}

TEST_CASE("sparse_file: FileStore keeps holes, stores big files by mapped range, and checks free space") {
  TempDir tmp;
  fs::path trace = tmp / "trace";
  create_trace_dir_at(trace);
  const uint64_t size = 8 * kGiB;
  make_sparse(tmp / "sparse.bin", size, {kPage, 3 * kGiB, size - kPage});

  SECTION("a sparse file is stored whole, sparse, and verifies") {
    FileStore store(trace);
    auto s = store.store(tmp / "sparse.bin", (tmp / "sparse.bin").string());
    CHECK(!s.range_only);
    CHECK(s.size == size);
    CHECK(s.file_size == size);
    CHECK(allocated(s.path) < 64 * 1024 * 1024);
    CHECK(s.hash == content_hash_of_file(tmp / "sparse.bin"));
    CHECK(verified_stored_file(trace, s.hash) == s.path);
    CHECK(read_at(s.path, 3 * kGiB, kPage) == page_of(3 * kGiB));
    // Its data is under the limit: a mapping of part of it still gets the whole file.
    auto m = store.store_mapped(tmp / "sparse.bin", "sparse.bin", kGiB, kPage);
    CHECK(m.path == s.path);
    CHECK(!m.range_only);
  }

  SECTION("above --max-file-data only the mapped range is stored") {
    FileStore store(trace, 2 * kPage);  // the file holds 3 pages of data
    auto m = store.store_mapped(tmp / "sparse.bin", "sparse.bin", 3 * kGiB, 2 * kPage - 100);
    CHECK(m.range_only);
    CHECK(m.range_offset == 3 * kGiB);
    CHECK(m.size == 2 * kPage);  // page-aligned
    CHECK(m.file_size == size);
    CHECK(fs::file_size(m.path) == 2 * kPage);
    CHECK(read_at(m.path, 0, kPage) == page_of(3 * kGiB));
    CHECK(verified_stored_file(trace, m.hash) == m.path);
    // Cut at the end of the file.
    auto tail = store.store_mapped(tmp / "sparse.bin", "sparse.bin", size - kPage, 16 * kPage);
    CHECK(tail.range_offset == size - kPage);
    CHECK(tail.size == kPage);
    CHECK(read_at(tail.path, 0, kPage) == page_of(size - kPage));
    // The same range again: the same copy.
    CHECK(store.store_mapped(tmp / "sparse.bin", "sparse.bin", 3 * kGiB, 2 * kPage).path == m.path);
  }

  SECTION("a copy that does not fit the free space fails cleanly") {
    std::vector<unsigned char> data(2 << 20, 7);
    write_file(tmp / "two-mib.bin", data);
    ScopedEnv env("RRX_TEST_FREE_SPACE", std::to_string(FileStore::kFreeSpaceMargin + (1 << 20)));
    FileStore store(trace);
    try {
      store.store(tmp / "two-mib.bin", "/data/two-mib.bin");
      FAIL("stored a copy that does not fit");
    } catch (const NoSpaceError& e) {
      std::string what = e.what();
      CHECK(what.find("/data/two-mib.bin") != std::string::npos);
      CHECK(what.find("2.0 MiB") != std::string::npos);
      CHECK(what.find("not enough free space") != std::string::npos);
    }
    CHECK(!temporaries_left(trace / "files"));
    // The sparse file's data fits, whatever its apparent size.
    auto s = store.store(tmp / "sparse.bin", "sparse.bin");
    CHECK(s.size == size);
  }
}
