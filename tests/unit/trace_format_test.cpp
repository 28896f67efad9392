// Unit tests of the trace writer and reader: round trips, chunking, the
// index, and damaged traces (truncated, bit-flipped, from the future, killed).
#include <algorithm>
#include <catch2/catch.hpp>
#include <capnp/message.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include <cctype>
#include <cstring>
#include <map>
#include <random>

#include "core/error.h"
#include "core/hash.h"
#include "trace_format/format.h"
#include "trace_format/trace_reader.h"
#include "trace_format/trace_writer.h"
#include "trace_test_util.h"

namespace fs = std::filesystem;
using namespace rrx::trace;
using namespace rrx::trace::test;
namespace schema = rrx::schema;

namespace {

struct ChunkPos {
  uint64_t offset;
  uint64_t end;
  uint8_t kind;
  uint64_t first;
  uint32_t count;
};

// The chunk layout of a well-formed trace file, parsed independently of the reader.
std::vector<ChunkPos> parse_chunks(const std::vector<unsigned char>& f) {
  std::vector<ChunkPos> out;
  uint64_t off = kFileHeaderSize;
  while (off + kChunkHeaderSize <= f.size()) {
    uint32_t magic, csize, count;
    uint64_t first;
    std::memcpy(&magic, &f[off], 4);
    REQUIRE(magic == kChunkMagic);
    std::memcpy(&csize, &f[off + 8], 4);
    std::memcpy(&first, &f[off + 16], 8);
    std::memcpy(&count, &f[off + 24], 4);
    out.push_back({off, off + kChunkHeaderSize + csize, f[off + 4], first, count});
    off += kChunkHeaderSize + csize;
  }
  REQUIRE(off == f.size());
  return out;
}

// Writes events [0, n) with fill_event and closes the trace.
void write_trace(const fs::path& dir, uint64_t n, WriterOptions opts = {}, bool close = true,
                 size_t max_write = 300) {
  capnp::MallocMessageBuilder hb;
  fill_header(hb.initRoot<schema::Header>());
  TraceWriter w(dir, hb, opts);
  for (uint64_t i = 0; i < n; ++i) {
    capnp::MallocMessageBuilder mb;
    fill_event(mb.initRoot<schema::Event>(), i, -1, max_write);
    REQUIRE(w.append(mb) == i);
  }
  if (close) w.close(0, "exited");
}

// Reads every event; checks each against fill_event. Returns the count.
uint64_t read_all_checked(TraceReader& r, size_t max_write = 300) {
  uint64_t n = 0;
  while (auto ev = r.next()) {
    REQUIRE(ev->number == n);
    REQUIRE(event_matches(ev->get(), n, -1, max_write));
    ++n;
  }
  return n;
}

// Opens and reads a possibly damaged trace. Returns -1 on TraceError; else the
// number of events read, each of which must be the one written.
struct Outcome {
  bool error = false;
  std::string what;
  bool complete = false;
  uint64_t events = 0;
  bool all_match = true;
};
Outcome try_read(const fs::path& dir) {
  Outcome o;
  try {
    TraceReader r(dir);
    o.complete = r.complete();
    while (auto ev = r.next()) {
      if (ev->number != o.events || !event_matches(ev->get(), o.events)) o.all_match = false;
      ++o.events;
    }
    // And seeking must behave too.
    if (r.event_count() > 0) {
      r.seek(r.event_count() / 2);
      auto ev = r.next();
      if (!ev || ev->number != r.event_count() / 2) o.all_match = false;
    }
    if (r.event_count() != o.events) o.all_match = false;
  } catch (const TraceError& e) {
    o.error = true;
    o.what = e.what();
  }
  return o;
}

WriterOptions small_chunks(size_t bytes) {
  WriterOptions o;
  o.chunk_bytes = bytes;
  return o;
}

}  // namespace

TEST_CASE("trace_format: header round-trip") {
  TempDir tmp;
  write_trace(tmp.path(), 0);
  REQUIRE(fs::exists(tmp / "trace"));
  REQUIRE(fs::exists(tmp / "trace.idx"));
  TraceReader r(tmp.path());
  REQUIRE(r.complete());
  REQUIRE(r.incomplete_reason().empty());
  REQUIRE(r.event_count() == 0);
  REQUIRE(!r.next());

  auto h = r.header();
  CHECK(h.getFormatVersion() == kFormatVersion);
  CHECK(h.getRrxVersion() == "0.1.0-test");
  CHECK(h.getKernelRelease() == "6.1.0-test");
  CHECK(h.getCpu().getVendor() == "GenuineIntel");
  CHECK(h.getCpu().getFamily() == 6);
  CHECK(h.getCpu().getModel() == 85);
  CHECK(h.getCpu().getStepping() == 7);
  REQUIRE(h.getCpu().getLeaves().size() == 3);
  CHECK(h.getCpu().getLeaves()[2].getLeaf() == 7);
  CHECK(h.getCpu().getLeaves()[2].getSubleaf() == 2);
  CHECK(h.getCpu().getLeaves()[1].getEax() == 0x22222222u);
  CHECK(h.getCpu().getLeaves()[1].getEbx() == 0x22222223u);
  CHECK(h.getCpu().getLeaves()[1].getEcx() == 0x33333334u);
  CHECK(h.getCpu().getLeaves()[1].getEdx() == 0x44444445u);
  REQUIRE(h.getArgv().size() == 3);
  CHECK(h.getArgv()[2] == "arg with spaces");
  REQUIRE(h.getEnvp().size() == 2);
  CHECK(h.getEnvp()[1] == "HOME=/root");
  CHECK(h.getCwd() == "/home/user/work");
  CHECK(h.getExePath() == "/usr/bin/prog");
  CHECK(h.getStartTimeUnixNs() == 1700000000123456789LL);
  CHECK(h.getSkipStrategy() == "seccomp");
  CHECK(h.getPersonality() == 0x0040000);
  REQUIRE(h.getOptions().size() == 2);
  CHECK(h.getOptions()[1].getKey() == "preempt-ms");
  CHECK(h.getOptions()[1].getValue() == "50");
  CHECK(h.getHostname() == "testhost");

  capnp::MallocMessageBuilder expected;
  fill_header(expected.initRoot<schema::Header>());
  auto a = capnp::canonicalize(h);
  auto b = capnp::canonicalize(expected.getRoot<schema::Header>().asReader());
  REQUIRE(a.size() == b.size());
  CHECK(std::memcmp(a.begin(), b.begin(), a.size() * 8) == 0);

  REQUIRE(r.end());
  CHECK(r.end()->event_count == 0);
  CHECK(r.end()->exit_status == 0);
  CHECK(r.end()->reason == "exited");
  CHECK(r.end()->end_time_unix_ns > 1600000000000000000LL);
}

TEST_CASE("trace_format: the writer stamps the format version") {
  TempDir tmp;
  capnp::MallocMessageBuilder hb;
  hb.initRoot<schema::Header>().setHostname("h");
  TraceWriter w(tmp.path(), hb);
  w.close(3, "killed by SIGTERM to the recorder");
  TraceReader r(tmp.path());
  CHECK(r.header().getFormatVersion() == kFormatVersion);
  CHECK(r.header().getHostname() == "h");
  REQUIRE(r.end());
  CHECK(r.end()->exit_status == 3);
  CHECK(r.end()->reason == "killed by SIGTERM to the recorder");
}

TEST_CASE("trace_format: event round-trip for each union member") {
  TempDir tmp;
  constexpr int kKinds = 9;
  {
    capnp::MallocMessageBuilder hb;
    fill_header(hb.initRoot<schema::Header>());
    TraceWriter w(tmp.path(), hb);
    for (int k = 0; k < kKinds; ++k) {
      capnp::MallocMessageBuilder mb;
      // Event number 18 * k: a syscall with a mapping for k == 0.
      fill_event(mb.initRoot<schema::Event>(), 18 * static_cast<uint64_t>(k), k);
      REQUIRE(w.append(mb) == static_cast<uint64_t>(k));
    }
    w.close(0, "exited");
  }
  TraceReader r(tmp.path());
  REQUIRE(r.complete());
  REQUIRE(r.event_count() == kKinds);
  using W = schema::Event::Which;
  const W expected[kKinds] = {W::SYSCALL, W::SYSCALL_ENTRY, W::SIGNAL,     W::RDTSC,  W::EXEC,
                              W::CLONE,   W::EXIT,          W::PREEMPTION, W::WARNING};
  for (int k = 0; k < kKinds; ++k) {
    auto ev = r.next();
    REQUIRE(ev);
    CHECK(ev->number == static_cast<uint64_t>(k));
    auto e = ev->get();
    CHECK(e.which() == expected[k]);
    CHECK(event_matches(e, 18 * static_cast<uint64_t>(k), k));
    CHECK(e.getPid() == 1000);
    switch (e.which()) {
      case W::SYSCALL: {
        auto s = e.getSyscall();
        CHECK(s.getArgs().size() == 6);
        CHECK(s.hasMapping());
        CHECK(s.getMapping().getPath() == "/usr/lib/x86_64-linux-gnu/libc.so.6");
        CHECK(s.getMapping().getContentHash() == "0123456789abcdef");
        break;
      }
      case W::SYSCALL_ENTRY:
        CHECK(e.getSyscallEntry().getStrings().size() == 2);
        break;
      case W::SIGNAL:
        CHECK(e.getSignal().getSiginfo().size() == 128);
        CHECK(e.hasRegs());
        CHECK(e.getRegs().getCs() == 0x33);
        break;
      case W::EXEC:
        CHECK(e.getExec().getInterpPath() == "/lib64/ld-linux-x86-64.so.2");
        CHECK(e.getExec().getAtRandom().size() == 16);
        CHECK(e.getExec().getArgv()[1] == std::to_string(18 * k));
        break;
      case W::CLONE:
        CHECK(e.getClone().getChildTid() == 2000 + 18 * k);
        break;
      case W::PREEMPTION:
        CHECK(e.getInexact());
        break;
      case W::WARNING:
        CHECK(std::string(e.getWarning().cStr()).find("ENOSYS") != std::string::npos);
        break;
      default:
        break;
    }
  }
  CHECK(!r.next());
  CHECK(!r.next());
}

TEST_CASE("trace_format: syscall with memory writes, strings and flags") {
  TempDir tmp;
  std::vector<unsigned char> big(200000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<unsigned char>(i * 7);
  {
    capnp::MallocMessageBuilder hb;
    fill_header(hb.initRoot<schema::Header>());
    TraceWriter w(tmp.path(), hb, small_chunks(4096));
    capnp::MallocMessageBuilder mb;
    auto s = mb.initRoot<schema::Event>().initSyscall();
    s.setNr(0);
    s.setRet(200000);
    s.setFlags(kSyscallInterrupted);
    auto mw = s.initMemWrites(2);
    mw[0].setAddr(0x1000);
    set_data(mw[0].initData(static_cast<unsigned>(big.size())), big);
    mw[1].setAddr(0x2000);
    mw[1].initData(0);
    auto st = s.initStrings(1);
    st[0].setArg(1);
    st[0].setValue(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>("/etc/passwd"), 11));
    w.append(mb);
    w.close(0, "exited");
  }
  TraceReader r(tmp.path());
  auto ev = r.next();
  REQUIRE(ev);
  auto s = ev->get().getSyscall();
  CHECK(s.getRet() == 200000);
  CHECK(s.getFlags() == kSyscallInterrupted);
  REQUIRE(s.getMemWrites().size() == 2);
  auto d = s.getMemWrites()[0].getData();
  REQUIRE(d.size() == big.size());
  CHECK(std::memcmp(d.begin(), big.data(), big.size()) == 0);
  CHECK(s.getMemWrites()[1].getData().size() == 0);
  CHECK(s.getStrings()[0].getArg() == 1);
  CHECK(std::string(reinterpret_cast<const char*>(s.getStrings()[0].getValue().begin()), 11) == "/etc/passwd");
  CHECK(!s.hasMapping());
}

TEST_CASE("trace_format: many chunks, sequential read and seek") {
  TempDir tmp;
  constexpr uint64_t kEvents = 100000;
  write_trace(tmp.path(), kEvents, small_chunks(8192));
  auto chunks = parse_chunks(read_file(tmp / "trace"));
  INFO("chunks: " << chunks.size());
  REQUIRE(chunks.size() > 100);

  TraceReader r(tmp.path());
  REQUIRE(r.complete());
  REQUIRE(r.event_count() == kEvents);
  REQUIRE(r.end()->event_count == kEvents);
  CHECK(read_all_checked(r) == kEvents);
  CHECK(r.position() == kEvents);

  // Random seeks equal the sequential read.
  std::mt19937_64 rng(42);
  for (int i = 0; i < 2000; ++i) {
    uint64_t n = rng() % kEvents;
    r.seek(n);
    CHECK(r.position() == n);
    auto ev = r.next();
    REQUIRE(ev);
    REQUIRE(ev->number == n);
    REQUIRE(event_matches(ev->get(), n));
    // Reading on continues into the following chunks.
    for (int k = 1; k < 3 && n + k < kEvents; ++k) {
      auto more = r.next();
      REQUIRE(more);
      REQUIRE(more->number == n + k);
      REQUIRE(event_matches(more->get(), n + k));
    }
  }
  // Chunk boundaries.
  for (const auto& c : chunks) {
    if (c.kind != static_cast<uint8_t>(ChunkKind::Events)) continue;
    for (uint64_t n : {c.first, c.first + c.count - 1}) {
      r.seek(n);
      auto ev = r.next();
      REQUIRE(ev);
      REQUIRE(ev->number == n);
      REQUIRE(event_matches(ev->get(), n));
    }
  }
  r.seek(kEvents - 1);
  REQUIRE(r.next());
  CHECK(!r.next());
  r.seek(kEvents);
  CHECK(!r.next());
  r.seek(kEvents + 12345);
  CHECK(!r.next());
  CHECK(r.position() == kEvents);
  r.seek(0);
  auto first = r.next();
  REQUIRE(first);
  CHECK(first->number == 0);
  CHECK(event_matches(first->get(), 0));
}

TEST_CASE("trace_format: records outlive the reader position") {
  TempDir tmp;
  write_trace(tmp.path(), 500, small_chunks(1024));
  TraceReader r(tmp.path());
  std::vector<EventRecord> kept;
  while (auto ev = r.next()) kept.push_back(*ev);
  r.seek(0);
  r.next();
  REQUIRE(kept.size() == 500);
  for (uint64_t i = 0; i < kept.size(); ++i) REQUIRE(event_matches(kept[i].get(), i));
}

// The reader loads the chunks after the one being read on a thread of its
// own (chunk_prefetch.h): a damaged chunk that thread loaded must fail where
// the reader reaches it, with the error it gives without the prefetch, and
// not before (a reader that stops short sees nothing).
TEST_CASE("trace_format: a damaged chunk read ahead fails where it is reached") {
  TempDir tmp;
  constexpr uint64_t kEvents = 20000;
  write_trace(tmp.path(), kEvents, small_chunks(4096));
  auto f = read_file(tmp / "trace");
  auto chunks = parse_chunks(f);
  REQUIRE(chunks.size() > 40);
  const ChunkPos& bad = chunks[chunks.size() / 2];
  REQUIRE(bad.kind == static_cast<uint8_t>(ChunkKind::Events));
  f[bad.end - 3] ^= 0x40;  // in its zstd payload: the CRC-32C catches it
  write_file(tmp / "trace", f);

  auto read_until_error = [&](uint64_t stop_at, std::string* what) {
    TraceReader r(tmp.path());
    uint64_t n = 0;
    try {
      while (n < stop_at) {
        auto ev = r.next();
        if (!ev) break;
        REQUIRE(ev->number == n);
        REQUIRE(event_matches(ev->get(), n));
        ++n;
      }
    } catch (const TraceError& e) {
      *what = e.what();
    }
    return n;
  };
  std::string with, without;
  ::setenv("RRX_TRACE_PREFETCH", "0", 1);
  const uint64_t read_without = read_until_error(kEvents, &without);
  ::unsetenv("RRX_TRACE_PREFETCH");
  const uint64_t read_with = read_until_error(kEvents, &with);
  CHECK(read_without == bad.first);
  CHECK(read_with == bad.first);
  CHECK(!with.empty());
  CHECK(with == without);
  // Stopping one event short of it: the chunk was loaded ahead, no error.
  std::string none;
  CHECK(read_until_error(bad.first, &none) == bad.first);
  CHECK(none.empty());
  // Seeks back and forth around it, and past it.
  TraceReader r(tmp.path());
  for (uint64_t n : {uint64_t{0}, bad.first - 1, uint64_t{5}, bad.first + bad.count, kEvents - 1}) {
    r.seek(n);
    auto ev = r.next();
    REQUIRE(ev);
    CHECK(ev->number == n);
    CHECK(event_matches(ev->get(), n));
  }
  CHECK_THROWS_AS(r.seek(bad.first), TraceError);  // (a seek loads the chunk it lands in)
}

// A reader dropped while its thread loads ahead (a replay that ends early).
TEST_CASE("trace_format: a reader ends while it reads ahead") {
  TempDir tmp;
  write_trace(tmp.path(), 20000, small_chunks(4096));
  for (int i = 0; i < 50; ++i) {
    TraceReader r(tmp.path());
    for (int k = 0; k < 200 * i; ++k) REQUIRE(r.next());
  }
}

TEST_CASE("trace_format: large events exceed the chunk size") {
  TempDir tmp;
  write_trace(tmp.path(), 300, small_chunks(512), true, 70000);
  TraceReader r(tmp.path());
  CHECK(read_all_checked(r, 70000) == 300);
}

TEST_CASE("trace_format: the index is rebuilt when missing, corrupted or stale") {
  TempDir tmp;
  constexpr uint64_t kEvents = 3000;
  write_trace(tmp.path(), kEvents, small_chunks(2048));
  auto original = read_file(tmp / "trace.idx");
  REQUIRE(original.size() > 32);

  auto check_reads = [&] {
    TraceReader r(tmp.path());
    REQUIRE(r.complete());
    REQUIRE(r.event_count() == kEvents);
    for (uint64_t n : {0ull, 1ull, 1499ull, 2999ull, 1234ull}) {
      r.seek(n);
      auto ev = r.next();
      REQUIRE(ev);
      REQUIRE(event_matches(ev->get(), n));
    }
  };

  SECTION("deleted") {
    fs::remove(tmp / "trace.idx");
    check_reads();
    // Rebuilt deterministically: the same bytes as the writer's.
    CHECK(read_file(tmp / "trace.idx") == original);
  }
  SECTION("corrupted") {
    auto bad = original;
    bad[bad.size() / 2] ^= 0x10;
    write_file(tmp / "trace.idx", bad);
    check_reads();
    CHECK(read_file(tmp / "trace.idx") == original);
  }
  SECTION("truncated") {
    write_file(tmp / "trace.idx", original.data(), original.size() - 5);
    check_reads();
    CHECK(read_file(tmp / "trace.idx") == original);
  }
  SECTION("garbage") {
    std::vector<unsigned char> junk(1000, 0xab);
    write_file(tmp / "trace.idx", junk);
    check_reads();
    CHECK(read_file(tmp / "trace.idx") == original);
  }
  SECTION("stale: from another trace") {
    TempDir other;
    write_trace(other.path(), kEvents / 2, small_chunks(2048));
    fs::copy_file(other / "trace.idx", tmp / "trace.idx", fs::copy_options::overwrite_existing);
    check_reads();
    CHECK(read_file(tmp / "trace.idx") == original);
  }
  SECTION("stale: the trace was cut off after the index was written") {
    auto f = read_file(tmp / "trace");
    auto chunks = parse_chunks(f);
    // Drop the End chunk and half of the last events chunk.
    const auto& last = chunks[chunks.size() - 2];
    write_file(tmp / "trace", f.data(), last.offset + (last.end - last.offset) / 2);
    TraceReader r(tmp.path());
    CHECK(!r.complete());
    CHECK(r.event_count() == last.first);
    auto rebuilt = read_file(tmp / "trace.idx");
    CHECK(rebuilt != original);
    // And the saved index of the incomplete trace is used as is the next time.
    TraceReader again(tmp.path());
    CHECK(!again.complete());
    CHECK(again.event_count() == last.first);
    CHECK(again.incomplete_reason() == r.incomplete_reason());
    CHECK(read_file(tmp / "trace.idx") == rebuilt);
  }
  SECTION("read-only directory") {
    fs::remove(tmp / "trace.idx");
    fs::permissions(tmp.path(), fs::perms::owner_read | fs::perms::owner_exec);
    check_reads();  // as root the index may still be written; either way the trace reads
    fs::permissions(tmp.path(), fs::perms::owner_all);
  }
}

TEST_CASE("trace_format: the destructor flushes but does not close") {
  TempDir tmp;
  write_trace(tmp.path(), 777, small_chunks(1 << 20), /*close=*/false);
  CHECK(!fs::exists(tmp / "trace.idx"));
  TraceReader r(tmp.path());
  CHECK(!r.complete());
  CHECK(!r.end());
  CHECK(r.incomplete_reason().find("not closed") != std::string::npos);
  CHECK(r.event_count() == 777);
  CHECK(read_all_checked(r) == 777);
}

TEST_CASE("trace_format: a partial chunk is flushed after max_unflushed") {
  TempDir tmp;
  capnp::MallocMessageBuilder hb;
  fill_header(hb.initRoot<schema::Header>());
  WriterOptions o;
  o.chunk_bytes = 1 << 20;
  o.max_unflushed = std::chrono::milliseconds(0);
  TraceWriter w(tmp.path(), hb, o);
  for (uint64_t i = 0; i < 64; ++i) {
    capnp::MallocMessageBuilder mb;
    fill_event(mb.initRoot<schema::Event>(), i);
    w.append(mb);
  }
  {
    // While the writer is still open; the writer's thread writes the chunk
    // soon after the 64th append handed it over.
    uint64_t seen = 0;
    for (int tries = 0; tries < 500 && seen < 64; ++tries) {
      TraceReader r(tmp.path());
      CHECK(!r.complete());
      seen = r.event_count();
      if (seen < 64) ::usleep(10000);
    }
    CHECK(seen == 64);
  }
  capnp::MallocMessageBuilder mb;
  fill_event(mb.initRoot<schema::Event>(), 64);
  w.append(mb);
  {
    TraceReader r(tmp.path());
    CHECK(r.event_count() == 64);  // the 65th is still pending
  }
  w.flush();
  {
    TraceReader r(tmp.path());
    CHECK(r.event_count() == 65);
    CHECK(read_all_checked(r) == 65);
  }
  w.close(0, "exited");
  TraceReader r(tmp.path());
  CHECK(r.complete());
  CHECK(r.event_count() == 65);
  CHECK_THROWS_AS(w.append(mb), rrx::Error);
}

TEST_CASE("trace_format: truncation at every byte offset") {
  TempDir tmp;
  fs::create_directory(tmp / "full");
  write_trace(tmp / "full", 40, small_chunks(600));
  auto f = read_file(tmp / "full" / "trace");
  auto index = read_file(tmp / "full" / "trace.idx");
  auto chunks = parse_chunks(f);
  INFO("trace of " << f.size() << " bytes in " << chunks.size() << " chunks");
  REQUIRE(chunks.size() >= 5);
  REQUIRE(chunks.front().kind == static_cast<uint8_t>(ChunkKind::Header));
  REQUIRE(chunks.back().kind == static_cast<uint8_t>(ChunkKind::End));

  fs::path dir = tmp / "cut";
  fs::create_directory(dir);
  size_t errors = 0, incomplete = 0;
  for (size_t len = 0; len <= f.size(); ++len) {
    write_file(dir / "trace", f.data(), len);
    // Every other time, leave the (now stale) index of the full trace there.
    if (len % 2 == 0)
      write_file(dir / "trace.idx", index);
    else
      fs::remove(dir / "trace.idx");
    Outcome o = try_read(dir);
    INFO("length " << len << ": " << o.what);
    // Events in the chunks wholly present.
    uint64_t expected = 0;
    for (const auto& c : chunks)
      if (c.end <= len && c.kind == static_cast<uint8_t>(ChunkKind::Events)) expected = c.first + c.count;
    if (len < chunks.front().end) {
      REQUIRE(o.error);
      ++errors;
    } else if (len == f.size()) {
      REQUIRE(!o.error);
      REQUIRE(o.complete);
      REQUIRE(o.events == 40);
      REQUIRE(o.all_match);
    } else {
      REQUIRE(!o.error);
      REQUIRE(!o.complete);
      REQUIRE(o.events == expected);
      REQUIRE(o.all_match);
      ++incomplete;
    }
  }
  CHECK(errors == chunks.front().end);
  CHECK(incomplete == f.size() - chunks.front().end);

  // The reason names where the readable part ends.
  write_file(dir / "trace", f.data(), chunks[2].end + 7);
  fs::remove(dir / "trace.idx");
  TraceReader r(dir);
  CHECK(r.incomplete_reason() == (dir / "trace").string() + ": the last chunk, at offset " +
                                     std::to_string(chunks[2].end) + ", is truncated: the file ends at offset " +
                                     std::to_string(chunks[2].end + 7) +
                                     ", 7 bytes into it (recorder killed? file cut short?); the events before it "
                                     "are readable");
  // Cut exactly after a chunk: nothing is partial, the end record is missing.
  write_file(dir / "trace", f.data(), chunks[2].end);
  fs::remove(dir / "trace.idx");
  TraceReader r2(dir);
  CHECK(r2.incomplete_reason() == (dir / "trace").string() +
                                      ": the recording was not closed (recorder killed?): no end record after the "
                                      "last complete chunk, which ends at offset " +
                                      std::to_string(chunks[2].end) + " of " + std::to_string(chunks[2].end) + " bytes");
}

TEST_CASE("trace_format: every flipped byte is detected") {
  TempDir tmp;
  fs::create_directory(tmp / "full");
  write_trace(tmp / "full", 30, small_chunks(500));
  auto f = read_file(tmp / "full" / "trace");
  auto index = read_file(tmp / "full" / "trace.idx");
  REQUIRE(parse_chunks(f).size() >= 5);
  fs::path dir = tmp / "flip";
  fs::create_directory(dir);

  std::map<std::string, int> kinds;  // error messages, for the log
  for (size_t pos = 0; pos < f.size(); ++pos) {
    auto g = f;
    g[pos] ^= static_cast<unsigned char>(1u << (pos % 8));
    write_file(dir / "trace", g);
    fs::remove(dir / "trace.idx");
    Outcome o = try_read(dir);
    INFO("flipped bit " << pos % 8 << " of byte " << pos << ": " << (o.error ? o.what : "no error"));
    // A CRC or a structural check covers every byte of the file.
    REQUIRE(o.error);
    std::string w = o.what.substr(o.what.find(": ", o.what.find("offset")) + 2);
    std::string k;
    for (char c : w.substr(0, 40)) k += std::isdigit(static_cast<unsigned char>(c)) ? '#' : c;
    kinds[k]++;
  }
  std::string summary;
  for (const auto& [k, n] : kinds) summary += std::to_string(n) + " x " + k + "\n";
  INFO(summary);
  CHECK(kinds.size() > 3);

  // Flips in the index never matter: it is checked and rebuilt.
  write_file(dir / "trace", f);
  for (size_t pos = 0; pos < index.size(); ++pos) {
    auto g = index;
    g[pos] ^= static_cast<unsigned char>(1u << (pos % 8));
    write_file(dir / "trace.idx", g);
    Outcome o = try_read(dir);
    INFO("index byte " << pos << ": " << o.what);
    REQUIRE(!o.error);
    REQUIRE(o.complete);
    REQUIRE(o.events == 30);
    REQUIRE(o.all_match);
    REQUIRE(read_file(dir / "trace.idx") == index);
  }
}

TEST_CASE("trace_format: verify_checksums finds a corrupted payload that opening does not read") {
  TempDir tmp;
  fs::create_directory(tmp / "full");
  write_trace(tmp / "full", 60, small_chunks(500));
  auto f = read_file(tmp / "full" / "trace");
  auto index = read_file(tmp / "full" / "trace.idx");
  auto chunks = parse_chunks(f);
  REQUIRE(chunks.size() >= 5);
  {
    TraceReader r(tmp / "full");
    CHECK_NOTHROW(r.verify_checksums());
  }
  fs::path dir = tmp / "flip";
  fs::create_directory(dir);
  // Bytes all over every events chunk's payload (its first and last bytes
  // and a spread between: a byte per file write and open, which took minutes
  // on a loaded machine when it was every byte), with the index in place.
  for (size_t i = 1; i + 1 < chunks.size(); ++i) {
    const auto& c = chunks[i];
    const uint64_t first = c.offset + kChunkHeaderSize;
    const uint64_t stride = std::max<uint64_t>(1, (c.end - first) / 97);
    std::vector<uint64_t> positions;
    for (uint64_t pos = first; pos < c.end; pos += stride) positions.push_back(pos);
    if (positions.back() != c.end - 1) positions.push_back(c.end - 1);
    for (uint64_t pos : positions) {
      auto g = f;
      g[pos] ^= 0x10;
      write_file(dir / "trace", g);
      write_file(dir / "trace.idx", index);
      INFO("chunk " << i << " at offset " << c.offset << ", byte " << pos);
      TraceReader r(dir);  // the headers are intact: it opens, complete
      REQUIRE(r.complete());
      try {
        r.verify_checksums();
        FAIL("no error");
      } catch (const TraceError& e) {
        REQUIRE(e.offset() == c.offset);
        REQUIRE(e.file() == (dir / "trace").string());
        REQUIRE(std::string(e.what()).find("checksum mismatch") != std::string::npos);
      }
    }
  }
}

TEST_CASE("trace_format: random multi-byte damage never crashes") {
  TempDir tmp;
  fs::create_directory(tmp / "full");
  write_trace(tmp / "full", 200, small_chunks(2000));
  auto f = read_file(tmp / "full" / "trace");
  fs::path dir = tmp / "dmg";
  fs::create_directory(dir);
  std::mt19937_64 rng(7);
  int errors = 0;
  for (int iter = 0; iter < 400; ++iter) {
    auto g = f;
    int n = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < n; ++k) g[rng() % g.size()] = static_cast<unsigned char>(rng());
    if (iter % 4 == 0) g.resize(rng() % g.size());
    write_file(dir / "trace", g);
    fs::remove(dir / "trace.idx");
    Outcome o = try_read(dir);
    if (o.error) {
      ++errors;
    } else {
      REQUIRE(o.all_match);
      if (o.complete) REQUIRE(o.events == 200);
    }
  }
  CHECK(errors > 0);
}

TEST_CASE("trace_format: bad magic, future version, odd files") {
  TempDir tmp;
  fs::create_directory(tmp / "full");
  write_trace(tmp / "full", 10);
  auto f = read_file(tmp / "full" / "trace");
  fs::path dir = tmp / "x";
  fs::create_directory(dir);

  SECTION("future version") {
    auto g = f;
    uint32_t v = kFormatVersion + 1;
    std::memcpy(&g[8], &v, 4);
    write_file(dir / "trace", g);
    try {
      TraceReader r(dir);
      FAIL("no error");
    } catch (const TraceError& e) {
      std::string w = e.what();
      CHECK(w.find("newer") != std::string::npos);
      CHECK(w.find("version " + std::to_string(kFormatVersion + 1)) != std::string::npos);
      CHECK(w.find("upgrade rrx") != std::string::npos);
      CHECK(e.file() == (dir / "trace").string());
    }
  }
  SECTION("bad magic") {
    auto g = f;
    g[0] = 'X';
    write_file(dir / "trace", g);
    try {
      TraceReader r(dir);
      FAIL("no error");
    } catch (const TraceError& e) {
      CHECK(std::string(e.what()).find("not an rrx trace") != std::string::npos);
      CHECK(e.offset() == 0);
    }
  }
  SECTION("not a trace at all") {
    const char* text = "#!/bin/sh\necho hello\n";
    write_file(dir / "trace", reinterpret_cast<const unsigned char*>(text), std::strlen(text));
    CHECK_THROWS_WITH(TraceReader(dir), Catch::Contains("not an rrx trace"));
  }
  SECTION("empty file") {
    write_file(dir / "trace", f.data(), 0);
    CHECK_THROWS_WITH(TraceReader(dir), Catch::Contains("empty trace file"));
  }
  SECTION("no trace file") {
    CHECK_THROWS_AS(TraceReader(dir), TraceError);
    CHECK_THROWS_AS(TraceReader(tmp / "does-not-exist"), TraceError);
  }
  SECTION("trailing data after the end chunk") {
    auto g = f;
    g.insert(g.end(), {1, 2, 3});
    write_file(dir / "trace", g);
    CHECK_THROWS_WITH(TraceReader(dir), Catch::Contains("after the end chunk"));
  }
  SECTION("nonzero flags") {
    auto g = f;
    g[12] = 1;
    write_file(dir / "trace", g);
    CHECK_THROWS_AS(TraceReader(dir), TraceError);
  }
  SECTION("a corrupted middle chunk names file and offset") {
    write_trace(dir, 2000, small_chunks(1000));
    auto g = read_file(dir / "trace");
    auto chunks = parse_chunks(g);
    REQUIRE(chunks.size() > 6);
    const auto& victim = chunks[3];
    g[victim.offset + kChunkHeaderSize + 5] ^= 0x40;
    write_file(dir / "trace", g);
    TraceReader r(dir);  // the index is still valid: the sizes did not change
    CHECK(r.complete());
    try {
      while (r.next()) {
      }
      FAIL("no error");
    } catch (const TraceError& e) {
      CHECK(e.offset() == victim.offset);
      CHECK(e.file() == (dir / "trace").string());
      CHECK(std::string(e.what()).find("checksum") != std::string::npos);
    }
    // A seek into the good chunks still works.
    r.seek(chunks[5].first);
    auto ev = r.next();
    REQUIRE(ev);
    CHECK(event_matches(ev->get(), chunks[5].first));
    // seek() loads the chunk: the error comes from there.
    CHECK_THROWS_AS(r.seek(victim.first), TraceError);
    CHECK_THROWS_AS(r.seek(victim.first + 1), TraceError);
  }
}

TEST_CASE("trace_format: a SIGKILLed recorder leaves a readable prefix") {
  TempDir tmp;
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  constexpr uint64_t kTotal = 5000;
  constexpr uint64_t kKillAt = 3210;
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipefd[0]);
    try {
      capnp::MallocMessageBuilder hb;
      fill_header(hb.initRoot<schema::Header>());
      WriterOptions o;
      o.chunk_bytes = 1 << 20;  // only the explicit flushes write chunks
      o.max_unflushed = std::chrono::hours(1);
      TraceWriter w(tmp.path(), hb, o);
      for (uint64_t i = 0; i < kTotal; ++i) {
        capnp::MallocMessageBuilder mb;
        fill_event(mb.initRoot<schema::Event>(), i);
        w.append(mb);
        if (i % 100 == 99) {
          w.flush();
          uint64_t flushed = i + 1;
          if (::write(pipefd[1], &flushed, sizeof flushed) != sizeof flushed) ::_exit(3);
        }
        if (i == kKillAt) ::raise(SIGKILL);
      }
    } catch (...) {
    }
    ::_exit(2);
  }
  ::close(pipefd[1]);
  uint64_t last_flushed = 0, v;
  while (::read(pipefd[0], &v, sizeof v) == static_cast<ssize_t>(sizeof v)) last_flushed = v;
  ::close(pipefd[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
  REQUIRE(last_flushed == 3200);

  TraceReader r(tmp.path());
  CHECK(!r.complete());
  CHECK(r.incomplete_reason().find("recorder killed?") != std::string::npos);
  CHECK(r.event_count() == last_flushed);
  CHECK(read_all_checked(r) == last_flushed);
  CHECK(r.header().getHostname() == "testhost");
}

TEST_CASE("trace_format: SIGKILL while writing with small chunks") {
  // The parent kills the child at an arbitrary moment; whatever is on disk reads.
  for (int round = 0; round < 5; ++round) {
    TempDir tmp;
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(pipefd[0]);
      try {
        capnp::MallocMessageBuilder hb;
        fill_header(hb.initRoot<schema::Header>());
        TraceWriter w(tmp.path(), hb, small_chunks(700));
        for (uint64_t i = 0;; ++i) {
          capnp::MallocMessageBuilder mb;
          fill_event(mb.initRoot<schema::Event>(), i);
          w.append(mb);
          if (i == 1000) {
            w.flush();  // events 0..1000 are in the file (later ones wait for the writer's thread)
            char c = 1;
            if (::write(pipefd[1], &c, 1) != 1) ::_exit(3);
          }
        }
      } catch (...) {
      }
      ::_exit(2);
    }
    ::close(pipefd[1]);
    char c;
    REQUIRE(::read(pipefd[0], &c, 1) == 1);
    ::usleep(static_cast<useconds_t>(1000 * round));
    ::kill(pid, SIGKILL);
    ::close(pipefd[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));
    TraceReader r(tmp.path());
    CHECK(!r.complete());
    CHECK(r.event_count() >= 1000);
    CHECK(read_all_checked(r) == r.event_count());
  }
}

namespace {

// A trace whose header chunk is real and whose one events chunk holds `payload`
// (flat messages, as words) with a valid CRC: for damage that only a decoder sees.
void craft_trace(const fs::path& dir, const std::vector<uint64_t>& payload, uint32_t count,
                 uint32_t claimed_uncompressed = 0) {
  {
    capnp::MallocMessageBuilder hb;
    fill_header(hb.initRoot<schema::Header>());
    TraceWriter w(dir, hb);
  }
  auto f = read_file(dir / "trace");
  fs::remove(dir / "trace.idx");
  std::vector<unsigned char> comp(ZSTD_compressBound(payload.size() * 8));
  size_t csize = ZSTD_compress(comp.data(), comp.size(), payload.data(), payload.size() * 8, 3);
  REQUIRE(!ZSTD_isError(csize));
  unsigned char h[32] = {};
  uint32_t magic = kChunkMagic, cs = static_cast<uint32_t>(csize),
           us = claimed_uncompressed ? claimed_uncompressed : static_cast<uint32_t>(payload.size() * 8);
  uint64_t first = 0;
  std::memcpy(h, &magic, 4);
  h[4] = static_cast<uint8_t>(ChunkKind::Events);
  h[5] = kCodecZstd;
  std::memcpy(h + 8, &cs, 4);
  std::memcpy(h + 12, &us, 4);
  std::memcpy(h + 16, &first, 8);
  std::memcpy(h + 24, &count, 4);
  uint32_t crc = rrx::crc32c(h, 28);
  crc = rrx::crc32c(comp.data(), csize, crc);
  std::memcpy(h + 28, &crc, 4);
  f.insert(f.end(), h, h + 32);
  f.insert(f.end(), comp.begin(), comp.begin() + static_cast<long>(csize));
  write_file(dir / "trace", f);
}

uint64_t segment_table(uint32_t words) { return uint64_t{words} << 32; }  // one segment

}  // namespace

TEST_CASE("trace_format: malformed messages behind a valid checksum") {
  TempDir tmp;
  SECTION("a well-formed crafted message reads") {
    // Root: struct with no data and no pointers (an Event with every field at its default).
    craft_trace(tmp.path(), {segment_table(1), 0}, 1);
    TraceReader r(tmp.path());
    auto ev = r.next();
    REQUIRE(ev);
    CHECK(ev->get().getTid() == 0);
    CHECK(!r.next());
  }
  SECTION("root pointer out of bounds") {
    craft_trace(tmp.path(), {segment_table(1), (uint64_t{1000} << 2) | (uint64_t{1} << 32)}, 1);
    TraceReader r(tmp.path());
    CHECK_THROWS_WITH(r.next(), Catch::Contains("malformed event 0"));
  }
  SECTION("a list of a hundred thousand empty structs") {
    uint64_t root = uint64_t{1} << 48;                   // struct: 0 data words, 1 pointer
    uint64_t list = 1 | (uint64_t{7} << 32);             // inline composite list, 0 words
    uint64_t tag = uint64_t{100000} << 2;                // 100000 elements of 0 words
    craft_trace(tmp.path(), {segment_table(3), root, list, tag}, 1);
    TraceReader r(tmp.path());
    CHECK_THROWS_WITH(r.next(), Catch::Contains("empty structs"));
  }
  SECTION("a list of a million voids") {
    uint64_t root = uint64_t{1} << 48;
    uint64_t list = 1 | (uint64_t{1000000} << 35);       // element size VOID
    craft_trace(tmp.path(), {segment_table(2), root, list}, 1);
    TraceReader r(tmp.path());
    CHECK_THROWS_WITH(r.next(), Catch::Contains("empty elements"));
  }
  SECTION("a capability pointer") {
    uint64_t root = uint64_t{1} << 48;
    uint64_t cap = 3;
    craft_trace(tmp.path(), {segment_table(2), root, cap}, 1);
    TraceReader r(tmp.path());
    CHECK_THROWS_AS(r.next(), TraceError);
  }
  SECTION("message count larger than the messages") {
    craft_trace(tmp.path(), {segment_table(1), 0}, 2);
    TraceReader r(tmp.path());
    CHECK_THROWS_WITH(r.next(), Catch::Contains("past the end of the chunk"));
  }
  SECTION("bytes left after the messages") {
    craft_trace(tmp.path(), {segment_table(1), 0, 0}, 1);
    TraceReader r(tmp.path());
    CHECK_THROWS_WITH(r.next(), Catch::Contains("after the last message"));
  }
  SECTION("a segment table claiming too much") {
    craft_trace(tmp.path(), {(uint64_t{5} << 32) | 1, 1, 0}, 1);
    TraceReader r(tmp.path());
    CHECK_THROWS_AS(r.next(), TraceError);
  }
  SECTION("uncompressed size differs from the frame") {
    craft_trace(tmp.path(), {segment_table(1), 0}, 1, 24);
    TraceReader r(tmp.path());
    CHECK_THROWS_AS(r.next(), TraceError);
  }
}

TEST_CASE("trace_format: a failed write leaves a readable prefix") {
  // The child runs out of file size (RLIMIT_FSIZE, like a full disk) mid-chunk.
  TempDir tmp;
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl{30000, 30000};
    ::setrlimit(RLIMIT_FSIZE, &rl);
    int code = 10;
    try {
      capnp::MallocMessageBuilder hb;
      fill_header(hb.initRoot<schema::Header>());
      TraceWriter w(tmp.path(), hb, small_chunks(4000));
      for (uint64_t i = 0; i < 100000; ++i) {
        capnp::MallocMessageBuilder mb;
        fill_event(mb.initRoot<schema::Event>(), i);
        w.append(mb);
      }
    } catch (const rrx::Error& e) {
      code = std::string(e.what()).find("writing") != std::string::npos ? 0 : 11;
    } catch (...) {
      code = 12;
    }
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  auto size = fs::file_size(tmp / "trace");
  CHECK(size <= 30000);
  TraceReader r(tmp.path());
  CHECK(!r.complete());
  CHECK(r.event_count() > 0);
  // The partial chunk was cut off: the file ends with the last whole chunk.
  CHECK(r.incomplete_reason().find("ends at offset " + std::to_string(size) + " of " + std::to_string(size)) !=
        std::string::npos);
  CHECK(read_all_checked(r) == r.event_count());
}
