// Unit tests of the trace writer's own thread (trace_format/chunk_sink.h):
// chunks in order whatever the queue, every rung of the level ladder (down to
// stored zstd frames) readable, and write errors reported at the next
// append, flush or close with the file ending at its last whole chunk.
#include <catch2/catch.hpp>
#include <capnp/message.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <random>

#include "core/error.h"
#include "trace_format/chunk_sink.h"
#include "trace_format/format.h"
#include "trace_format/trace_reader.h"
#include "trace_format/trace_writer.h"
#include "trace_test_util.h"

namespace fs = std::filesystem;
using namespace rrx::trace;
using namespace rrx::trace::test;
namespace schema = rrx::schema;

namespace {

constexpr int kStored = WriterStats::kRungs - 1;

WriterOptions opts(size_t chunk_bytes, size_t max_queued = 8, int first_rung = 0) {
  WriterOptions o;
  o.chunk_bytes = chunk_bytes;
  o.max_queued_chunks = max_queued;
  o.first_rung = first_rung;
  return o;
}

// Events [0, n); closes the trace when asked. Returns the writer's stats.
WriterStats write_events(const fs::path& dir, uint64_t n, const WriterOptions& o, bool close = true) {
  capnp::MallocMessageBuilder hb;
  fill_header(hb.initRoot<schema::Header>());
  TraceWriter w(dir, hb, o);
  for (uint64_t i = 0; i < n; ++i) {
    capnp::MallocMessageBuilder mb;
    fill_event(mb.initRoot<schema::Event>(), i);
    REQUIRE(w.append(mb) == i);
  }
  if (close) w.close(0, "exited");
  return w.stats();
}

uint64_t read_all_checked(TraceReader& r) {
  uint64_t n = 0;
  while (auto ev = r.next()) {
    REQUIRE(ev->number == n);
    REQUIRE(event_matches(ev->get(), n));
    ++n;
  }
  return n;
}

// The chunks of a trace file in file order: (first event, count, kind), and
// that they tile the file.
struct Chunk {
  uint64_t first;
  uint32_t count;
  uint8_t kind;
};
std::vector<Chunk> chunks_of(const std::vector<unsigned char>& f) {
  std::vector<Chunk> out;
  uint64_t off = kFileHeaderSize;
  while (off + kChunkHeaderSize <= f.size()) {
    uint32_t csize, count;
    uint64_t first;
    std::memcpy(&csize, &f[off + 8], 4);
    std::memcpy(&first, &f[off + 16], 8);
    std::memcpy(&count, &f[off + 24], 4);
    out.push_back({first, count, f[off + 4]});
    off += kChunkHeaderSize + csize;
  }
  REQUIRE(off == f.size());
  return out;
}

// Runs `body` in a child (which may limit its file size, see below);
// returns its exit code.
int in_child(const std::function<int()>& body) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    int code = 20;
    try {
      code = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
      code = 21;
    } catch (...) {
      code = 22;
    }
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

// From now on no file of the process may grow past `bytes` more than `file`
// has now (like a full disk: writes fail with EFBIG).
void limit_growth(const fs::path& file, uint64_t bytes) {
  rlim_t limit = fs::file_size(file) + bytes;
  struct rlimit rl{limit, limit};
  ::setrlimit(RLIMIT_FSIZE, &rl);
}

bool says_write_failed(const rrx::Error& e) {
  std::string what = e.what();
  return what.find("writing ") != std::string::npos && what.find("File too large") != std::string::npos;
}

// After a failed write: the trace is incomplete, ends with its last whole
// chunk, and every event in it reads.
void check_readable_prefix(const fs::path& dir) {
  CHECK(!fs::exists(dir / "trace.idx"));
  auto size = fs::file_size(dir / "trace");
  TraceReader r(dir);
  CHECK(!r.complete());
  CHECK(r.incomplete_reason().find("ends at offset " + std::to_string(size) + " of " + std::to_string(size)) !=
        std::string::npos);
  CHECK(read_all_checked(r) == r.event_count());
}

}  // namespace

TEST_CASE("trace_writer_thread: stored zstd frames decode with libzstd") {
  std::mt19937 rng(7);
  for (size_t n : {size_t{0}, size_t{1}, size_t{8}, size_t{131071}, size_t{131072}, size_t{131073},
                   size_t{262144 + 5}, size_t{1} << 20}) {
    INFO("bytes: " << n);
    std::vector<unsigned char> data(n);
    for (auto& b : data) b = static_cast<unsigned char>(rng());
    std::vector<unsigned char> frame(detail::stored_frame_bound(n));
    size_t size = detail::write_stored_frame(frame.data(), data.data(), n);
    REQUIRE(size <= frame.size());
    CHECK(ZSTD_getFrameContentSize(frame.data(), size) == n);
    CHECK(ZSTD_findFrameCompressedSize(frame.data(), size) == size);
    std::vector<unsigned char> back(n + 1);
    size_t got = ZSTD_decompress(back.data(), back.size(), frame.data(), size);
    REQUIRE(!ZSTD_isError(got));
    CHECK(got == n);
    back.resize(n);
    CHECK(back == data);
    // Cut anywhere, it is not a whole frame.
    for (size_t cut : {size_t{1}, size / 2, size - 1}) {
      if (cut == 0 || cut >= size) continue;
      CHECK(ZSTD_isError(ZSTD_findFrameCompressedSize(frame.data(), cut)));
    }
  }
}

TEST_CASE("trace_writer_thread: the level ladder") {
  CHECK(detail::rung_level(3, 0) == 3);
  CHECK(detail::rung_level(3, 1) == 1);
  CHECK(detail::rung_level(3, 2) < 0);
  CHECK(detail::rung_level(-7, 1) == -7);  // never slower than configured
}

TEST_CASE("trace_writer_thread: every rung of the ladder reads back") {
  uint64_t sizes[WriterStats::kRungs] = {};
  for (int rung = 0; rung < WriterStats::kRungs; ++rung) {
    INFO("first rung: " << rung);
    TempDir tmp;
    constexpr uint64_t kEvents = 4000;
    WriterStats st = write_events(tmp.path(), kEvents, opts(4096, 8, rung));
    uint64_t chunks = 0;
    for (int k = 0; k < rung; ++k) CHECK(st.chunks[k] == 0);
    for (int k = 0; k < WriterStats::kRungs; ++k) chunks += st.chunks[k];
    auto original_index = read_file(tmp / "trace.idx");
    CHECK(chunks == chunks_of(read_file(tmp / "trace")).size());
    sizes[rung] = fs::file_size(tmp / "trace");
    {
      TraceReader r(tmp.path());
      REQUIRE(r.complete());
      CHECK(r.event_count() == kEvents);
      CHECK_NOTHROW(r.verify_checksums());
      CHECK(read_all_checked(r) == kEvents);
      r.seek(kEvents / 3);
      auto ev = r.next();
      REQUIRE(ev);
      CHECK(event_matches(ev->get(), kEvents / 3));
    }
    // The index readers rebuild is the writer's, byte for byte.
    fs::remove(tmp / "trace.idx");
    { TraceReader r(tmp.path()); }
    CHECK(read_file(tmp / "trace.idx") == original_index);
  }
  CHECK(sizes[kStored] > sizes[0]);  // stored frames are not compressed
}

TEST_CASE("trace_writer_thread: a stored-frame trace cut anywhere reads its prefix") {
  TempDir tmp;
  write_events(tmp.path(), 300, opts(1024, 8, kStored));
  auto f = read_file(tmp / "trace");
  auto chunks = chunks_of(f);
  REQUIRE(chunks.size() > 10);
  for (size_t cut = kFileHeaderSize; cut < f.size(); cut += 37) {
    INFO("cut at " << cut);
    TempDir t;
    write_file(t / "trace", f.data(), cut);
    try {
      TraceReader r(t.path());
      CHECK(!r.complete());
      CHECK(read_all_checked(r) == r.event_count());
    } catch (const TraceError& e) {
      // Only a cut inside the header chunk is an error.
      CHECK(std::string(e.what()).find("header") != std::string::npos);
    }
  }
}

TEST_CASE("trace_writer_thread: chunks are written in order, whatever the queue") {
  for (size_t queued : {size_t{1}, size_t{2}, size_t{8}}) {
    for (int rung : {0, 2}) {
      INFO("queue " << queued << ", first rung " << rung);
      TempDir tmp;
      constexpr uint64_t kEvents = 20000;
      write_events(tmp.path(), kEvents, opts(512, queued, rung));
      auto chunks = chunks_of(read_file(tmp / "trace"));
      REQUIRE(chunks.size() > 100);
      uint64_t next = 0;
      for (const Chunk& c : chunks) {
        if (c.kind != static_cast<uint8_t>(ChunkKind::Events)) continue;
        REQUIRE(c.first == next);
        next += c.count;
      }
      CHECK(next == kEvents);
      TraceReader r(tmp.path());
      REQUIRE(r.complete());
      CHECK(read_all_checked(r) == kEvents);
    }
  }
}

TEST_CASE("trace_writer_thread: flush() and close() wait for the file") {
  TempDir tmp;
  capnp::MallocMessageBuilder hb;
  fill_header(hb.initRoot<schema::Header>());
  WriterOptions o = opts(2048, 8);
  o.max_unflushed = std::chrono::hours(1);
  TraceWriter w(tmp.path(), hb, o);
  uint64_t i = 0;
  for (int round = 1; round <= 5; ++round) {
    for (; i < 3000u * round; ++i) {
      capnp::MallocMessageBuilder mb;
      fill_event(mb.initRoot<schema::Event>(), i);
      w.append(mb);
    }
    w.flush();
    TraceReader r(tmp.path());
    CHECK(!r.complete());
    CHECK(r.event_count() == i);
  }
  w.close(0, "exited");
  TraceReader r(tmp.path());
  CHECK(r.complete());
  CHECK(read_all_checked(r) == i);
  WriterStats st = w.stats();
  uint64_t chunks = 0;
  for (uint64_t c : st.chunks) chunks += c;
  CHECK(chunks == chunks_of(read_file(tmp / "trace")).size());
  CHECK(st.in_bytes > 0);
  CHECK_THROWS_AS(w.flush(), rrx::Error);
}

TEST_CASE("trace_writer_thread: the destructor writes every queued chunk") {
  TempDir tmp;
  write_events(tmp.path(), 20000, opts(1024, 8), /*close=*/false);
  TraceReader r(tmp.path());
  CHECK(!r.complete());
  CHECK(r.event_count() == 20000);
  CHECK(read_all_checked(r) == 20000);
}

TEST_CASE("trace_writer_thread: a failed write is reported at the next append") {
  TempDir tmp;
  int code = in_child([&] {
    capnp::MallocMessageBuilder hb;
    fill_header(hb.initRoot<schema::Header>());
    TraceWriter w(tmp.path(), hb, opts(1000, 8, kStored));
    limit_growth(tmp / "trace", 20000);
    for (uint64_t i = 0; i < 200000; ++i) {
      capnp::MallocMessageBuilder mb;
      fill_event(mb.initRoot<schema::Event>(), i);
      try {
        w.append(mb);
      } catch (const rrx::Error& e) {
        if (!says_write_failed(e)) return 11;
        // Reported once; then the writer refuses everything.
        try {
          w.append(mb);
          return 12;
        } catch (const rrx::Error& again) {
          if (std::string(again.what()).find("an earlier write") == std::string::npos) return 13;
        }
        try {
          w.close(0, "exited");
          return 14;
        } catch (const rrx::Error&) {
        }
        return 0;
      }
    }
    return 10;  // never failed
  });
  CHECK(code == 0);
  check_readable_prefix(tmp.path());
  TraceReader r(tmp.path());
  CHECK(r.event_count() > 0);
}

TEST_CASE("trace_writer_thread: a failed write is reported by flush()") {
  TempDir tmp;
  int code = in_child([&] {
    capnp::MallocMessageBuilder hb;
    fill_header(hb.initRoot<schema::Header>());
    WriterOptions o = opts(64 << 20, 8, kStored);  // only flush() writes
    o.max_unflushed = std::chrono::hours(1);
    TraceWriter w(tmp.path(), hb, o);
    for (uint64_t i = 0; i < 100; ++i) {
      capnp::MallocMessageBuilder mb;
      fill_event(mb.initRoot<schema::Event>(), i);
      w.append(mb);
    }
    w.flush();
    limit_growth(tmp / "trace", 100);
    for (uint64_t i = 100; i < 500; ++i) {
      capnp::MallocMessageBuilder mb;
      fill_event(mb.initRoot<schema::Event>(), i);
      w.append(mb);
    }
    try {
      w.flush();
    } catch (const rrx::Error& e) {
      return says_write_failed(e) ? 0 : 11;
    }
    return 10;
  });
  CHECK(code == 0);
  check_readable_prefix(tmp.path());
  TraceReader r(tmp.path());
  CHECK(r.event_count() == 100);
}

TEST_CASE("trace_writer_thread: a failed write is reported by close()") {
  TempDir tmp;
  int code = in_child([&] {
    capnp::MallocMessageBuilder hb;
    fill_header(hb.initRoot<schema::Header>());
    WriterOptions o = opts(64 << 20, 8, kStored);  // only flush() and close() write
    o.max_unflushed = std::chrono::hours(1);
    TraceWriter w(tmp.path(), hb, o);
    for (uint64_t i = 0; i < 120; ++i) {
      capnp::MallocMessageBuilder mb;
      fill_event(mb.initRoot<schema::Event>(), i);
      w.append(mb);
    }
    w.flush();
    limit_growth(tmp / "trace", 100);
    for (uint64_t i = 120; i < 150; ++i) {  // less than a chunk: only close() writes them
      capnp::MallocMessageBuilder mb;
      fill_event(mb.initRoot<schema::Event>(), i);
      w.append(mb);
    }
    try {
      w.close(0, "exited");
    } catch (const rrx::Error& e) {
      return says_write_failed(e) ? 0 : 11;
    }
    return 10;
  });
  CHECK(code == 0);
  check_readable_prefix(tmp.path());
  TraceReader r(tmp.path());
  CHECK(r.event_count() == 120);
}
