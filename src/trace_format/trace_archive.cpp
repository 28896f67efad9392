// The trace archive (trace_archive.h): a small tar writer and reader for
// regular files and directories (pax headers for long names, big sizes and
// sparse files), zstd streaming around it, and the unpack cache.
#include "trace_format/trace_archive.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/hash.h"
#include "core/unique_fd.h"
#include "trace_format/format.h"
#include "trace_format/sparse_file.h"
#include "trace_format/trace_pack.h"

namespace fs = std::filesystem;

namespace rrx::trace {

namespace {

constexpr size_t kBlock = 512;
constexpr unsigned char kZstdMagic[4] = {0x28, 0xb5, 0x2f, 0xfd};
constexpr uint64_t kMaxOctal11 = 077777777777ull;  // the largest size a ustar field holds

void write_all(int fd, const void* data, size_t len, const std::string& what) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t w = ::write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot write " + what);
    }
    p += w;
    len -= static_cast<size_t>(w);
  }
}

// ---- zstd streams

class ZstdWriter {
 public:
  ZstdWriter(int fd, std::string name) : fd_(fd), name_(std::move(name)), cctx_(ZSTD_createCCtx()), out_(ZSTD_CStreamOutSize()) {
    if (cctx_ == nullptr) throw Error("cannot create a zstd compressor");
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);  // a damaged archive is an error, not other bytes
  }
  ~ZstdWriter() { ZSTD_freeCCtx(cctx_); }
  void write(const void* data, size_t len) { pump(data, len, ZSTD_e_continue); }
  void finish() { pump(nullptr, 0, ZSTD_e_end); }

 private:
  void pump(const void* data, size_t len, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{data, len, 0};
    for (;;) {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      size_t left = ZSTD_compressStream2(cctx_, &out, &in, mode);
      if (ZSTD_isError(left)) throw Error(std::string("zstd compression failed: ") + ZSTD_getErrorName(left));
      write_all(fd_, out_.data(), out.pos, name_);
      if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) break;
    }
  }
  int fd_;
  std::string name_;
  ZSTD_CCtx* cctx_;
  std::vector<char> out_;
};

class ZstdReader {
 public:
  ZstdReader(int fd, std::string name) : fd_(fd), name_(std::move(name)), dctx_(ZSTD_createDCtx()), in_(ZSTD_DStreamInSize()) {
    if (dctx_ == nullptr) throw Error("cannot create a zstd decompressor");
  }
  ~ZstdReader() { ZSTD_freeDCtx(dctx_); }
  // Exactly len bytes of the decompressed stream; throws at its end.
  void read(void* data, size_t len) {
    ZSTD_outBuffer out{data, len, 0};
    while (out.pos < out.size) {
      if (in_pos_ == in_len_ && !refill()) {
        throw Error("it is truncated (it ends inside the compressed stream, after " +
                    std::to_string(total_in_) + " bytes)");
      }
      ZSTD_inBuffer in{in_.data(), in_len_, in_pos_};
      size_t r = ZSTD_decompressStream(dctx_, &out, &in);
      if (ZSTD_isError(r))
        throw Error("it is damaged near byte " + std::to_string(total_in_) + ": " +
                    ZSTD_getErrorName(r));
      in_pos_ = in.pos;
      frame_done_ = r == 0;
    }
  }
  // After the tar's end: the frame must end too (its checksum is checked
  // there), with nothing after it.
  void finish() {
    char scratch[4096];
    while (!frame_done_) {
      if (in_pos_ == in_len_ && !refill())
        throw Error("it is truncated (its compressed stream does not end)");
      ZSTD_outBuffer out{scratch, sizeof scratch, 0};
      ZSTD_inBuffer in{in_.data(), in_len_, in_pos_};
      size_t r = ZSTD_decompressStream(dctx_, &out, &in);
      if (ZSTD_isError(r))
        throw Error("it is damaged near byte " + std::to_string(total_in_) + ": " +
                    ZSTD_getErrorName(r));
      in_pos_ = in.pos;
      if (out.pos != 0) throw Error("it has data after the end of its tar");
      frame_done_ = r == 0;
    }
    if (in_pos_ != in_len_ || refill()) throw Error("it has bytes after its end");
  }

 private:
  bool refill() {
    for (;;) {
      ssize_t n = ::read(fd_, in_.data(), in_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_errno("cannot read " + name_);
      in_len_ = static_cast<size_t>(n);
      in_pos_ = 0;
      total_in_ += in_len_;
      return n > 0;
    }
  }
  int fd_;
  std::string name_;
  ZSTD_DCtx* dctx_;
  std::vector<char> in_;
  size_t in_len_ = 0, in_pos_ = 0;
  uint64_t total_in_ = 0;
  bool frame_done_ = false;
};

// ---- tar

// Zero-padded octal, NUL-terminated; callers put values that do not fit in
// a pax header instead (sizes), so none is cut here.
void put_octal(char* field, size_t width, uint64_t v) {
  field[width - 1] = '\0';
  for (size_t i = width - 1; i-- > 0; v >>= 3) field[i] = static_cast<char>('0' + (v & 7));
}

void put_checksum(unsigned char* h) {
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (size_t i = 0; i < kBlock; ++i) sum += h[i];
  std::snprintf(reinterpret_cast<char*>(h) + 148, 8, "%06o", sum);
  h[155] = ' ';
}

// "LEN key=value\n", LEN counting itself.
std::string pax_record(const std::string& key, const std::string& value) {
  size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'
  size_t len = body + 1;
  while (std::to_string(len).size() + body != len) ++len;
  return std::to_string(len) + " " + key + "=" + value + "\n";
}

class TarWriter {
 public:
  explicit TarWriter(ZstdWriter& z) : z_(z) {}

  void directory(const std::string& name, mode_t mode, int64_t mtime) {
    header(name + "/", mode, 0, mtime, '5', {});
  }

  // A regular file from fd, size bytes; sparse (pax 1.0) when it has holes.
  void file(const std::string& name, int fd, mode_t mode, uint64_t size, int64_t mtime, const std::string& what) {
    std::vector<Extent> extents = data_extents(fd, 0, size, what);
    uint64_t data = 0;
    for (const Extent& e : extents) data += e.length;
    if (data == size) {
      header(name, mode, size, mtime, '0', {});
      copy(fd, {{0, size}}, size, what);
      pad(size);
      return;
    }
    // GNU pax sparse 1.0: the entry's data starts with the map (count, then
    // offset and length of each extent, in decimal, one a line), padded to a
    // block; then the extents' bytes. A final empty extent at the end of the
    // file gives it its size.
    if (extents.empty() || extents.back().offset + extents.back().length < size) extents.push_back({size, 0});
    std::string map = std::to_string(extents.size()) + "\n";
    for (const Extent& e : extents) map += std::to_string(e.offset) + "\n" + std::to_string(e.length) + "\n";
    map.resize((map.size() + kBlock - 1) / kBlock * kBlock, '\0');
    std::string pax = pax_record("GNU.sparse.major", "1") + pax_record("GNU.sparse.minor", "0") +
                      pax_record("GNU.sparse.name", name) + pax_record("GNU.sparse.realsize", std::to_string(size));
    fs::path p(name);
    std::string stored = (p.parent_path() / "GNUSparseFile.0" / p.filename()).string();
    uint64_t entry = map.size() + data;
    header(stored, mode, entry, mtime, '0', pax);
    z_.write(map.data(), map.size());
    copy(fd, extents, data, what);
    pad(entry);
  }

  void end() {
    unsigned char zero[2 * kBlock] = {};
    z_.write(zero, sizeof zero);
  }

 private:
  void header(const std::string& name, mode_t mode, uint64_t size, int64_t mtime, char type, std::string pax) {
    if (name.size() >= 100) pax += pax_record("path", name);
    if (size > kMaxOctal11) pax += pax_record("size", std::to_string(size));
    if (!pax.empty()) {
      raw_header("PaxHeaders/" + fs::path(name).filename().string().substr(0, 80), 0644, pax.size(), mtime, 'x');
      z_.write(pax.data(), pax.size());
      pad(pax.size());
    }
    raw_header(name.substr(0, 99), mode, size > kMaxOctal11 ? 0 : size, mtime, type);
  }

  void raw_header(const std::string& name, mode_t mode, uint64_t size, int64_t mtime, char type) {
    unsigned char h[kBlock] = {};
    char* c = reinterpret_cast<char*>(h);
    std::memcpy(c, name.data(), std::min<size_t>(name.size(), 99));
    put_octal(c + 100, 8, mode & 07777);
    put_octal(c + 108, 8, 0);
    put_octal(c + 116, 8, 0);
    put_octal(c + 124, 12, size);
    put_octal(c + 136, 12, static_cast<uint64_t>(std::max<int64_t>(mtime, 0)));
    c[156] = type;
    std::memcpy(c + 257, "ustar", 6);
    std::memcpy(c + 263, "00", 2);
    put_checksum(h);
    z_.write(h, kBlock);
  }

  void copy(int fd, const std::vector<Extent>& extents, uint64_t expect, const std::string& what) {
    std::vector<char> buf(1 << 20);
    uint64_t done = 0;
    for (const Extent& e : extents) {
      uint64_t pos = e.offset, end = e.offset + e.length;
      while (pos < end) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - pos));
        ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(pos));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("cannot read " + what);
        if (n == 0) throw Error(what + " shrank while it was archived");
        z_.write(buf.data(), static_cast<size_t>(n));
        pos += static_cast<uint64_t>(n);
        done += static_cast<uint64_t>(n);
      }
    }
    if (done != expect) throw Error(what + " changed while it was archived");
  }

  void pad(uint64_t size) {
    static const unsigned char zero[kBlock] = {};
    size_t rest = static_cast<size_t>(size % kBlock);
    if (rest != 0) z_.write(zero, kBlock - rest);
  }

  ZstdWriter& z_;
};

void archive_tree(TarWriter& tar, const fs::path& dir, const std::string& name) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) throw_errno("cannot stat " + dir.string());
  tar.directory(name, st.st_mode, st.st_mtim.tv_sec);
  std::vector<fs::path> entries;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) entries.push_back(e.path());
  if (ec) throw Error("cannot list " + dir.string() + ": " + ec.message());
  std::sort(entries.begin(), entries.end());
  for (const fs::path& p : entries) {
    std::string leaf = p.filename().string();
    if (p.extension() == ".rrxtmp") continue;  // a temporary of the recorder or of pack
    if (::lstat(p.c_str(), &st) != 0) throw_errno("cannot stat " + p.string());
    std::string child = name + "/" + leaf;
    if (S_ISDIR(st.st_mode)) {
      archive_tree(tar, p, child);
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
      if (fd.get() < 0) throw_errno("cannot open " + p.string());
      tar.file(child, fd.get(), st.st_mode, static_cast<uint64_t>(st.st_size), st.st_mtim.tv_sec, p.string());
    } else {
      throw Error("cannot archive " + p.string() + ": not a regular file or directory");
    }
  }
}

// ---- reading

uint64_t parse_octal(const char* f, size_t width, const std::string& what) {
  uint64_t v = 0;
  size_t i = 0;
  while (i < width && f[i] == ' ') ++i;
  bool any = false;
  for (; i < width && f[i] >= '0' && f[i] <= '7'; ++i) {
    v = v * 8 + static_cast<uint64_t>(f[i] - '0');
    any = true;
  }
  if (!any || (i < width && f[i] != ' ' && f[i] != '\0')) throw Error("bad " + what + " field in a tar header");
  return v;
}

uint64_t parse_decimal(const std::string& s, const std::string& what) {
  if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw Error("bad " + what + " '" + s + "'");
  return std::stoull(s);
}

std::map<std::string, std::string> parse_pax(const std::string& data) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t sp = data.find(' ', pos);
    if (sp == std::string::npos) throw Error("bad pax header");
    uint64_t len = parse_decimal(data.substr(pos, sp - pos), "pax record length");
    if (len < 5 || pos + len > data.size() || data[pos + len - 1] != '\n') throw Error("bad pax record");
    std::string rec = data.substr(sp + 1, pos + len - 1 - (sp + 1));
    size_t eq = rec.find('=');
    if (eq == std::string::npos) throw Error("bad pax record");
    out[rec.substr(0, eq)] = rec.substr(eq + 1);
    pos += len;
  }
  return out;
}

// A relative path of plain components under one top directory.
fs::path safe_path(const std::string& name, std::string& top) {
  std::string n = name;
  while (!n.empty() && n.back() == '/') n.pop_back();
  if (n.empty() || n[0] == '/') throw Error("unsafe entry name '" + name + "'");
  fs::path p(n);
  bool first = true;
  for (const auto& part : p) {
    std::string s = part.string();
    if (s.empty() || s == "." || s == "..") throw Error("unsafe entry name '" + name + "'");
    if (first) {
      if (top.empty()) top = s;
      if (s != top) throw Error("entry '" + name + "' is outside the archive's top directory '" + top + "'");
      first = false;
    }
  }
  return p;
}

void read_entry_data(ZstdReader& z, uint64_t size, const std::function<void(const char*, size_t)>& take) {
  std::vector<char> buf(1 << 20);
  uint64_t left = size;
  while (left > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
    z.read(buf.data(), n);
    take(buf.data(), n);
    left -= n;
  }
  size_t rest = static_cast<size_t>(size % kBlock);
  if (rest != 0) {
    char pad[kBlock];
    z.read(pad, kBlock - rest);
  }
}

// Writes the bytes at pos to fd, leaving zero pages as holes.
void write_sparse(int fd, uint64_t pos, const char* data, size_t n, const std::string& what) {
  for_each_nonzero_run(pos, reinterpret_cast<const unsigned char*>(data), n,
                       [&](uint64_t at, const unsigned char* bytes, size_t len) {
                         while (len > 0) {
                           ssize_t w = ::pwrite(fd, bytes, len, static_cast<off_t>(at));
                           if (w < 0 && errno == EINTR) continue;
                           if (w < 0) throw_errno("cannot write " + what);
                           bytes += w;
                           at += static_cast<uint64_t>(w);
                           len -= static_cast<size_t>(w);
                         }
                       });
}

void extract(ZstdReader& z, const fs::path& dest, std::string& top) {
  std::map<std::string, std::string> pax;
  std::vector<std::pair<fs::path, mode_t>> dir_modes;
  int zero_blocks = 0;
  for (;;) {
    unsigned char h[kBlock];
    z.read(h, kBlock);
    if (all_zero(h, kBlock)) {
      if (++zero_blocks == 2) break;
      continue;
    }
    if (zero_blocks != 0) throw Error("a tar header after an end-of-archive block");
    const char* c = reinterpret_cast<const char*>(h);
    unsigned stored_sum = static_cast<unsigned>(parse_octal(c + 148, 8, "checksum"));
    unsigned sum = 0;
    for (size_t i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : h[i];
    if (sum != stored_sum) throw Error("a tar header's checksum does not match (not an rrx trace archive?)");
    if (std::memcmp(c + 257, "ustar", 5) != 0) throw Error("not a ustar/pax archive");
    char type = c[156];
    uint64_t size = parse_octal(c + 124, 12, "size");
    std::string name(c, strnlen(c, 100));
    std::string prefix(c + 345, strnlen(c + 345, 155));
    if (!prefix.empty()) name = prefix + "/" + name;
    mode_t mode = static_cast<mode_t>(parse_octal(c + 100, 8, "mode")) & 0777;
    if (type == 'x' || type == 'g') {
      if (size > (1u << 20)) throw Error("a pax header of " + std::to_string(size) + " bytes");
      std::string data;
      read_entry_data(z, size, [&](const char* d, size_t n) { data.append(d, n); });
      if (type == 'x') pax = parse_pax(data);
      continue;
    }
    if (auto it = pax.find("path"); it != pax.end()) name = it->second;
    if (auto it = pax.find("size"); it != pax.end()) size = parse_decimal(it->second, "pax size");
    bool sparse = pax.count("GNU.sparse.major") != 0;
    if (sparse) {
      if (pax["GNU.sparse.major"] != "1" || pax["GNU.sparse.minor"] != "0")
        throw Error("unsupported sparse format " + pax["GNU.sparse.major"] + "." + pax["GNU.sparse.minor"]);
      name = pax["GNU.sparse.name"];
    }
    fs::path rel = safe_path(name, top);
    fs::path out = dest / rel;
    if (type == '5') {
      if (!fs::is_directory(out) && ::mkdir(out.c_str(), 0700) != 0) throw_errno("cannot create " + out.string());
      dir_modes.emplace_back(out, mode);
    } else if (type == '0' || type == '\0') {
      UniqueFd fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      if (fd.get() < 0) throw_errno("cannot create " + out.string());
      uint64_t real_size = size;
      if (!sparse) {
        uint64_t pos = 0;
        read_entry_data(z, size, [&](const char* d, size_t n) {
          write_sparse(fd.get(), pos, d, n, out.string());
          pos += n;
        });
      } else {
        real_size = parse_decimal(pax["GNU.sparse.realsize"], "sparse size");
        // The map: decimal lines, in the entry's first blocks.
        std::string map;
        uint64_t used = 0;
        std::vector<uint64_t> nums;
        auto next_num = [&]() -> uint64_t {
          for (;;) {
            size_t nl = map.find('\n');
            if (nl != std::string::npos) {
              uint64_t v = parse_decimal(map.substr(0, nl), "sparse map entry");
              map.erase(0, nl + 1);
              return v;
            }
            if (map.size() > 64 || used + kBlock > size) throw Error("bad sparse map in " + name);
            char b[kBlock];
            z.read(b, kBlock);
            used += kBlock;
            map.append(b, kBlock);
          }
        };
        uint64_t count = next_num();
        std::vector<Extent> extents;
        uint64_t data = 0;
        for (uint64_t i = 0; i < count; ++i) {
          uint64_t off = next_num(), len = next_num();
          if (off + len < off || off + len > real_size) throw Error("bad sparse map in " + name);
          extents.push_back({off, len});
          data += len;
        }
        if (used + data != size) throw Error("bad sparse map in " + name + ": sizes do not add up");
        std::vector<char> buf(1 << 20);
        for (const Extent& e : extents) {
          uint64_t pos = e.offset, end = e.offset + e.length;
          while (pos < end) {
            size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - pos));
            z.read(buf.data(), n);
            write_sparse(fd.get(), pos, buf.data(), n, out.string());
            pos += n;
          }
        }
        size_t rest = static_cast<size_t>(size % kBlock);
        if (rest != 0) {
          char pad[kBlock];
          z.read(pad, kBlock - rest);
        }
      }
      if (::ftruncate(fd.get(), static_cast<off_t>(real_size)) != 0) throw_errno("cannot size " + out.string());
      if (::fchmod(fd.get(), mode) != 0) throw_errno("cannot chmod " + out.string());
    } else {
      throw Error("entry '" + name + "' is of tar type '" + std::string(1, type) +
                  "': an rrx trace archive holds only files and directories");
    }
    pax.clear();
  }
  // Directory modes last, deepest first (files/ is read-only in a packed trace).
  for (auto it = dir_modes.rbegin(); it != dir_modes.rend(); ++it) {
    if (::chmod(it->first.c_str(), it->second) != 0) throw_errno("cannot chmod " + it->first.string());
  }
}

std::string archive_hash(const fs::path& archive) {
  UniqueFd fd(::open(archive.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw_errno("cannot open " + archive.string());
  ContentHasher h;
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("cannot read " + archive.string());
    if (n == 0) break;
    h.update(buf.data(), static_cast<size_t>(n));
  }
  return h.hex();
}

fs::path cache_root() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && xdg[0] == '/') return fs::path(xdg) / "rrx";
  const char* home = std::getenv("HOME");
  std::string h = home != nullptr ? home : "";
  if (h.empty()) {
    struct passwd* pw = ::getpwuid(::getuid());
    if (pw != nullptr && pw->pw_dir != nullptr) h = pw->pw_dir;
  }
  if (h.empty()) throw Error("cannot find a cache directory for the archive: neither XDG_CACHE_HOME nor HOME is set");
  return fs::path(h) / ".cache" / "rrx";
}

fs::path trace_in(const fs::path& unpacked) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(unpacked, ec)) {
    if (e.is_directory(ec) && fs::is_regular_file(e.path() / kTraceFileName, ec)) return e.path();
  }
  throw Error("the archive holds no trace (no DIR/" + std::string(kTraceFileName) + ")");
}

}  // namespace

uint64_t write_trace_archive(const fs::path& dir, const fs::path& out) {
  fs::path tmp = out;
  tmp += "." + std::to_string(::getpid()) + ".rrxtmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (fd.get() < 0) throw_errno("cannot create " + tmp.string());
  try {
    ZstdWriter z(fd.get(), tmp.string());
    TarWriter tar(z);
    archive_tree(tar, dir, dir.filename().string());
    tar.end();
    z.finish();
    if (::fsync(fd.get()) != 0) throw_errno("cannot write " + tmp.string());
    if (::rename(tmp.c_str(), out.c_str()) != 0) throw_errno("cannot create " + out.string());
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  struct stat st {};
  ::fstat(fd.get(), &st);
  return static_cast<uint64_t>(st.st_size);
}

bool is_trace_archive(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return false;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  unsigned char magic[4];
  return ::pread(fd.get(), magic, 4, 0) == 4 && std::memcmp(magic, kZstdMagic, 4) == 0;
}

fs::path unpack_trace_archive(const fs::path& archive, const fs::path& dest) {
  UniqueFd fd(::open(archive.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw_errno("cannot open " + archive.string());
  if (::mkdir(dest.c_str(), 0700) != 0) throw_errno("cannot create " + dest.string());
  try {
    ZstdReader z(fd.get(), archive.string());
    std::string top;
    extract(z, dest, top);
    z.finish();
    if (top.empty()) throw Error("the archive is empty");
    return trace_in(dest);
  } catch (const Error& e) {
    remove_trace_tree(dest);
    throw Error("cannot unpack the trace archive " + archive.string() + ": " + e.what());
  } catch (...) {
    remove_trace_tree(dest);
    throw;
  }
}

fs::path cached_archive_trace(const fs::path& archive) {
  fs::path root = cache_root() / "archives";
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) throw Error("cannot create the cache directory " + root.string() + ": " + ec.message());
  fs::path final_dir = root / archive_hash(archive);
  if (fs::is_directory(final_dir, ec)) return trace_in(final_dir);
  // Unpacked under a temporary name and renamed: the cache holds complete
  // traces only, also when two commands open the same archive at once.
  fs::path tmp = root / ("." + final_dir.filename().string() + "." + std::to_string(::getpid()) + ".rrxtmp");
  remove_trace_tree(tmp);
  unpack_trace_archive(archive, tmp);
  if (::rename(tmp.c_str(), final_dir.c_str()) != 0) {
    int err = errno;
    remove_trace_tree(tmp);
    if (!(err == EEXIST || err == ENOTEMPTY) || !fs::is_directory(final_dir, ec))
      throw_errno("cannot move the unpacked archive to " + final_dir.string(), err);
  }
  return trace_in(final_dir);
}

}  // namespace rrx::trace
