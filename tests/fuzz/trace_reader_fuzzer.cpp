// libFuzzer target for the trace reader (built and run by fuzz_trace_reader.sh).
//
// Input: one mode byte, then the bytes of DIR/trace, optionally followed by
// the bytes of DIR/trace.idx:
//   bit 0: recompute the CRC of every chunk whose bytes are all present, so
//          that mutations reach the zstd and Cap'n Proto decoding behind it
//   bit 1: split: the next two bytes (little-endian) give the length of the
//          trace.idx bytes at the end of the input
//   bit 2: recompute the CRC at the end of trace.idx
// The reader may throw TraceError and nothing else; it must not crash, hang
// or allocate without bound. Reading the fields of an event may throw
// kj::Exception (capnp validates lazily; that is documented for callers).
//
// Built with -DRRX_FUZZ_SEED_GENERATOR instead, main() writes seed inputs
// (valid traces in every mode) into the directory given as argv[1].
#include <fcntl.h>
#include <unistd.h>

#include <kj/exception.h>
#include <kj/string.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/hash.h"
#include "trace_format/format.h"
#include "trace_format/trace_reader.h"

namespace {

constexpr uint8_t kFixChunkCrc = 1;
constexpr uint8_t kSplitIndex = 2;
constexpr uint8_t kFixIndexCrc = 4;

void fix_chunk_crcs(std::vector<unsigned char>& t) {
  using namespace rrx::trace;
  uint64_t off = kFileHeaderSize;
  while (off + kChunkHeaderSize <= t.size()) {
    uint32_t csize;
    std::memcpy(&csize, &t[off + 8], 4);
    if (off + kChunkHeaderSize + csize > t.size()) break;
    uint32_t crc = rrx::crc32c(&t[off], kChunkHeaderSize - 4);
    crc = rrx::crc32c(&t[off + kChunkHeaderSize], csize, crc);
    std::memcpy(&t[off + kChunkHeaderSize - 4], &crc, 4);
    off += kChunkHeaderSize + csize;
  }
}

void fix_index_crc(std::vector<unsigned char>& idx) {
  if (idx.size() < 4) return;
  uint32_t crc = rrx::crc32c(idx.data(), idx.size() - 4);
  std::memcpy(&idx[idx.size() - 4], &crc, 4);
}

// Reads every field of an event (capnp's stringify walks them all, by schema).
void touch(rrx::schema::Event::Reader e) {
  try {
    auto s = kj::str(e);
    (void)s;
  } catch (const kj::Exception&) {
  }
}

}  // namespace

#ifndef RRX_FUZZ_SEED_GENERATOR

namespace {

const std::string& work_dir() {
  // Never destroyed: the exit handler that removes it runs after static destructors.
  static const std::string* dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    auto* d = new std::string(std::string(tmp && *tmp ? tmp : "/tmp") + "/rrx-trace-fuzz-XXXXXX");
    if (::mkdtemp(d->data()) == nullptr) std::abort();
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(work_dir(), ec);
    });
    return d;
  }();
  return *dir;
}

void put(const std::string& path, const std::vector<unsigned char>& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) std::abort();
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w <= 0) std::abort();
    done += static_cast<size_t>(w);
  }
  ::close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rrx::trace;
  const std::string& dir = work_dir();
  uint8_t mode = size > 0 ? data[0] : 0;
  const uint8_t* p = size > 0 ? data + 1 : data;
  size_t n = size > 0 ? size - 1 : 0;

  std::vector<unsigned char> trace, index;
  bool has_index = false;
  if ((mode & kSplitIndex) && n >= 2) {
    size_t k = static_cast<size_t>(p[0]) | (static_cast<size_t>(p[1]) << 8);
    p += 2;
    n -= 2;
    if (k > n) k = n;
    trace.assign(p, p + (n - k));
    index.assign(p + (n - k), p + n);
    has_index = true;
  } else {
    trace.assign(p, p + n);
  }
  if (mode & kFixChunkCrc) fix_chunk_crcs(trace);
  if (has_index && (mode & kFixIndexCrc)) fix_index_crc(index);

  put(dir + "/trace", trace);
  if (has_index)
    put(dir + "/trace.idx", index);
  else
    ::unlink((dir + "/trace.idx").c_str());

  try {
    TraceReader r(dir);
    try {
      auto s = kj::str(r.header());
      (void)s;
    } catch (const kj::Exception&) {
    }
    (void)r.complete();
    (void)r.incomplete_reason();
    if (r.end()) (void)r.end()->reason.size();
    uint64_t count = r.event_count();
    uint64_t seen = 0;
    while (auto ev = r.next()) {
      if (ev->number != seen) std::abort();
      touch(ev->get());
      ++seen;
    }
    if (seen != count) std::abort();
    for (uint64_t target : {uint64_t{0}, count / 2, count == 0 ? 0 : count - 1, count, count + 1, ~uint64_t{0}}) {
      r.seek(target);
      auto ev = r.next();
      if (target < count) {
        if (!ev || ev->number != target) std::abort();
        touch(ev->get());
      } else if (ev) {
        std::abort();
      }
    }
  } catch (const TraceError&) {
  }
  return 0;
}

#else  // RRX_FUZZ_SEED_GENERATOR

#include <capnp/message.h>

#include <fstream>

#include "trace_format/trace_writer.h"
#include "trace_test_util.h"

namespace {

std::vector<unsigned char> slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<unsigned char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void seed(const std::filesystem::path& out, const std::string& name, uint8_t mode,
          const std::vector<unsigned char>& trace, const std::vector<unsigned char>& index) {
  std::vector<unsigned char> bytes{mode};
  if (mode & kSplitIndex) {
    bytes.push_back(static_cast<unsigned char>(index.size() & 0xff));
    bytes.push_back(static_cast<unsigned char>(index.size() >> 8));
  }
  bytes.insert(bytes.end(), trace.begin(), trace.end());
  if (mode & kSplitIndex) bytes.insert(bytes.end(), index.begin(), index.end());
  std::ofstream(out / name, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                    static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  using namespace rrx::trace;
  if (argc != 2) return 2;
  fs::path out = argv[1];
  fs::create_directories(out);
  struct Shape {
    const char* name;
    uint64_t events;
    size_t chunk_bytes;
    size_t max_write;
    bool close;
  };
  const Shape shapes[] = {
      {"empty", 0, 4096, 0, true},        {"one-of-each", 9, 4096, 64, true},
      {"chunks", 60, 700, 64, true},      {"big-writes", 6, 4096, 3000, true},
      {"incomplete", 30, 600, 32, false},
  };
  for (const Shape& s : shapes) {
    test::TempDir tmp;
    {
      capnp::MallocMessageBuilder hb;
      test::fill_header(hb.initRoot<rrx::schema::Header>());
      WriterOptions o;
      o.chunk_bytes = s.chunk_bytes;
      TraceWriter w(tmp.path(), hb, o);
      for (uint64_t i = 0; i < s.events; ++i) {
        capnp::MallocMessageBuilder mb;
        test::fill_event(mb.initRoot<rrx::schema::Event>(), i, -1, s.max_write);
        w.append(mb);
      }
      if (s.close) w.close(0, "exited");
    }
    auto trace = slurp(tmp / "trace");
    if (!s.close) {
      trace.resize(trace.size() - 5);  // cut inside the last chunk
      test::write_file(tmp / "trace", trace);
    }
    { TraceReader r(tmp.path()); }  // writes the index of an incomplete trace
    auto index = slurp(tmp / "trace.idx");
    std::string base = s.name;
    seed(out, base + "-plain", 0, trace, {});
    seed(out, base + "-crc", kFixChunkCrc, trace, {});
    seed(out, base + "-index", kSplitIndex | kFixIndexCrc, trace, index);
    seed(out, base + "-all", kFixChunkCrc | kSplitIndex | kFixIndexCrc, trace, index);
  }
  return 0;
}

#endif
