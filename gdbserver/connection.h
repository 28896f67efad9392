// The stub's end of a gdb remote connection: a TCP listener on loopback
// serving one client at a time, packet framing with acknowledgements, and
// the ^C watch while the target runs.
//
// Threads: every method is called from one thread (the one that runs
// GdbServer::serve), except that run_watching_interrupts() lends the socket
// to a helper thread for the duration of its `body`; that thread only reads
// and calls `on_interrupt`.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gdbserver/packet_codec.h"

namespace rrx::gdb {

class Connection {
 public:
  // Binds `address`:`port` (port 0: a free port, see port()) and listens.
  // Throws rrx::Error.
  static Connection listen(uint16_t port = 0, const std::string& address = "127.0.0.1");

  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  uint16_t port() const { return port_; }

  // Waits for a client (timeout_ms < 0: forever). Returns false on timeout.
  // Clients that connect while one is served are accepted and closed at
  // once (whenever this connection is waiting on its client).
  bool accept(int timeout_ms = -1);
  bool connected() const { return client_fd_ >= 0; }
  // Ends the current client's session (the listener stays open).
  void close_client();

  struct Incoming {
    enum class Kind { Packet, Closed } kind = Kind::Closed;
    std::string payload;
  };
  // Blocks until the next packet from the client (acknowledged with '+'
  // while acks are on) or until the client is gone. Interrupts received
  // while the target is stopped are ignored. Packets with a bad checksum
  // are answered '-' (acks on) or accepted (acks off, as gdbserver does);
  // oversized ones are dropped and answered '-' or "E.packet too long".
  Incoming next_packet();

  // Sends one packet (payload framed as is: see frame_packet) and, while
  // acks are on, waits for its '+', retransmitting on '-' up to
  // kMaxRetransmits times. Returns false when the client is gone.
  bool send_packet(std::string_view payload);

  // Acknowledgement mode; off after QStartNoAckMode (set it after sending
  // the OK reply).
  void set_ack_mode(bool on) { acks_ = on; }
  bool ack_mode() const { return acks_; }

  // Runs `body` while a helper thread watches the client socket: a 0x03
  // from gdb, or the client going away, calls `on_interrupt` (from the
  // helper thread; never after `body` has returned). Bytes read meanwhile
  // are decoded and kept for next_packet().
  void run_watching_interrupts(const std::function<void()>& on_interrupt,
                               const std::function<void()>& body);

  // Counters, for logs and tests.
  struct Stats {
    uint64_t packets_in = 0, packets_out = 0, bad_checksums = 0, oversized = 0,
             retransmits = 0, rejected_clients = 0, interrupts = 0;
  };
  const Stats& stats() const { return stats_; }
  uint64_t garbage_bytes() const { return decoder_.garbage_bytes(); }

  static constexpr int kMaxRetransmits = 8;

 private:
  Connection() = default;
  void close_all();
  // Polls client (and listener, to turn away extra clients), reads what is
  // there and decodes it into pending_. Returns false when the client is
  // gone. `extra_fd`, if >= 0, is polled too; when it becomes readable the
  // call returns true with `*extra_ready` set.
  bool read_some(int extra_fd = -1, bool* extra_ready = nullptr);
  void reject_pending_clients();
  bool write_all(std::string_view bytes);

  int listen_fd_ = -1;
  int client_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: stops the interrupt watcher
  uint16_t port_ = 0;
  bool acks_ = true;
  bool peer_closed_ = false;
  PacketDecoder decoder_;
  std::deque<DecoderEvent> pending_;
  std::vector<DecoderEvent> scratch_;
  Stats stats_;
};

}  // namespace rrx::gdb
