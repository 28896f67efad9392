// Trace format throughput: writes a synthetic stream shaped like a
// syscall-heavy program, reads it back sequentially and by seek, and prints
// the rates and sizes. Prints, never asserts.
//
//   trace_format_bench [EVENTS (1000000)] [ZSTD_LEVEL (3)] [CHUNK_KIB (256)]
//
// Event mix (per 1000): 450 read(2) with 0-512 bytes of text written to
// memory, 350 write(2), 60 fstat(2) with a 144-byte struct stat, 60 openat(2)
// with a path string, 70 other small syscalls (close, lseek, mmap, brk),
// 10 read(2) of 64 KiB.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "trace_format/format.h"
#include "trace_format/trace_reader.h"
#include "trace_format/trace_writer.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Pseudo-English text, the kind of bytes programs read and write.
std::string make_text(size_t n, std::mt19937_64& rng) {
  static const char* words[] = {
      "the",   "of",     "and",    "to",     "in",    "is",       "that",   "for",    "it",
      "as",    "with",   "was",    "on",     "be",    "by",       "this",   "are",    "from",
      "or",    "have",   "an",     "they",   "which", "one",      "you",    "were",   "her",
      "all",   "she",    "there",  "would",  "their", "we",       "him",    "been",   "has",
      "when",  "who",    "will",   "more",   "no",    "if",       "out",    "so",     "said",
      "what",  "up",     "its",    "about",  "into",  "than",     "them",   "can",    "only",
      "other", "new",    "some",   "could",  "time",  "these",    "two",    "may",    "then",
      "do",    "first",  "any",    "my",     "now",   "such",     "like",   "our",    "over",
      "error", "config", "value",  "return", "file",  "request",  "status", "200",    "GET",
      "/usr",  "lib",    "x86_64", "ok",     "debug", "function", "42",     "0x7ffd", "null"};
  std::string s;
  s.reserve(n + 16);
  size_t line = 0;
  while (s.size() < n) {
    const char* w = words[rng() % (sizeof words / sizeof words[0])];
    s += w;
    line += std::strlen(w) + 1;
    if (line > 60 + rng() % 20) {
      s += '\n';
      line = 0;
    } else {
      s += ' ';
    }
  }
  s.resize(n);
  return s;
}

struct Gen {
  std::mt19937_64 rng{12345};
  std::string text = make_text(8 << 20, rng);
  std::vector<std::string> paths = {"/etc/passwd",
                                    "/usr/lib/x86_64-linux-gnu/libc.so.6",
                                    "/home/user/project/src/main.c",
                                    "/proc/self/maps",
                                    "/tmp/build-1234/output.o",
                                    "/usr/share/locale/locale.alias",
                                    "/var/log/app/requests.log"};
  uint64_t fd_pos = 0;

  const char* slice(size_t n) {
    size_t off = rng() % (text.size() - n);
    return text.data() + off;
  }

  void fill(rrx::schema::Event::Builder e, uint64_t i) {
    e.setTid(4242 + static_cast<int32_t>(i % 3 == 0));
    e.setPid(4242);
    auto s = e.initSyscall();
    auto args = s.initArgs(6);
    s.setIp(0x7f3a1c2e4d1bull + (rng() % 4) * 0x40);
    s.setSp(0x7ffd3c8e1a10ull - (rng() % 16) * 16);
    uint64_t r = i % 1000;
    if (r < 450 || r >= 990) {  // read
      size_t n = r >= 990 ? 65536 : rng() % 513;
      uint64_t buf = 0x55d0c0a02000ull + (rng() % 8) * 0x1000;
      s.setNr(0);
      args.set(0, 3 + rng() % 4);
      args.set(1, buf);
      args.set(2, r >= 990 ? 65536 : 4096);
      s.setRet(static_cast<int64_t>(n));
      if (n > 0) {
        auto mw = s.initMemWrites(1);
        mw[0].setAddr(buf);
        auto d = mw[0].initData(static_cast<unsigned>(n));
        std::memcpy(d.begin(), slice(n), n);
      }
    } else if (r < 800) {  // write
      size_t n = rng() % 513;
      s.setNr(1);
      args.set(0, 1 + rng() % 2);
      args.set(1, 0x55d0c0a06000ull + (rng() % 8) * 0x100);
      args.set(2, n);
      s.setRet(static_cast<int64_t>(n));
    } else if (r < 860) {  // fstat
      uint64_t buf = 0x7ffd3c8e1b00ull;
      s.setNr(5);
      args.set(0, 3 + rng() % 4);
      args.set(1, buf);
      s.setRet(0);
      auto mw = s.initMemWrites(1);
      mw[0].setAddr(buf);
      auto d = mw[0].initData(144);
      uint64_t st[18] = {0x803, 1000 + rng() % 50000, 1, 0100644, 1000, 1000, 0, 4096 + rng() % 100000,
                         4096, 8, 1700000000 + rng() % 1000000, 0, 1700000000, 0, 1700000000, 0, 0, 0};
      std::memcpy(d.begin(), st, 144);
    } else if (r < 920) {  // openat
      const std::string& p = paths[rng() % paths.size()];
      s.setNr(257);
      args.set(0, static_cast<uint64_t>(-100));
      args.set(1, 0x55d0c0a01000ull + rng() % 0x100);
      args.set(2, 0x80000);
      bool fail = rng() % 5 == 0;
      s.setRet(fail ? -2 : 3 + static_cast<int64_t>(rng() % 4));
      s.setIsError(fail);
      auto strs = s.initStrings(1);
      strs[0].setArg(1);
      strs[0].setValue(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(p.data()), p.size()));
    } else {  // close, lseek, mmap, brk
      static const int64_t nrs[] = {3, 8, 9, 12};
      int64_t nr = nrs[rng() % 4];
      s.setNr(nr);
      args.set(0, rng() % 8);
      args.set(1, fd_pos += 4096);
      s.setRet(nr == 9 ? static_cast<int64_t>(0x7f3a1c000000ull + (rng() % 256) * 0x1000) : 0);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  int level = argc > 2 ? std::atoi(argv[2]) : 3;
  size_t chunk_kib = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 256;

  char tmpl[] = "/tmp/rrx-trace-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 1;
  fs::path dir = tmpl;

  // Pass 1: building the messages alone (what the recorder pays anyway).
  double build_s;
  uint64_t raw_bytes = 0;
  {
    Gen gen;
    auto t = Clock::now();
    for (uint64_t i = 0; i < events; ++i) {
      capnp::MallocMessageBuilder mb;
      gen.fill(mb.initRoot<rrx::schema::Event>(), i);
      raw_bytes += capnp::computeSerializedSizeInWords(mb) * sizeof(capnp::word);
    }
    build_s = seconds_since(t);
  }

  // Pass 2: building and appending.
  double write_s, close_s;
  {
    Gen gen;
    capnp::MallocMessageBuilder hb;
    auto h = hb.initRoot<rrx::schema::Header>();
    h.setRrxVersion("bench");
    h.setExePath("/usr/bin/bench");
    rrx::trace::WriterOptions o;
    o.zstd_level = level;
    o.chunk_bytes = chunk_kib * 1024;
    auto t = Clock::now();
    rrx::trace::TraceWriter w(dir, hb, o);
    for (uint64_t i = 0; i < events; ++i) {
      capnp::MallocMessageBuilder mb;
      gen.fill(mb.initRoot<rrx::schema::Event>(), i);
      w.append(mb);
    }
    write_s = seconds_since(t);
    auto tc = Clock::now();
    w.close(0, "exited");
    close_s = seconds_since(tc);
  }
  uint64_t file_bytes = fs::file_size(dir / rrx::trace::kTraceFileName);
  uint64_t index_bytes = fs::file_size(dir / rrx::trace::kIndexFileName);

  // Sequential read, touching the fields a replay would use.
  double open_s, read_s;
  uint64_t checksum = 0, read_count = 0;
  {
    auto t = Clock::now();
    rrx::trace::TraceReader r(dir);
    open_s = seconds_since(t);
    t = Clock::now();
    while (auto ev = r.next()) {
      auto s = ev->get().getSyscall();
      checksum += static_cast<uint64_t>(s.getNr() + s.getRet());
      for (auto mw : s.getMemWrites()) checksum += mw.getData().size();
      ++read_count;
    }
    read_s = seconds_since(t);
  }

  // Opening without the index (a scan of the chunk headers).
  double scan_open_s;
  {
    fs::remove(dir / rrx::trace::kIndexFileName);
    auto t = Clock::now();
    rrx::trace::TraceReader r(dir);
    scan_open_s = seconds_since(t);
  }

  // Random seeks, each followed by one next().
  const int kSeeks = 2000;
  double seek_s;
  {
    rrx::trace::TraceReader r(dir);
    std::mt19937_64 rng(99);
    auto t = Clock::now();
    for (int i = 0; i < kSeeks; ++i) {
      r.seek(rng() % events);
      auto ev = r.next();
      checksum += ev ? ev->number : 0;
    }
    seek_s = seconds_since(t);
  }

  std::printf("trace_format_bench: %llu events, zstd level %d, %zu KiB chunks\n",
              static_cast<unsigned long long>(events), level, chunk_kib);
  std::printf("  build messages only : %8.3f s  %12.0f events/s\n", build_s, events / build_s);
  std::printf("  build + append      : %8.3f s  %12.0f events/s  (writer alone ~%.0f ns/event)\n", write_s,
              events / write_s, (write_s - build_s) * 1e9 / static_cast<double>(events));
  std::printf("  close (End, index, fsync): %.3f s\n", close_s);
  std::printf("  uncompressed        : %12llu bytes  %8.1f bytes/event\n",
              static_cast<unsigned long long>(raw_bytes), static_cast<double>(raw_bytes) / events);
  std::printf("  on disk (trace)     : %12llu bytes  %8.1f bytes/event\n",
              static_cast<unsigned long long>(file_bytes), static_cast<double>(file_bytes) / events);
  std::printf("  index (trace.idx)   : %12llu bytes\n", static_cast<unsigned long long>(index_bytes));
  std::printf("  compression ratio   : %8.2f x\n", static_cast<double>(raw_bytes) / file_bytes);
  std::printf("  open (with index)   : %8.4f s\n", open_s);
  std::printf("  open (scan, no index): %7.4f s\n", scan_open_s);
  std::printf("  sequential read     : %8.3f s  %12.0f events/s  (%llu events)\n", read_s, read_count / read_s,
              static_cast<unsigned long long>(read_count));
  std::printf("  random seek + next  : %8.3f s  %12.0f seeks/s   (%d seeks)\n", seek_s, kSeeks / seek_s, kSeeks);
  std::printf("  (checksum %llu)\n", static_cast<unsigned long long>(checksum));

  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
