// Tests of the sent-bytes digest (core/output_digest.h): which bytes of a
// write/writev/sendmsg/sendmmsg count, and that the CRC-32C over the pieces
// equals the CRC of the bytes the kernel took.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <cstring>
#include <string>

#include "core/hash.h"
#include "core/output_digest.h"
#include "core/syscall_table.h"

using namespace rrx;

namespace {

// Reads this process's own memory; addresses in `bad` fault.
class SelfMem : public sys::MemReader {
 public:
  uint64_t bad = 0;
  bool read(uint64_t addr, void* buf, size_t len) override {
    if (bad != 0 && addr <= bad && bad < addr + len) return false;
    std::memcpy(buf, reinterpret_cast<const void*>(addr), len);
    return true;
  }
};

uint64_t ptr(const void* p) { return reinterpret_cast<uint64_t>(p); }

sys::CallView call(int64_t nr, std::initializer_list<uint64_t> args, int64_t ret) {
  sys::CallView c{nr, {}, ret};
  int i = 0;
  for (uint64_t a : args) c.args[i++] = a;
  return c;
}

uint32_t crc_of(const std::string& s) { return crc32c(s.data(), s.size()); }

}  // namespace

TEST_CASE("the syscall table says which calls send bytes to an fd, and in which shape") {
  using sys::Sends;
  auto shape = [](int64_t nr) { return sys::lookup(nr)->sends.shape; };
  CHECK(shape(SYS_write) == Sends::Buf);
  CHECK(shape(SYS_pwrite64) == Sends::Buf);
  CHECK(shape(SYS_sendto) == Sends::Buf);
  CHECK(shape(SYS_writev) == Sends::Iovec);
  CHECK(shape(SYS_pwritev) == Sends::Iovec);
  CHECK(shape(SYS_pwritev2) == Sends::Iovec);
  CHECK(shape(SYS_sendmsg) == Sends::Msghdr);
  CHECK(shape(SYS_sendmmsg) == Sends::Mmsghdr);
  for (int64_t nr : {SYS_read, SYS_readv, SYS_recvmsg, SYS_sendfile, SYS_getpid, SYS_vmsplice}) {
    INFO(sys::syscall_name(nr));
    CHECK(shape(nr) == Sends::None);
  }
}

TEST_CASE("write: the digest covers the first ret bytes of the buffer") {
  SelfMem mem;
  const std::string text = "hello, world\n";
  const sys::SyscallDesc& d = *sys::lookup(SYS_write);
  auto full = sent_digest(d, call(SYS_write, {1, ptr(text.data()), text.size()}, 13), mem);
  REQUIRE(full);
  CHECK(full->bytes == 13);
  CHECK(full->crc == crc_of(text));
  // A short write sent a prefix: only that counts.
  auto shrt = sent_digest(d, call(SYS_write, {1, ptr(text.data()), text.size()}, 5), mem);
  REQUIRE(shrt);
  CHECK(shrt->bytes == 5);
  CHECK(shrt->crc == crc_of("hello"));
  CHECK(sent_bytes(d, call(SYS_write, {1, ptr(text.data()), text.size()}, 5), mem) == "hello");
  // Nothing written: an empty digest; a failed call: none at all.
  auto none = sent_digest(d, call(SYS_write, {1, ptr(text.data()), 0}, 0), mem);
  REQUIRE(none);
  CHECK(none->bytes == 0);
  CHECK_FALSE(sent_digest(d, call(SYS_write, {1, ptr(text.data()), 13}, -EAGAIN), mem));
  CHECK_FALSE(sent_digest(*sys::lookup(SYS_read), call(SYS_read, {0, ptr(text.data()), 13}, 13), mem));
}

TEST_CASE("writev: the digest runs over the iovecs in order, up to ret") {
  SelfMem mem;
  std::string a = "first ", b = "", c = "second ", e = "third\n";
  struct iovec iov[4] = {{a.data(), a.size()}, {b.data(), 0}, {c.data(), c.size()}, {e.data(), e.size()}};
  const sys::SyscallDesc& d = *sys::lookup(SYS_writev);
  const std::string all = a + b + c + e;

  auto full = sent_digest(d, call(SYS_writev, {1, ptr(iov), 4}, static_cast<int64_t>(all.size())), mem);
  REQUIRE(full);
  CHECK(full->bytes == all.size());
  CHECK(full->crc == crc_of(all));
  // The CRC of the pieces chained is the CRC of their concatenation, not of
  // each piece alone.
  CHECK(full->crc != (crc_of(a) ^ crc_of(c) ^ crc_of(e)));

  // A short writev that stops inside the third iovec.
  auto part = sent_digest(d, call(SYS_writev, {1, ptr(iov), 4}, 9), mem);
  REQUIRE(part);
  CHECK(part->bytes == 9);
  CHECK(part->crc == crc_of("first sec"));
  auto ranges = sent_ranges(d, call(SYS_writev, {1, ptr(iov), 4}, 9), mem);
  REQUIRE(ranges.size() == 2);
  CHECK(ranges[0] == sys::Range{ptr(a.data()), 6});
  CHECK(ranges[1] == sys::Range{ptr(c.data()), 3});

  // Other bytes, same lengths: another digest.
  std::string c2 = "SECOND ";
  struct iovec iov2[4] = {iov[0], iov[1], {c2.data(), c2.size()}, iov[3]};
  auto other = sent_digest(d, call(SYS_writev, {1, ptr(iov2), 4}, static_cast<int64_t>(all.size())), mem);
  REQUIRE(other);
  CHECK(other->crc != full->crc);

  // pwritev and pwritev2 read the same shape.
  auto pv = sent_digest(*sys::lookup(SYS_pwritev2), call(SYS_pwritev2, {3, ptr(iov), 4, 0, 0, 0}, 9), mem);
  REQUIRE(pv);
  CHECK(pv->crc == part->crc);

  // Unreadable data: no digest (replay reports it rather than guessing).
  mem.bad = ptr(e.data()) + 1;
  CHECK_FALSE(sent_digest(d, call(SYS_writev, {1, ptr(iov), 4}, static_cast<int64_t>(all.size())), mem));
}

TEST_CASE("sendmsg and sendmmsg: the iovecs behind the msghdr, per message up to msg_len") {
  SelfMem mem;
  std::string a = "alpha ", b = "beta\n", c = "gamma\n";
  struct iovec iov1[2] = {{a.data(), a.size()}, {b.data(), b.size()}};
  struct msghdr m {};
  m.msg_iov = iov1;
  m.msg_iovlen = 2;
  auto sm = sent_digest(*sys::lookup(SYS_sendmsg), call(SYS_sendmsg, {3, ptr(&m), 0}, 11), mem);
  REQUIRE(sm);
  CHECK(sm->crc == crc_of(a + b));

  struct iovec iov2[1] = {{c.data(), c.size()}};
  struct mmsghdr mm[3] {};
  mm[0].msg_hdr = m;
  mm[0].msg_len = 8;  // the kernel sent 8 of the 11 bytes of the first message
  mm[1].msg_hdr.msg_iov = iov2;
  mm[1].msg_hdr.msg_iovlen = 1;
  mm[1].msg_len = 6;
  mm[2].msg_hdr = m;  // not sent: ret is 2
  mm[2].msg_len = 0;
  auto smm = sent_digest(*sys::lookup(SYS_sendmmsg), call(SYS_sendmmsg, {3, ptr(mm), 3, 0}, 2), mem);
  REQUIRE(smm);
  CHECK(smm->bytes == 14);
  CHECK(smm->crc == crc_of("alpha be" + c));
}
