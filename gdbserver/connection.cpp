#include "gdbserver/connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include "core/error.h"

namespace rrx::gdb {

namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

Connection Connection::listen(uint16_t port, const std::string& address) {
  Connection c;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1)
    throw Error("gdb server: bad listen address '" + address + "'");
  c.listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (c.listen_fd_ < 0) throw_errno("gdb server: socket");
  int one = 1;
  ::setsockopt(c.listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(c.listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw_errno("gdb server: bind " + address + ":" + std::to_string(port));
  if (::listen(c.listen_fd_, 4) != 0) throw_errno("gdb server: listen");
  socklen_t len = sizeof addr;
  if (::getsockname(c.listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw_errno("gdb server: getsockname");
  c.port_ = ntohs(addr.sin_port);
  c.wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (c.wake_fd_ < 0) throw_errno("gdb server: eventfd");
  return c;
}

Connection::Connection(Connection&& other) noexcept { *this = std::move(other); }

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    close_all();
    listen_fd_ = std::exchange(other.listen_fd_, -1);
    client_fd_ = std::exchange(other.client_fd_, -1);
    wake_fd_ = std::exchange(other.wake_fd_, -1);
    port_ = other.port_;
    acks_ = other.acks_;
    peer_closed_ = other.peer_closed_;
    decoder_ = std::move(other.decoder_);
    pending_ = std::move(other.pending_);
    stats_ = other.stats_;
  }
  return *this;
}

Connection::~Connection() { close_all(); }

void Connection::close_all() {
  close_fd(client_fd_);
  close_fd(listen_fd_);
  close_fd(wake_fd_);
}

void Connection::close_client() {
  close_fd(client_fd_);
  pending_.clear();
  decoder_.reset();
}

bool Connection::accept(int timeout_ms) {
  if (client_fd_ >= 0) return true;
  for (;;) {
    pollfd p{listen_fd_, POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_errno("gdb server: poll");
    }
    if (r == 0) return false;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) continue;
      throw_errno("gdb server: accept");
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    client_fd_ = fd;
    acks_ = true;
    peer_closed_ = false;
    decoder_.reset();
    pending_.clear();
    return true;
  }
}

void Connection::reject_pending_clients() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    ::close(fd);
    ++stats_.rejected_clients;
  }
}

bool Connection::read_some(int extra_fd, bool* extra_ready) {
  if (client_fd_ < 0 || peer_closed_) return false;
  for (;;) {
    pollfd fds[3] = {{client_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}, {extra_fd, POLLIN, 0}};
    int r = ::poll(fds, extra_fd >= 0 ? 3 : 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      peer_closed_ = true;
      return false;
    }
    if (fds[1].revents & POLLIN) reject_pending_clients();
    if (extra_fd >= 0 && (fds[2].revents & POLLIN)) {
      *extra_ready = true;
      return true;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
      char buf[16384];
      ssize_t n = ::read(client_fd_, buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        peer_closed_ = true;
        return false;
      }
      scratch_.clear();
      decoder_.feed(buf, static_cast<size_t>(n), scratch_);
      for (auto& ev : scratch_) pending_.push_back(std::move(ev));
      return true;
    }
  }
}

bool Connection::write_all(std::string_view bytes) {
  if (client_fd_ < 0 || peer_closed_) return false;
  while (!bytes.empty()) {
    ssize_t n = ::send(client_fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      peer_closed_ = true;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

Connection::Incoming Connection::next_packet() {
  for (;;) {
    while (pending_.empty()) {
      if (!read_some()) return {};
    }
    DecoderEvent ev = std::move(pending_.front());
    pending_.pop_front();
    switch (ev.kind) {
      case DecoderEvent::Kind::Packet:
        if (acks_ && ev.malformed) {
          if (!write_all("-")) return {};
          continue;
        }
        if (acks_ && !write_all("+")) return {};
        ++stats_.packets_in;
        return {Incoming::Kind::Packet, std::move(ev.payload)};
      case DecoderEvent::Kind::BadChecksum:
        ++stats_.bad_checksums;
        if (acks_) {
          if (!write_all("-")) return {};
          continue;
        }
        // Without acks gdb expects a reply; take the packet as gdbserver does.
        ++stats_.packets_in;
        return {Incoming::Kind::Packet, std::move(ev.payload)};
      case DecoderEvent::Kind::Oversized:
        ++stats_.oversized;
        if (acks_) {
          if (!write_all("-")) return {};
        } else if (!send_packet("E.packet too long")) {
          return {};
        }
        continue;
      case DecoderEvent::Kind::Interrupt:
        ++stats_.interrupts;  // the target is stopped already
        continue;
      case DecoderEvent::Kind::Ack:
      case DecoderEvent::Kind::Nak:
        continue;
    }
  }
}

bool Connection::send_packet(std::string_view payload) {
  const std::string framed = frame_packet(payload);
  if (!write_all(framed)) return false;
  ++stats_.packets_out;
  if (!acks_) return true;
  int retransmits = 0;
  for (;;) {
    while (pending_.empty()) {
      if (!read_some()) return false;
    }
    DecoderEvent& ev = pending_.front();
    switch (ev.kind) {
      case DecoderEvent::Kind::Ack:
        pending_.pop_front();
        return true;
      case DecoderEvent::Kind::Nak:
        pending_.pop_front();
        if (++retransmits > kMaxRetransmits) return false;
        ++stats_.retransmits;
        if (!write_all(framed)) return false;
        continue;
      case DecoderEvent::Kind::Interrupt:
        pending_.pop_front();
        ++stats_.interrupts;
        continue;
      default:
        // gdb sent its next packet without acknowledging ours: take that
        // as the acknowledgement and leave the packet for next_packet().
        return true;
    }
  }
}

void Connection::run_watching_interrupts(const std::function<void()>& on_interrupt,
                                         const std::function<void()>& body) {
  if (client_fd_ < 0) {
    body();
    return;
  }
  std::mutex mu;
  bool active = true;
  auto interrupt = [&] {
    std::lock_guard lock(mu);
    if (active) on_interrupt();
  };
  // Drain a stale wake-up.
  uint64_t v;
  while (::read(wake_fd_, &v, sizeof v) > 0) {
  }

  std::thread watcher([&] {
    bool told_closed = false;
    for (;;) {
      // Interrupts already decoded (e.g. read together with the vCont) or
      // just read.
      for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->kind == DecoderEvent::Kind::Interrupt) {
          ++stats_.interrupts;
          interrupt();
          it = pending_.erase(it);
        } else {
          ++it;
        }
      }
      if (peer_closed_ || client_fd_ < 0) {
        // gdb is gone: stop the target so the session can end.
        if (!told_closed) interrupt();
        told_closed = true;
        pollfd p{wake_fd_, POLLIN, 0};
        while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
        }
        return;
      }
      bool wake = false;
      read_some(wake_fd_, &wake);
      if (wake) return;
    }
  });

  auto stop = [&] {
    {
      std::lock_guard lock(mu);
      active = false;
    }
    uint64_t one = 1;
    while (::write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
    watcher.join();
    while (::read(wake_fd_, &v, sizeof v) > 0) {
    }
  };
  try {
    body();
  } catch (...) {
    stop();
    throw;
  }
  stop();
}

}  // namespace rrx::gdb
