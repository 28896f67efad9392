// The stub's Host I/O (vFile packets): reads through Target::file_for,
// replies in gdb's File-I/O format, refuses writes.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "gdb_mock_target.h"
#include "gdbserver/gdb_server.h"
#include "gdbserver/packet_codec.h"

using namespace rrx::gdb;
using rrx::gdb::testing::MockTarget;

namespace {

std::string ask(GdbServer& s, const std::string& packet) {
  auto r = s.handle_packet(packet);
  REQUIRE(r.packets.size() == 1);
  return r.packets[0];
}

// A target whose "/recorded/lib.so" is a local file, as a replay serves a trace's copy.
class CopyTarget : public MockTarget {
 public:
  std::string copy;
  int last_pid = -1;
  std::string file_for(int pid, const std::string& path, int& error) override {
    last_pid = pid;
    if (path == "/recorded/lib.so") return copy;
    if (path == "/refused") {
      error = EIO;
      return {};
    }
    return MockTarget::file_for(pid, path, error);
  }
  int readlink_for(int pid, const std::string& path, std::string& out) override {
    if (path == "/proc/77/exe") {
      out = "/recorded/prog";
      return 0;
    }
    return MockTarget::readlink_for(pid, path, out);
  }
};

// "Fcount;data": the count and the unescaped data.
std::pair<long, std::string> result(const std::string& reply) {
  REQUIRE(!reply.empty());
  REQUIRE(reply[0] == 'F');
  auto semi = reply.find(';');
  std::string num = reply.substr(1, semi == std::string::npos ? std::string::npos : semi - 1);
  long v = num[0] == '-' ? -std::stol(num.substr(1), nullptr, 16) : std::stol(num, nullptr, 16);
  std::string data;
  if (semi != std::string::npos) REQUIRE(decode_payload(std::string_view(reply).substr(semi + 1), data) == DecodeStatus::Ok);
  return {v, data};
}

}  // namespace

TEST_CASE("gdbserver: vFile reads the target's file for a path, in pieces that fit a packet") {
  char tmpl[] = "/tmp/rrx-hostio-XXXXXX";
  int tfd = mkstemp(tmpl);
  REQUIRE(tfd >= 0);
  // Bytes that need escaping, and more than one packet of them.
  std::string content;
  for (size_t i = 0; i < 3 * kPacketSize; ++i) content += "ab$#}*"[i % 6];
  REQUIRE(write(tfd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  close(tfd);

  CopyTarget t;
  t.copy = tmpl;
  GdbServer s(t);
  CHECK(ask(s, "vFile:setfs:4d") == "F0");
  std::string r = ask(s, "vFile:open:" + to_hex(std::string_view("/recorded/lib.so")) + ",0,0");
  CHECK(t.last_pid == 0x4d);
  long fd = result(r).first;
  REQUIRE(fd >= 0);

  std::string got;
  while (got.size() < content.size()) {
    auto [n, data] = result(ask(s, "vFile:pread:" + hex_number(fd) + ",100000," + hex_number(got.size())));
    REQUIRE(n > 0);
    REQUIRE(static_cast<size_t>(n) == data.size());
    got += data;
  }
  CHECK(got == content);
  CHECK(result(ask(s, "vFile:pread:" + hex_number(fd) + ",10," + hex_number(content.size()))).first == 0);

  auto [len, st] = result(ask(s, "vFile:fstat:" + hex_number(fd)));
  REQUIRE(len == 64);
  REQUIRE(st.size() == 64);
  uint64_t size = 0;
  for (int i = 28; i < 36; ++i) size = (size << 8) | static_cast<unsigned char>(st[i]);  // fst_size, big-endian
  CHECK(size == content.size());

  CHECK(ask(s, "vFile:close:" + hex_number(fd)) == "F0");
  CHECK(ask(s, "vFile:close:" + hex_number(fd)) == "F-1,9");                         // EBADF
  CHECK(ask(s, "vFile:pread:" + hex_number(fd) + ",10,0") == "F-1,9");
  unlink(tmpl);
}

TEST_CASE("gdbserver: vFile refuses writes, reports errors, answers readlink") {
  CopyTarget t;
  GdbServer s(t);
  const std::string lib = to_hex(std::string_view("/recorded/lib.so"));
  CHECK(ask(s, "vFile:open:" + lib + ",1,1a4") == "F-1,1");    // O_WRONLY: EPERM
  CHECK(ask(s, "vFile:open:" + lib + ",202,1a4") == "F-1,1");  // O_RDWR|O_CREAT
  CHECK(ask(s, "vFile:unlink:" + lib) == "F-1,1");
  CHECK(ask(s, "vFile:pwrite:3,0,abc") == "F-1,1");
  CHECK(ask(s, "vFile:open:" + to_hex(std::string_view("/no/such/file")) + ",0,0") == "F-1,2");  // ENOENT
  CHECK(ask(s, "vFile:open:" + to_hex(std::string_view("/refused")) + ",0,0") == "F-1,270f");    // EIO: unknown
  CHECK(ask(s, "vFile:open:zz,0,0") == "F-1,16");                                                 // EINVAL
  CHECK(ask(s, "vFile:open:" + to_hex(std::string_view("/dev/null")) + ",0,0") == "F-1,d");       // EACCES: not a file
  CHECK(ask(s, "vFile:open:" + to_hex(std::string_view("/tmp")) + ",0,0") == "F-1,15");           // EISDIR
  auto [n, link] = result(ask(s, "vFile:readlink:" + to_hex(std::string_view("/proc/77/exe"))));
  CHECK(link == "/recorded/prog");
  CHECK(n == static_cast<long>(link.size()));
  CHECK(ask(s, "vFile:nosuch:1") == "");
}
