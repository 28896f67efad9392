// GdbServer over a real loopback socket, driven by a raw TCP client.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "gdb_mock_target.h"
#include "gdbserver/connection.h"
#include "gdbserver/gdb_server.h"
#include "gdbserver/packet_codec.h"

using namespace rrx::gdb;
using rrx::gdb::testing::MockTarget;

namespace {

class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawClient() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      REQUIRE(n > 0);
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  void send_packet(std::string_view payload) { send(frame_packet(payload)); }

  // Reads more bytes into the buffer; false on EOF or timeout.
  bool fill(int timeout_ms = 5000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buf_.append(buf, static_cast<size_t>(n));
    return true;
  }

  // Next single byte ('+' / '-'), skipping nothing.
  char next_byte() {
    while (buf_.empty()) REQUIRE(fill());
    char c = buf_[0];
    buf_.erase(0, 1);
    return c;
  }

  // Next complete packet; `acks` gets the '+'/'-' bytes seen before it.
  std::string next_packet(std::string* acks = nullptr) {
    for (;;) {
      auto start = buf_.find('$');
      if (start != std::string::npos) {
        auto hash = buf_.find('#', start);
        if (hash != std::string::npos && buf_.size() >= hash + 3) {
          if (acks) *acks = buf_.substr(0, start);
          std::string raw = buf_.substr(start + 1, hash - start - 1);
          CHECK(frame_packet(raw) == buf_.substr(start, hash + 3 - start));
          buf_.erase(0, hash + 3);
          return raw;
        }
      }
      REQUIRE(fill());
    }
  }

  // Sends a packet and returns the reply, handling acks as gdb does.
  std::string transact(std::string_view payload, bool acks) {
    send_packet(payload);
    std::string seen;
    std::string reply = next_packet(&seen);
    if (acks) {
      CHECK(seen == "+");
      send("+");
    } else {
      CHECK(seen.empty());
    }
    return reply;
  }

  bool closed_by_peer(int timeout_ms = 3000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!eof_ && std::chrono::steady_clock::now() < deadline) fill(100);
    return eof_;
  }

  std::string& buffer() { return buf_; }

 private:
  int fd_ = -1;
  std::string buf_;
  bool eof_ = false;
};

struct ServerThread {
  MockTarget& target;
  Connection& conn;
  GdbServer server;
  std::future<void> done;

  ServerThread(MockTarget& t, Connection& c) : target(t), conn(c), server(t) {
    done = std::async(std::launch::async, [this] { server.serve(conn); });
  }
  bool finished(int timeout_ms = 5000) {
    return done.wait_for(std::chrono::milliseconds(timeout_ms)) == std::future_status::ready;
  }
  ~ServerThread() {
    if (done.valid()) done.wait();
  }
};

}  // namespace

TEST_CASE("gdbserver: socket session with acks, no-ack mode, garbage and a second client") {
  MockTarget t;
  Connection conn = Connection::listen(0);
  REQUIRE(conn.port() != 0);
  ServerThread st(t, conn);

  RawClient c(conn.port());
  c.send("+");  // gdb starts with an ack
  std::string sup = c.transact("qSupported:swbreak+;hwbreak+", true);
  CHECK(sup.find("PacketSize=10000") != std::string::npos);
  CHECK(c.transact("?", true).rfind("T05thread:3e8;", 0) == 0);

  // Bad checksum: '-' and nothing else.
  c.send("$qC#00");
  CHECK(c.next_byte() == '-');
  // The retransmission works.
  CHECK(c.transact("qC", true) == "QC3e8");

  // A '-' from us makes the server retransmit.
  c.send_packet("qC");
  std::string acks;
  CHECK(c.next_packet(&acks) == "QC3e8");
  CHECK(acks == "+");
  c.send("-");
  CHECK(c.next_packet(&acks) == "QC3e8");
  CHECK(acks.empty());
  c.send("+");

  // Garbage between packets is skipped.
  c.send("garbage\r\n!!");
  CHECK(c.transact("qC", true) == "QC3e8");

  // No-ack mode.
  CHECK(c.transact("QStartNoAckMode", true) == "OK");
  CHECK(c.transact("qC", false) == "QC3e8");
  CHECK(c.transact("m400000,4", false) == "deadbeef");

  // An oversized packet is dropped with an error reply; the session goes on.
  c.send("$" + std::string(kPacketSize + 4096, 'a') + "#00");
  CHECK(c.next_packet() == "E.packet too long");
  CHECK(c.transact("qC", false) == "QC3e8");

  // A second client is turned away; the first one keeps working.
  {
    RawClient second(conn.port());
    CHECK(second.closed_by_peer());
  }
  CHECK(c.transact("qC", false) == "QC3e8");
  CHECK(conn.stats().rejected_clients >= 1);

  // Detach ends serve().
  CHECK(c.transact("D", false) == "OK");
  CHECK(st.finished());
  CHECK(c.closed_by_peer());
}

TEST_CASE("gdbserver: socket interrupt while the target runs") {
  MockTarget t;
  t.block_until_interrupt = true;
  Connection conn = Connection::listen(0);
  ServerThread st(t, conn);
  RawClient c(conn.port());
  CHECK(c.transact("QStartNoAckMode", true) == "OK");

  c.send_packet("vCont;c");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(c.buffer().empty());
  c.send("\x03");
  std::string stop = c.next_packet();
  CHECK(stop.rfind("T02thread:3e8;", 0) == 0);
  CHECK(t.interrupt_requests == 1);

  // ^C arriving in the same segment as the vCont.
  c.send(frame_packet("vCont;c") + "\x03");
  CHECK(c.next_packet().rfind("T02", 0) == 0);
  CHECK(t.interrupt_requests == 2);

  // ^C while stopped is ignored.
  c.send("\x03");
  CHECK(c.transact("qC", false) == "QC3e8");
  CHECK(t.interrupt_requests == 2);

  // gdb going away while the target runs stops the target and ends serve().
  c.send_packet("vCont;c");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  c.close();
  CHECK(st.finished());
  CHECK(t.interrupt_requests == 3);
}

TEST_CASE("gdbserver: socket client disconnecting mid-packet ends the session") {
  MockTarget t;
  Connection conn = Connection::listen(0);
  {
    ServerThread st(t, conn);
    RawClient c(conn.port());
    CHECK(c.transact("qC", true) == "QC3e8");
    c.send("$m4000");
    c.close();
    CHECK(st.finished());
  }
  CHECK_FALSE(conn.connected());
  // The listener stays: the next client gets a fresh session (acks on again).
  ServerThread st2(t, conn);
  RawClient c2(conn.port());
  CHECK(c2.transact("qC", true) == "QC3e8");
  c2.close();
  CHECK(st2.finished());
}

TEST_CASE("gdbserver: socket accept with a timeout") {
  Connection conn = Connection::listen(0);
  CHECK_FALSE(conn.accept(50));
  RawClient c(conn.port());
  CHECK(conn.accept(2000));
  CHECK(conn.connected());
  conn.close_client();
  CHECK(c.closed_by_peer());
}
