// The packets lldb sends that gdb does not (lldb's gdb-remote client, as
// lldb-server answers them): the host and process descriptions, per-thread
// stop information, the memory map, thread lists in stop replies and error
// text. Everything else lldb asks for (jThreadsInfo, qShlibInfoAddr,
// qFileLoadAddress, _M...) is answered as unsupported, and lldb falls back
// to packets gdb uses too.
#include <algorithm>
#include <cstring>

#include "gdbserver/gdb_server.h"
#include "gdbserver/packet_codec.h"
#include "gdbserver/target_description.h"

namespace rrx::gdb {

namespace {

constexpr std::string_view kTriple = "x86_64-pc-linux-gnu";

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// The fields qHostInfo and qProcessInfo share: what the debugged code is.
std::string architecture_fields() {
  return "triple:" + to_hex(kTriple) + ";ptrsize:8;endian:little;ostype:linux;vendor:pc;";
}

// qMemoryRegionInfo's answer for `addr`: the mapping that holds it, or the
// unmapped gap around it (no permissions: lldb takes it as not mapped).
std::string region_reply(const std::vector<MemoryRegion>& map, uint64_t addr) {
  uint64_t gap_start = 0, gap_end = UINT64_MAX;
  for (const auto& r : map) {
    if (addr < r.start) {
      gap_end = r.start;
      break;
    }
    if (addr < r.end) {
      std::string perms;
      if (r.readable) perms += 'r';
      if (r.writable) perms += 'w';
      if (r.executable) perms += 'x';
      std::string out = "start:" + hex_number(r.start) + ";size:" + hex_number(r.end - r.start) +
                        ";permissions:" + perms + ";";
      if (!r.name.empty()) out += "name:" + to_hex(r.name) + ";";
      return out;
    }
    gap_start = r.end;
  }
  return "start:" + hex_number(gap_start) + ";size:" + hex_number(gap_end - gap_start) + ";";
}

}  // namespace

bool GdbServer::handle_lldb_query(std::string_view packet, Result& out) {
  if (packet == "QEnableErrorStrings") {
    lldb_error_strings_ = true;
    out = reply("OK");
    return true;
  }
  if (packet == "qHostInfo") {
    // x86 reports a write watchpoint after the write, as rrx does.
    out = reply(architecture_fields() + "watchpoint_exceptions_received:after;");
    return true;
  }
  if (packet == "qProcessInfo") {
    if (gone_) {
      out = error_reply("rrx: the process has exited");
      return true;
    }
    out = reply("pid:" + hex_number(static_cast<uint64_t>(target_.pid())) + ";" + architecture_fields());
    return true;
  }
  if (packet == "QListThreadsInStopReply") {
    lldb_threads_in_stop_reply_ = true;
    out = reply("OK");
    return true;
  }
  if (starts_with(packet, "qThreadStopInfo")) {
    // The stop of one thread: the last stop for the thread that made it,
    // "no signal" for the others (stopped because another thread stopped).
    uint64_t tid;
    auto threads = gone_ ? std::vector<int>() : target_.threads();
    if (!parse_hex(packet.substr(15), tid) ||
        std::find(threads.begin(), threads.end(), static_cast<int>(tid)) == threads.end()) {
      out = error_reply("rrx: no such thread");
      return true;
    }
    StopReason stop = target_.last_stop();
    const int stopped_tid = stop.tid > 0 ? stop.tid : target_.current_thread();
    if (stop.kind != StopReason::Kind::Signal && stop.kind != StopReason::Kind::ReplayBegin &&
        stop.kind != StopReason::Kind::ReplayEnd) {
      out = error_reply("rrx: the process has exited");
      return true;
    }
    if (static_cast<int>(tid) != stopped_tid) {
      stop = StopReason{};
      stop.signo = 0;
    }
    stop.tid = static_cast<int>(tid);
    out = reply(stop_packet(stop, /*initial=*/false));
    return true;
  }
  if (starts_with(packet, "qMemoryRegionInfo")) {
    // qMemoryRegionInfo (is it supported?) and qMemoryRegionInfo:ADDR.
    auto map = target_.memory_map();
    if (map.empty()) {
      out = reply("");
      return true;
    }
    std::string_view args = packet.substr(17);
    if (args.empty()) {
      out = reply("OK");
      return true;
    }
    uint64_t addr;
    if (args[0] != ':' || !parse_hex(args.substr(1), addr)) {
      out = error_reply("rrx: bad qMemoryRegionInfo address");
      return true;
    }
    out = reply(region_reply(map, addr));
    return true;
  }
  return false;
}

std::string GdbServer::lldb_stop_threads() {
  auto threads = gone_ ? std::vector<int>() : target_.threads();
  if (threads.empty()) return {};
  static const int rip = register_number("rip");
  std::string tids, pcs;
  for (int tid : threads) {
    ThreadRegisters regs;
    uint64_t pc = 0;
    if (!target_.read_registers(tid, regs) || !read_register(regs, rip, reinterpret_cast<uint8_t*>(&pc))) continue;
    if (!tids.empty()) {
      tids += ',';
      pcs += ',';
    }
    tids += hex_number(static_cast<uint64_t>(tid));
    pcs += hex_number(pc);
  }
  return "threads:" + tids + ";thread-pcs:" + pcs + ";";
}

}  // namespace rrx::gdb
