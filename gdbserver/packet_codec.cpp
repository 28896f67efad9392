#include "gdbserver/packet_codec.h"

#include <algorithm>

namespace rrx::gdb {

namespace {
constexpr char kHexDigits[] = "0123456789abcdef";
}

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string to_hex(const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  std::string out;
  out.resize(len * 2);
  for (size_t i = 0; i < len; ++i) {
    out[2 * i] = kHexDigits[p[i] >> 4];
    out[2 * i + 1] = kHexDigits[p[i] & 0xf];
  }
  return out;
}

bool from_hex(std::string_view hex, std::string& out) {
  out.clear();
  if (hex.size() % 2 != 0) return false;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = hex_digit_value(hex[i]);
    int lo = hex_digit_value(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return true;
}

bool parse_hex(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d = hex_digit_value(c);
    if (d < 0) return false;
    if (v >> 60) return false;  // would overflow
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  out = v;
  return true;
}

std::string hex_number(uint64_t v) {
  if (v == 0) return "0";
  std::string out;
  while (v) {
    out.push_back(kHexDigits[v & 0xf]);
    v >>= 4;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

uint8_t checksum(std::string_view raw) {
  uint8_t sum = 0;
  for (char c : raw) sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
  return sum;
}

std::string frame_packet(std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 4);
  out.push_back('$');
  out.append(payload);
  out.push_back('#');
  uint8_t sum = checksum(payload);
  out.push_back(kHexDigits[sum >> 4]);
  out.push_back(kHexDigits[sum & 0xf]);
  return out;
}

std::string escape_binary(std::string_view data) {
  std::string out;
  out.reserve(data.size() + data.size() / 16);
  for (char c : data) {
    if (c == '$' || c == '#' || c == '}' || c == '*') {
      out.push_back('}');
      out.push_back(static_cast<char>(c ^ 0x20));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string sanitize_text(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (c == '$' || c == '#' || c == '*' || c == '}' || u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

DecodeStatus decode_payload(std::string_view raw, std::string& out, size_t max_len) {
  out.clear();
  bool malformed = false;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '}') {
      if (i + 1 >= raw.size()) {
        malformed = true;
        break;
      }
      c = static_cast<char>(raw[++i] ^ 0x20);
    } else if (c == '*') {
      if (i + 1 >= raw.size() || out.empty()) {
        malformed = true;
        ++i;  // skip the count, if any
        continue;
      }
      int count = static_cast<unsigned char>(raw[++i]) - 29;
      if (count <= 0 || count > 126 - 29) {
        malformed = true;
        continue;
      }
      if (out.size() + static_cast<size_t>(count) > max_len) return DecodeStatus::TooLong;
      out.append(static_cast<size_t>(count), out.back());
      continue;
    }
    if (out.size() + 1 > max_len) return DecodeStatus::TooLong;
    out.push_back(c);
  }
  return malformed ? DecodeStatus::Malformed : DecodeStatus::Ok;
}

PacketDecoder::PacketDecoder(size_t max_payload)
    : max_payload_(max_payload), max_raw_(max_payload + kRawSlack) {}

void PacketDecoder::reset() {
  state_ = State::Idle;
  raw_.clear();
  overflow_ = false;
  sum_ = 0;
  checksum_hi_ = 0;
  checksum_bad_ = false;
}

void PacketDecoder::finish(std::vector<DecoderEvent>& out) {
  DecoderEvent ev;
  if (overflow_) {
    ev.kind = DecoderEvent::Kind::Oversized;
  } else {
    DecodeStatus st = decode_payload(raw_, ev.payload, max_payload_);
    if (st == DecodeStatus::TooLong) {
      ev.kind = DecoderEvent::Kind::Oversized;
      ev.payload.clear();
    } else {
      ev.malformed = st == DecodeStatus::Malformed;
      ev.kind = DecoderEvent::Kind::Packet;
    }
  }
  if (ev.kind == DecoderEvent::Kind::Packet && checksum_bad_) ev.kind = DecoderEvent::Kind::BadChecksum;
  out.push_back(std::move(ev));
  reset();
  // Keep the buffer from growing without bound across packets: release
  // large allocations once done.
  if (raw_.capacity() > 4 * 4096) std::string().swap(raw_);
}

void PacketDecoder::feed(const void* data, size_t len, std::vector<DecoderEvent>& out) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < len; ++i) {
    const char c = static_cast<char>(p[i]);
    switch (state_) {
      case State::Idle:
        if (c == '$') {
          reset();
          state_ = State::Payload;
        } else if (c == '+') {
          out.push_back({DecoderEvent::Kind::Ack, {}, false});
        } else if (c == '-') {
          out.push_back({DecoderEvent::Kind::Nak, {}, false});
        } else if (c == '\x03') {
          out.push_back({DecoderEvent::Kind::Interrupt, {}, false});
        } else {
          ++garbage_;
        }
        break;
      case State::Payload:
        if (c == '#') {
          state_ = State::Checksum1;
        } else if (c == '$') {
          // An unescaped '$' cannot be inside a packet: the previous one was
          // cut short. Drop it and start over.
          garbage_ += raw_.size() + 1;
          reset();
          state_ = State::Payload;
        } else {
          sum_ = static_cast<uint8_t>(sum_ + p[i]);
          if (raw_.size() < max_raw_) {
            raw_.push_back(c);
          } else {
            overflow_ = true;
          }
        }
        break;
      case State::Checksum1:
      case State::Checksum2: {
        if (c == '$') {
          garbage_ += raw_.size() + 1;
          reset();
          state_ = State::Payload;
          break;
        }
        int d = hex_digit_value(c);
        if (d < 0) {
          checksum_bad_ = true;
          d = 0;
        }
        if (state_ == State::Checksum1) {
          checksum_hi_ = d;
          state_ = State::Checksum2;
        } else {
          if (((checksum_hi_ << 4) | d) != sum_) checksum_bad_ = true;
          finish(out);
        }
        break;
      }
    }
  }
}

}  // namespace rrx::gdb
