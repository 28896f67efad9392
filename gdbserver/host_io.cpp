#include "gdbserver/host_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <vector>

#include "gdbserver/packet_codec.h"

namespace rrx::gdb {

// Target's defaults: the host's own files.
std::string Target::file_for(int, const std::string& path, int&) { return path; }

int Target::readlink_for(int, const std::string& path, std::string& out) {
  std::vector<char> buf(PATH_MAX);
  ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
  if (n < 0) return errno;
  out.assign(buf.data(), static_cast<size_t>(n));
  return 0;
}

namespace {

constexpr size_t kMaxOpenFiles = 256;
// Room in a reply for "F" + count + ";" besides the data.
constexpr size_t kReplyOverhead = 32;

std::string fail(int linux_errno) { return "F-1," + hex_number(static_cast<uint64_t>(HostIo::to_fileio_errno(linux_errno))); }

// "A,B,C" -> fields.
std::vector<std::string_view> split(std::string_view s, size_t max_fields) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < max_fields) {
    auto comma = s.find(',');
    if (comma == std::string_view::npos) break;
    out.push_back(s.substr(0, comma));
    s.remove_prefix(comma + 1);
  }
  out.push_back(s);
  return out;
}

bool parse_int(std::string_view s, int64_t& out) {
  bool neg = !s.empty() && s[0] == '-';
  if (neg) s.remove_prefix(1);
  uint64_t v;
  if (!parse_hex(s, v) || v > static_cast<uint64_t>(INT64_MAX)) return false;
  out = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

// Escapes data into at most `max_out` bytes: returns how many input bytes fit.
size_t escape_into(std::string_view data, size_t max_out, std::string& out) {
  size_t i = 0;
  for (; i < data.size(); ++i) {
    const char c = data[i];
    const bool esc = c == '$' || c == '#' || c == '}' || c == '*';
    if (out.size() + (esc ? 2 : 1) > max_out) break;
    if (esc) {
      out += '}';
      out += static_cast<char>(c ^ 0x20);
    } else {
      out += c;
    }
  }
  return i;
}

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// struct stat -> gdb's struct fio_stat (big-endian, 64 bytes).
std::string fio_stat(const struct ::stat& st) {
  std::string s;
  put_be(s, st.st_dev, 4);
  put_be(s, st.st_ino, 4);
  put_be(s, st.st_mode, 4);
  put_be(s, st.st_nlink, 4);
  put_be(s, st.st_uid, 4);
  put_be(s, st.st_gid, 4);
  put_be(s, st.st_rdev, 4);
  put_be(s, static_cast<uint64_t>(st.st_size), 8);
  put_be(s, static_cast<uint64_t>(st.st_blksize), 8);
  put_be(s, static_cast<uint64_t>(st.st_blocks), 8);
  put_be(s, static_cast<uint64_t>(st.st_atime), 4);
  put_be(s, static_cast<uint64_t>(st.st_mtime), 4);
  put_be(s, static_cast<uint64_t>(st.st_ctime), 4);
  return s;
}

std::string with_data(int64_t result, std::string_view data) {
  std::string out = "F" + hex_number(static_cast<uint64_t>(result)) + ";";
  escape_into(data, SIZE_MAX, out);
  return out;
}

}  // namespace

int HostIo::to_fileio_errno(int e) {
  switch (e) {
    case EPERM: return 1;
    case ENOENT: return 2;
    case EINTR: return 4;
    case EBADF: return 9;
    case EACCES: return 13;
    case EFAULT: return 14;
    case EBUSY: return 16;
    case EEXIST: return 17;
    case ENODEV: return 19;
    case ENOTDIR: return 20;
    case EISDIR: return 21;
    case EINVAL: return 22;
    case ENFILE: return 23;
    case EMFILE: return 24;
    case EFBIG: return 27;
    case ENOSPC: return 28;
    case ESPIPE: return 29;
    case EROFS: return 30;
    case ENOSYS: return 88;
    case ENAMETOOLONG: return 91;
    default: return 9999;  // FILEIO_EUNKNOWN
  }
}

HostIo::~HostIo() { reset(); }

void HostIo::reset() {
  for (int fd : fds_) ::close(fd);
  fds_.clear();
  fs_pid_ = 0;
}

std::string HostIo::handle(std::string_view packet) {
  auto colon = packet.find(':');
  if (colon == std::string_view::npos) return {};
  const std::string_view op = packet.substr(0, colon);
  const std::string_view args = packet.substr(colon + 1);
  if (op == "setfs") {
    int64_t pid;
    if (!parse_int(args, pid) || pid < 0 || pid > INT_MAX) return fail(EINVAL);
    fs_pid_ = static_cast<int>(pid);
    return "F0";
  }
  if (op == "open") return open(args);
  if (op == "pread") return pread(args);
  if (op == "pwrite" || op == "unlink") return fail(EPERM);  // the recorded program's files are read-only
  if (op == "close" || op == "fstat") {
    int64_t fd;
    if (!parse_int(args, fd) || !fds_.count(static_cast<int>(fd))) return fail(EBADF);
    if (op == "fstat") return fstat_reply(static_cast<int>(fd));
    ::close(static_cast<int>(fd));
    fds_.erase(static_cast<int>(fd));
    return "F0";
  }
  if (op == "readlink" || op == "stat") {
    std::string path;
    if (!from_hex(args, path) || path.empty()) return fail(EINVAL);
    if (op == "readlink") {
      std::string target;
      int err = target_.readlink_for(fs_pid_, path, target);
      if (err != 0) return fail(err);
      return with_data(static_cast<int64_t>(target.size()), target);
    }
    int err = 0;
    std::string local = target_.file_for(fs_pid_, path, err);
    if (local.empty()) return fail(err ? err : EACCES);
    struct ::stat st {};
    if (::stat(local.c_str(), &st) != 0) return fail(errno);
    std::string data = fio_stat(st);
    return with_data(static_cast<int64_t>(data.size()), data);
  }
  return {};
}

std::string HostIo::open(std::string_view args) {
  auto f = split(args, 3);
  std::string path;
  int64_t flags = 0, mode = 0;
  if (f.size() != 3 || !from_hex(f[0], path) || path.empty() || !parse_int(f[1], flags) || !parse_int(f[2], mode))
    return fail(EINVAL);
  // Anything but FILEIO_O_RDONLY (0) would write, create or truncate.
  if (flags != 0) return fail(EPERM);
  if (fds_.size() >= kMaxOpenFiles) return fail(EMFILE);
  int err = 0;
  std::string local = target_.file_for(fs_pid_, path, err);
  if (local.empty()) return fail(err ? err : EACCES);
  // Regular files only: a FIFO or a device could block the stub, and the
  // host's /proc files are not the recorded program's.
  int fd = ::open(local.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return fail(errno);
  struct ::stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(S_ISDIR(st.st_mode) ? EISDIR : EACCES);
  }
  fds_.insert(fd);
  return "F" + hex_number(static_cast<uint64_t>(fd));
}

std::string HostIo::pread(std::string_view args) {
  auto f = split(args, 3);
  int64_t fd, count, offset;
  if (f.size() != 3 || !parse_int(f[0], fd) || !parse_int(f[1], count) || !parse_int(f[2], offset) || count < 0 ||
      offset < 0)
    return fail(EINVAL);
  if (!fds_.count(static_cast<int>(fd))) return fail(EBADF);
  // The reply holds at most a packet: escaping may double some bytes, so
  // read a packet's worth and send what fits (gdb asks again for the rest).
  const size_t room = kPacketSize - kReplyOverhead;
  std::string buf(std::min<uint64_t>(static_cast<uint64_t>(count), room), '\0');
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::pread(static_cast<int>(fd), buf.data() + got, buf.size() - got, offset + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  std::string data;
  size_t fit = escape_into(std::string_view(buf.data(), got), room, data);
  return "F" + hex_number(fit) + ";" + data;
}

std::string HostIo::fstat_reply(int fd) {
  struct ::stat st {};
  if (::fstat(fd, &st) != 0) return fail(errno);
  std::string data = fio_stat(st);
  return with_data(static_cast<int64_t>(data.size()), data);
}

}  // namespace rrx::gdb
