#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "gdbserver/packet_codec.h"

using namespace rrx::gdb;
using Kind = DecoderEvent::Kind;

namespace {

std::vector<DecoderEvent> feed_all(PacketDecoder& d, std::string_view bytes) {
  std::vector<DecoderEvent> out;
  d.feed(bytes.data(), bytes.size(), out);
  return out;
}

std::vector<DecoderEvent> feed_bytewise(PacketDecoder& d, std::string_view bytes) {
  std::vector<DecoderEvent> out;
  for (char c : bytes) d.feed(&c, 1, out);
  return out;
}

}  // namespace

TEST_CASE("gdbserver: checksum and framing") {
  CHECK(checksum("") == 0);
  CHECK(checksum("OK") == 0x9a);
  CHECK(frame_packet("OK") == "$OK#9a");
  CHECK(frame_packet("") == "$#00");
  CHECK(frame_packet("qSupported") == "$qSupported#37");
}

TEST_CASE("gdbserver: hex helpers") {
  CHECK(to_hex(std::string_view("\x01\xab\xff", 3)) == "01abff");
  std::string out;
  CHECK(from_hex("01ABff", out));
  CHECK(out == std::string("\x01\xab\xff", 3));
  CHECK_FALSE(from_hex("0", out));
  CHECK_FALSE(from_hex("zz", out));
  uint64_t v = 0;
  CHECK(parse_hex("7fffF000", v));
  CHECK(v == 0x7ffff000);
  CHECK(parse_hex("ffffffffffffffff", v));
  CHECK(v == ~0ull);
  CHECK_FALSE(parse_hex("1ffffffffffffffff", v));
  CHECK_FALSE(parse_hex("", v));
  CHECK_FALSE(parse_hex("-1", v));
  CHECK(hex_number(0) == "0");
  CHECK(hex_number(0x3e8) == "3e8");
}

TEST_CASE("gdbserver: binary escaping round trip") {
  std::string data("a$b#c}d*e\x03\x00\xff", 12);
  std::string esc = escape_binary(data);
  CHECK(esc.find('$') == std::string::npos);
  CHECK(esc.find('#') == std::string::npos);
  CHECK(esc.find('*') == std::string::npos);
  std::string back;
  CHECK(decode_payload(esc, back) == DecodeStatus::Ok);
  CHECK(back == data);
  CHECK(sanitize_text("a$b#c*d}e\n") == "a?b?c?d?e?");
}

TEST_CASE("gdbserver: decoder yields packets, acks and interrupts") {
  PacketDecoder d;
  auto ev = feed_all(d, "+" + frame_packet("qSupported:swbreak+") + "-\x03$OK#9a");
  REQUIRE(ev.size() == 5);
  CHECK(ev[0].kind == Kind::Ack);
  CHECK(ev[1].payload == "qSupported:swbreak+");
  CHECK(ev[2].kind == Kind::Nak);
  CHECK(ev[3].kind == Kind::Interrupt);
  CHECK(ev[4].kind == Kind::Packet);
  CHECK(ev[4].payload == "OK");
  CHECK(ev[1].kind == Kind::Packet);
}

TEST_CASE("gdbserver: decoder detects bad checksums") {
  PacketDecoder d;
  auto ev = feed_all(d, "$OK#00$OK#9A$OK#zz");
  REQUIRE(ev.size() == 3);
  CHECK(ev[0].kind == Kind::BadChecksum);
  CHECK(ev[0].payload == "OK");
  CHECK(ev[1].kind == Kind::Packet);  // upper-case checksum digits are fine
  CHECK(ev[2].kind == Kind::BadChecksum);
}

TEST_CASE("gdbserver: decoder unescapes and expands run-length encoding") {
  PacketDecoder d;
  std::string raw = "X1000,4:}\x04}\x03}]}\x0a";  // $ # } *
  auto ev = feed_all(d, frame_packet(raw));
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].kind == Kind::Packet);
  CHECK(ev[0].payload == "X1000,4:$#}*");

  // "0* " is '0' repeated 3 more times (' ' = 29 + 3).
  ev = feed_all(d, frame_packet("0* 1"));
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].payload == "00001");
  ev = feed_all(d, frame_packet("a*~"));  // 126 - 29 = 97 repeats
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].payload == std::string(98, 'a'));

  // Dangling escape, run without a previous character.
  ev = feed_all(d, frame_packet("ab}"));
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].malformed);
  ev = feed_all(d, frame_packet("* ab"));
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].malformed);
  CHECK(ev[0].payload == "ab");
}

TEST_CASE("gdbserver: decoder handles input split byte by byte") {
  PacketDecoder d;
  std::string stream = "+" + frame_packet("m400000,10") + "\x03" + frame_packet("X0,1:}]") + "-";
  auto ev = feed_bytewise(d, stream);
  REQUIRE(ev.size() == 5);
  CHECK(ev[0].kind == Kind::Ack);
  CHECK(ev[1].payload == "m400000,10");
  CHECK(ev[2].kind == Kind::Interrupt);
  CHECK(ev[3].payload == "X0,1:}");
  CHECK(ev[4].kind == Kind::Nak);
  CHECK_FALSE(d.in_packet());
}

TEST_CASE("gdbserver: decoder skips garbage and resynchronizes") {
  PacketDecoder d;
  // Garbage before a packet, and a packet cut short by a new '$'.
  auto ev = feed_all(d, "hello world$qC#b4junk$m0,1$g#67");
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].payload == "qC");
  CHECK(ev[1].payload == "g");
  CHECK(ev[1].kind == Kind::Packet);
  CHECK(d.garbage_bytes() > 10);
  // 0x03 inside a packet is data, not an interrupt.
  ev = feed_all(d, frame_packet(std::string("X0,1:\x03", 6)));
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].kind == Kind::Packet);
}

TEST_CASE("gdbserver: decoder rejects oversized packets without buffering them") {
  PacketDecoder d(1024);
  std::string big(1024 + kRawSlack + 100, 'a');
  auto ev = feed_all(d, "$" + big + "#00" + frame_packet("qC"));
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].kind == Kind::Oversized);
  CHECK(ev[1].kind == Kind::Packet);
  CHECK(ev[1].payload == "qC");

  // An RLE packet that expands past the limit.
  std::string rle;
  for (int i = 0; i < 20; ++i) rle += "a*~";
  ev = feed_all(d, frame_packet(rle));
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].kind == Kind::Oversized);

  // A packet exactly at the limit is fine.
  PacketDecoder d2(64);
  ev = feed_all(d2, frame_packet(std::string(64, 'b')));
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].kind == Kind::Packet);
  CHECK(ev[0].payload.size() == 64);
}

TEST_CASE("gdbserver: decoder never grows past its limit on an endless packet") {
  PacketDecoder d(256);
  std::vector<DecoderEvent> out;
  std::string chunk(4096, 'x');
  d.feed("$", 1, out);
  for (int i = 0; i < 1000; ++i) d.feed(chunk.data(), chunk.size(), out);
  CHECK(out.empty());
  CHECK(d.in_packet());
  d.feed("#00", 3, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == Kind::Oversized);
}
