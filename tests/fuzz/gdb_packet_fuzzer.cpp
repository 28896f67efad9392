// libFuzzer harness for the gdb stub: arbitrary bytes go through the packet
// decoder (whole and split at a point chosen by the input: both must give
// the same events), and every decoded packet through GdbServer's dispatch
// over the MockTarget. Replies must be framable: no '$', '#' or '*' in a
// payload (binary data escaped).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "gdb_mock_target.h"
#include "gdbserver/gdb_server.h"
#include "gdbserver/packet_codec.h"

using namespace rrx::gdb;

namespace {

void check(bool cond) {
  if (!cond) __builtin_trap();
}

bool same_events(const std::vector<DecoderEvent>& a, const std::vector<DecoderEvent>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].kind != b[i].kind || a[i].payload != b[i].payload || a[i].malformed != b[i].malformed) return false;
  return true;
}

void check_reply(const std::string& p) {
  for (char c : p) check(c != '$' && c != '#' && c != '*');
  std::string framed = frame_packet(p);
  PacketDecoder d(kPacketSize * 4);
  std::vector<DecoderEvent> ev;
  d.feed(framed.data(), framed.size(), ev);
  check(ev.size() == 1 && ev[0].kind == DecoderEvent::Kind::Packet);
}

void dispatch(GdbServer& server, const std::string& payload) {
  GdbServer::Result r = server.handle_packet(payload);
  for (const auto& p : r.packets) check_reply(p);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  testing::MockTarget target;
  target.reverse = (data[0] & 2) != 0;
  target.steps_use_script = (data[0] & 4) != 0;
  GdbServer server(target);

  if (data[0] & 1) {
    // The rest is one packet payload, as the decoder would deliver it.
    dispatch(server, std::string(reinterpret_cast<const char*>(data + 1), size - 1));
    return 0;
  }

  const size_t max_payload = (data[0] & 8) ? 64 : kPacketSize;
  PacketDecoder whole(max_payload);
  std::vector<DecoderEvent> events;
  whole.feed(data + 1, size - 1, events);

  // The same bytes split in two, then byte by byte, decode the same.
  const size_t split = size > 2 ? data[1] % (size - 1) : 0;
  PacketDecoder halves(max_payload);
  std::vector<DecoderEvent> events2;
  halves.feed(data + 1, split, events2);
  halves.feed(data + 1 + split, size - 1 - split, events2);
  check(same_events(events, events2));
  if (size < 4096) {
    PacketDecoder bytes(max_payload);
    std::vector<DecoderEvent> events3;
    for (size_t i = 1; i < size; ++i) bytes.feed(data + i, 1, events3);
    check(same_events(events, events3));
  }

  for (const auto& ev : events) {
    if (ev.kind == DecoderEvent::Kind::Packet || ev.kind == DecoderEvent::Kind::BadChecksum) {
      check(ev.payload.size() <= max_payload);
      dispatch(server, ev.payload);
    }
  }
  return 0;
}
