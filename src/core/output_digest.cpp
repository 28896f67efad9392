// Locating and hashing the bytes a syscall sends to a file descriptor (see
// output_digest.h). The shapes (buffer, iovec array, msghdr, mmsghdr array)
// come from the syscall table's `sends` column.
#include "core/output_digest.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstddef>

#include "core/hash.h"

namespace rrx {

namespace {

constexpr uint64_t kMaxIov = 1024;  // UIO_MAXIOV
constexpr size_t kPiece = 64 * 1024;

void add(std::vector<sys::Range>& out, uint64_t addr, uint64_t len) {
  if (len > 0) out.push_back({addr, len});
}

// Up to `total` bytes of the `count` iovecs at `iov`. Returns the bytes taken.
uint64_t walk_iovec(sys::MemReader& mem, uint64_t iov, uint64_t count, uint64_t total,
                    std::vector<sys::Range>& out) {
  uint64_t taken = 0;
  count = std::min(count, kMaxIov);
  for (uint64_t i = 0; i < count && taken < total; ++i) {
    struct iovec v {};
    if (!mem.read(iov + i * sizeof v, &v, sizeof v)) break;
    const uint64_t take = std::min<uint64_t>(v.iov_len, total - taken);
    add(out, reinterpret_cast<uint64_t>(v.iov_base), take);
    taken += take;
  }
  return taken;
}

void walk_msghdr(sys::MemReader& mem, uint64_t addr, uint64_t total, std::vector<sys::Range>& out) {
  struct msghdr m {};
  if (!mem.read(addr, &m, sizeof m)) return;
  walk_iovec(mem, reinterpret_cast<uint64_t>(m.msg_iov), m.msg_iovlen, total, out);
}

}  // namespace

std::vector<sys::Range> sent_ranges(const sys::SyscallDesc& desc, const sys::CallView& call, sys::MemReader& mem) {
  std::vector<sys::Range> out;
  const sys::SendsFrom& s = desc.sends;
  if (s.shape == sys::Sends::None || s.arg < 0 || s.arg > 5 || s.n > 5) return out;
  if (sys::is_error_return(call.ret) || call.ret <= 0) return out;
  const uint64_t ret = static_cast<uint64_t>(call.ret);
  const uint64_t p = call.args[s.arg];
  switch (s.shape) {
    case sys::Sends::None:
      break;
    case sys::Sends::Buf:
      add(out, p, std::min(ret, call.args[s.n]));
      break;
    case sys::Sends::Iovec:
      walk_iovec(mem, p, call.args[s.n], ret, out);
      break;
    case sys::Sends::Msghdr:
      walk_msghdr(mem, p, ret, out);
      break;
    case sys::Sends::Mmsghdr:
      // The kernel stored each sent message's length in its msg_len.
      for (uint64_t i = 0; i < ret && i < std::min<uint64_t>(call.args[s.n], kMaxIov); ++i) {
        const uint64_t entry = p + i * sizeof(struct mmsghdr);
        struct mmsghdr m {};
        if (!mem.read(entry, &m, sizeof m)) break;
        walk_iovec(mem, reinterpret_cast<uint64_t>(m.msg_hdr.msg_iov), m.msg_hdr.msg_iovlen, m.msg_len, out);
      }
      break;
  }
  return out;
}

bool visit_sent_bytes(const sys::SyscallDesc& desc, const sys::CallView& call, sys::MemReader& mem,
                      const std::function<void(const char* data, size_t len)>& piece) {
  static thread_local std::vector<char> buf(kPiece);
  for (const sys::Range& r : sent_ranges(desc, call, mem)) {
    for (uint64_t done = 0; done < r.len;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(r.len - done, kPiece));
      if (!mem.read(r.addr + done, buf.data(), n)) return false;
      piece(buf.data(), n);
      done += n;
    }
  }
  return true;
}

std::optional<SentDigest> sent_digest(const sys::SyscallDesc& desc, const sys::CallView& call, sys::MemReader& mem) {
  if (desc.sends.shape == sys::Sends::None || sys::is_error_return(call.ret)) return std::nullopt;
  SentDigest d;
  bool ok = visit_sent_bytes(desc, call, mem, [&](const char* data, size_t len) {
    d.crc = crc32c(data, len, d.crc);
    d.bytes += len;
  });
  if (!ok) return std::nullopt;
  return d;
}

std::optional<std::string> sent_bytes(const sys::SyscallDesc& desc, const sys::CallView& call, sys::MemReader& mem) {
  if (desc.sends.shape == sys::Sends::None || sys::is_error_return(call.ret)) return std::nullopt;
  std::string bytes;
  bool ok = visit_sent_bytes(desc, call, mem, [&](const char* data, size_t len) { bytes.append(data, len); });
  if (!ok) return std::nullopt;
  return bytes;
}

}  // namespace rrx
