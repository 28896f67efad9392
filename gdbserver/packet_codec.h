// gdb remote serial protocol: framing, escaping, checksums, hex helpers.
//
// Pure functions and a byte-fed decoder; no I/O. The connection feeds the
// decoder with whatever read() returned and acts on the events.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rrx::gdb {

// The PacketSize advertised in qSupported: the largest payload (after
// unescaping) gdb may send us, and the bound gdb uses for m/x/qXfer
// replies. Raw packets are accepted up to this plus a little slack for
// escapes of binary X writes.
inline constexpr size_t kPacketSize = 0x10000;
inline constexpr size_t kRawSlack = 256;

struct DecoderEvent {
  enum class Kind {
    Packet,       // a complete packet; `payload` is unescaped and RLE-expanded
    BadChecksum,  // a complete packet whose checksum did not match (payload still decoded)
    Oversized,    // a packet longer than the limit; its bytes were dropped
    Interrupt,    // 0x03 outside a packet
    Ack,          // '+'
    Nak,          // '-'
  };
  Kind kind = Kind::Packet;
  std::string payload;
  bool malformed = false;  // a dangling '}' or '*' escape, or an RLE run with no character to repeat
};

class PacketDecoder {
 public:
  // `max_payload`: larger packets are reported as Oversized without being buffered.
  explicit PacketDecoder(size_t max_payload = kPacketSize);

  // Consumes `len` bytes and appends the events they complete to `out`.
  void feed(const void* data, size_t len, std::vector<DecoderEvent>& out);

  // True between a '$' and the end of its checksum.
  bool in_packet() const { return state_ != State::Idle; }
  // Bytes outside packets that were neither '$', '+', '-' nor 0x03.
  uint64_t garbage_bytes() const { return garbage_; }
  void reset();

 private:
  enum class State { Idle, Payload, Checksum1, Checksum2 };
  void finish(std::vector<DecoderEvent>& out);

  size_t max_payload_;
  size_t max_raw_;
  State state_ = State::Idle;
  std::string raw_;
  bool overflow_ = false;
  uint8_t sum_ = 0;
  int checksum_hi_ = 0;
  bool checksum_bad_ = false;
  uint64_t garbage_ = 0;
};

enum class DecodeStatus { Ok, Malformed, TooLong };
// Unescapes '}' escapes and expands '*' run-length encoding into `out`.
// Malformed: a dangling escape or a bad run (the output is a best-effort
// decode); TooLong: the result would exceed `max_len` (output truncated).
DecodeStatus decode_payload(std::string_view raw, std::string& out, size_t max_len = SIZE_MAX);

// Escapes '$', '#', '}' and '*' as '}' (c ^ 0x20): for binary data in
// x and qXfer replies.
std::string escape_binary(std::string_view data);

uint8_t checksum(std::string_view raw);

// "$" + payload + "#" + two hex digits. The payload is sent as is: binary
// data must already be escaped (escape_binary), text must not contain '$',
// '#' or '*' (see sanitize_text).
std::string frame_packet(std::string_view payload);

// Replaces the characters that cannot appear in a plain text reply
// ('$', '#', '*', '}' and control characters) by '?'.
std::string sanitize_text(std::string_view text);

// Hex helpers. Hex digits are accepted in both cases, produced in lower case.
std::string to_hex(const void* data, size_t len);
inline std::string to_hex(std::string_view s) { return to_hex(s.data(), s.size()); }
// Decodes pairs of hex digits; false on odd length or a non-hex digit.
bool from_hex(std::string_view hex, std::string& out);
// Parses a non-empty big-endian hex number (no prefix) that fits in 64 bits.
bool parse_hex(std::string_view s, uint64_t& out);
int hex_digit_value(char c);  // -1 when not a hex digit
// The value as hex digits, without leading zeros ("0" for 0).
std::string hex_number(uint64_t v);

}  // namespace rrx::gdb
