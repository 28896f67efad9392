#include <catch2/catch.hpp>

#include <csignal>
#include <cstring>
#include <set>
#include <string>

#include "gdb_mock_target.h"
#include "gdbserver/gdb_server.h"
#include "gdbserver/packet_codec.h"
#include "gdbserver/target_description.h"

using namespace rrx::gdb;
using rrx::gdb::testing::MockTarget;

namespace {

// The single reply to a packet.
std::string ask(GdbServer& s, std::string_view packet) {
  auto r = s.handle_packet(packet);
  REQUIRE(r.packets.size() == 1);
  return r.packets[0];
}

std::string le_hex(uint64_t v, size_t bytes) { return to_hex(&v, bytes); }

std::string unescape(std::string_view s) {
  std::string out;
  REQUIRE(decode_payload(s, out) == DecodeStatus::Ok);
  return out;
}

// Reads a whole qXfer object in chunks of `chunk` bytes.
std::string xfer_all(GdbServer& s, const std::string& prefix, size_t chunk, int* replies = nullptr) {
  std::string data;
  for (int i = 0; i < 10000; ++i) {
    std::string r = ask(s, prefix + hex_number(data.size()) + "," + hex_number(chunk));
    REQUIRE(!r.empty());
    REQUIRE((r[0] == 'm' || r[0] == 'l'));
    std::string part = unescape(std::string_view(r).substr(1));
    CHECK(part.size() <= chunk);
    data += part;
    if (replies) ++*replies;
    if (r[0] == 'l') return data;
  }
  FAIL("qXfer never ended");
  return data;
}

}  // namespace

TEST_CASE("gdbserver: target description lists every register once in g order") {
  const std::string& xml = target_xml();
  CHECK(xml.rfind("<?xml", 0) == 0);
  CHECK(xml.find("<architecture>i386:x86-64</architecture>") != std::string::npos);
  CHECK(xml.find("<osabi>GNU/Linux</osabi>") != std::string::npos);
  for (const char* f : {"org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.linux",
                        "org.gnu.gdb.i386.segments", "org.gnu.gdb.i386.avx"})
    CHECK(xml.find(std::string("<feature name=\"") + f + "\">") != std::string::npos);
  // Balanced elements.
  auto count = [&](std::string_view needle) {
    size_t n = 0;
    for (size_t pos = xml.find(needle); pos != std::string::npos; pos = xml.find(needle, pos + 1)) ++n;
    return n;
  };
  CHECK(count("<feature ") == count("</feature>"));
  CHECK(count("<flags ") == count("</flags>"));
  CHECK(count("<union ") == count("</union>"));
  CHECK(count("<target") == 1);
  CHECK(count("</target>") == 1);

  // Registers in order, each once, with regnum = position; sizes add up to the g packet.
  std::set<std::string> names;
  size_t pos = 0, bits = 0;
  int expected_regnum = 0;
  while ((pos = xml.find("<reg name=\"", pos)) != std::string::npos) {
    pos += 11;
    std::string name = xml.substr(pos, xml.find('"', pos) - pos);
    CHECK(names.insert(name).second);
    CHECK(register_number(name) == expected_regnum);
    size_t b = xml.find("bitsize=\"", pos) + 9;
    bits += std::stoul(xml.substr(b, xml.find('"', b) - b));
    size_t rn = xml.find("regnum=\"", pos) + 8;
    CHECK(std::stoi(xml.substr(rn, xml.find('"', rn) - rn)) == expected_regnum);
    ++expected_regnum;
  }
  CHECK(expected_regnum == 76);
  CHECK(bits / 8 == g_packet_bytes());
  CHECK(g_packet_bytes() == 816);
  CHECK(register_number("orig_rax") == 57);
  CHECK(register_number("fs_base") == 58);
  CHECK(register_number("gs_base") == 59);
  CHECK(register_number("ymm15h") == 75);
  CHECK(register_number("rip") == 16);
  CHECK(register_number("nosuch") == -1);
}

TEST_CASE("gdbserver: g and p encode registers in description order") {
  MockTarget t;
  GdbServer s(t);
  std::string g = ask(s, "g");
  REQUIRE(g.size() == 2 * g_packet_bytes());
  CHECK(g.substr(0, 16) == le_hex(t.regs1.gpr.rax, 8));
  // Offset of a register in the g packet = sum of the sizes before it.
  auto offset_of = [](int regno) {
    size_t off = 0;
    for (int i = 0; i < regno; ++i) off += register_size(i);
    return 2 * off;
  };
  CHECK(g.substr(offset_of(16), 16) == le_hex(t.regs1.gpr.rip, 8));
  CHECK(g.substr(offset_of(17), 8) == le_hex(0x246, 4));
  CHECK(g.substr(offset_of(57), 16) == le_hex(0x3c, 8));
  CHECK(g.substr(offset_of(58), 16) == le_hex(t.regs1.gpr.fs_base, 8));
  CHECK(g.substr(offset_of(56), 8) == le_hex(0x1f80, 4));

  CHECK(ask(s, "p10") == le_hex(t.regs1.gpr.rip, 8));
  CHECK(ask(s, "p39") == le_hex(0x3c, 8));                 // orig_rax
  CHECK(ask(s, "p3a") == le_hex(t.regs1.gpr.fs_base, 8));  // fs_base
  CHECK(ask(s, "p3b") == le_hex(t.regs1.gpr.gs_base, 8));  // gs_base
  CHECK(ask(s, "p20") == le_hex(0x37f, 4));                // fctrl
  CHECK(ask(s, "p22") == le_hex(0xffff, 4));               // ftag: all empty
  CHECK(ask(s, "p23") == le_hex(0x11223344, 4));           // fiseg: high half of the x87 ip
  CHECK(ask(s, "p24") == le_hex(0x55667788, 4));           // fioff
  CHECK(ask(s, "p27") == le_hex(0x7ff, 4));                // fop masked to 11 bits
  CHECK(ask(s, "p28") == "000102030405060708090a0b0c0d0e0f");  // xmm0
  CHECK(ask(s, "p3c") == "80808080808080808080808080808080");  // ymm0h
  CHECK(ask(s, "p18") == std::string(20, '0'));  // st0: 10 bytes
  CHECK(ask(s, "p4c") == "E00");
  CHECK(ask(s, "pzz") == "E00");

  SECTION("another thread through Hg") {
    CHECK(ask(s, "Hg3f2") == "OK");
    CHECK(t.current == MockTarget::kTid2);
    CHECK(ask(s, "p10") == le_hex(t.regs2.gpr.rip, 8));
    CHECK(ask(s, "Hg999") == "E01");
    CHECK(ask(s, "Hg0") == "OK");
  }
  SECTION("AVX state missing: ymm upper halves unavailable") {
    t.regs1.has_avx = false;
    CHECK(ask(s, "p3c") == std::string(32, 'x'));
    std::string g2 = ask(s, "g");
    CHECK(g2.substr(g2.size() - 32 * 16) == std::string(32 * 16, 'x'));
    CHECK(g2.find('x') == 2 * (g_packet_bytes() - 16 * 16));
  }
  SECTION("unknown thread") {
    t.thread_ids.push_back(77);
    CHECK(ask(s, "Hg4d") == "OK");
    CHECK(ask(s, "g") == "E01");
  }
}

TEST_CASE("gdbserver: x87 tag word from the abridged fxsave tag") {
  uint8_t st[128] = {};
  // st0 = 1.0: exponent 0x3fff, integer bit set. TOP = 7, so st0 is physical register 7.
  st[7] = 0x80;
  st[8] = 0xff;
  st[9] = 0x3f;
  CHECK(x87_full_tag(0x80, 7 << 11, st) == 0x3fff);
  // st0 = +0.0 -> tag 1 (zero).
  std::memset(st, 0, sizeof st);
  CHECK(x87_full_tag(0x80, 7 << 11, st) == 0x7fff);
  // NaN/inf exponent -> special (2).
  st[8] = 0xff;
  st[9] = 0x7f;
  CHECK(x87_full_tag(0x80, 7 << 11, st) == 0xbfff);
  CHECK(x87_full_tag(0, 0, st) == 0xffff);
}

TEST_CASE("gdbserver: memory reads with m and x") {
  MockTarget t;
  GdbServer s(t);
  CHECK(ask(s, "m400000,8") == "deadbeef24237d2a");
  // Partial read at the end of the mapping: only the readable bytes.
  CHECK(ask(s, "m401ffc,10").size() == 8);
  CHECK(ask(s, "m0,4") == "E01");
  CHECK(ask(s, "mzz") == "E01");
  CHECK(ask(s, "m400000") == "E01");
  // Binary: 'b' then escaped data.
  std::string x = ask(s, "x400000,8");
  REQUIRE(x[0] == 'b');
  CHECK(unescape(x.substr(1)) == "\xde\xad\xbe\xef$#}*");
  CHECK(x.find('$') == std::string::npos);
  CHECK(ask(s, "x400000,0") == "b");
  CHECK(ask(s, "x0,4") == "E01");
  // Large reads are capped to what fits in a packet.
  std::string big = ask(s, "m400000,100000");
  CHECK(big.size() == 2 * MockTarget::kMemSize);
}

TEST_CASE("gdbserver: writes are refused with the target's reason") {
  MockTarget t;
  std::vector<std::string> notices;
  GdbServerOptions opts;
  opts.notice = [&](const std::string& m) { notices.push_back(m); };
  GdbServer s(t, opts);
  const std::string mem = "E.rrx: cannot write memory during a replay: it would change the recorded execution";
  const std::string regs = "E.rrx: cannot write registers during a replay: it would change the recorded execution";
  CHECK(ask(s, "M400000,1:00") == mem);
  CHECK(ask(s, "X400000,1:a") == mem);
  CHECK(ask(s, "X400000,0:") == "OK");  // gdb's probe for X support writes nothing
  CHECK(ask(s, "G" + std::string(2 * g_packet_bytes(), '0')) == regs);
  CHECK(ask(s, "P10=0000000000000000") == regs);
  CHECK(notices.size() == 4);
  CHECK(t.memory[0] == 0xde);

  // Writes that change nothing are accepted: the current value, and
  // orig_rax = -1 (gdb writes it with every pc write, e.g. on `run`).
  CHECK(ask(s, "P39=ffffffffffffffff") == "OK");
  CHECK(ask(s, "P39=0000000000000000") == regs);
  CHECK(ask(s, "P10=" + le_hex(t.regs1.gpr.rip, 8)) == "OK");
  CHECK(ask(s, "P10=" + le_hex(t.regs1.gpr.rip + 1, 8)) == regs);
  CHECK(ask(s, "P10=00") == regs);
  CHECK(ask(s, "Pzz=00") == regs);
  std::string g = ask(s, "g");
  CHECK(ask(s, "G" + g) == "OK");

  std::string g2 = g;
  const size_t orig_rax_at = 2 * (g_packet_bytes() - 16 * 16 - 8 - 8 - 8);
  g2.replace(orig_rax_at, 16, "ffffffffffffffff");
  CHECK(ask(s, "G" + g2) == "OK");
  g2[0] = g2[0] == '0' ? '1' : '0';
  CHECK(ask(s, "G" + g2) == regs);
  CHECK(ask(s, "G" + g.substr(2)) == regs);
  CHECK(ask(s, "G" + g + "00") == regs);
  // Unavailable registers may be written back as unavailable.
  t.regs1.has_avx = false;
  g = ask(s, "g");
  CHECK(ask(s, "G" + g) == "OK");
  CHECK(notices.size() == 11);

  // lldb asks for its own form of error text: "EXX;HEXTEXT".
  CHECK(ask(s, "QEnableErrorStrings") == "OK");
  CHECK(ask(s, "M400000,1:00") == "E01;" + to_hex(std::string_view(mem.substr(2))));
  s.reset_session();
  CHECK(ask(s, "M400000,1:00") == mem);
}

TEST_CASE("gdbserver: breakpoints and watchpoints go to the target") {
  MockTarget t;
  GdbServer s(t);
  CHECK(ask(s, "Z0,401000,1") == "OK");
  CHECK(ask(s, "z0,401000,1") == "OK");
  CHECK(ask(s, "Z1,401004,1") == "OK");
  CHECK(ask(s, "Z2,400010,4") == "OK");
  CHECK(ask(s, "Z3,400020,8") == "OK");
  CHECK(ask(s, "Z4,400030,2") == "OK");
  CHECK(ask(s, "z4,400030,2") == "OK");
  CHECK(ask(s, "Z0,401008,1;X2,0102") == "OK");  // conditions are ignored
  REQUIRE(t.breakpoints.size() == 8);
  CHECK(t.breakpoints[0].insert);
  CHECK(t.breakpoints[0].kind == BreakpointKind::Software);
  CHECK(t.breakpoints[0].addr == 0x401000);
  CHECK(t.breakpoints[0].len == 1);
  CHECK_FALSE(t.breakpoints[1].insert);
  CHECK(t.breakpoints[2].kind == BreakpointKind::Hardware);
  CHECK(t.breakpoints[3].kind == BreakpointKind::WriteWatch);
  CHECK(t.breakpoints[3].len == 4);
  CHECK(t.breakpoints[4].kind == BreakpointKind::ReadWatch);
  CHECK(t.breakpoints[5].kind == BreakpointKind::AccessWatch);
  CHECK(t.breakpoints[7].addr == 0x401008);
  t.hw_slots_full = true;
  CHECK(ask(s, "Z2,400010,4") == "E01");
  CHECK(ask(s, "Z5,400010,4") == "");
  CHECK(ask(s, "Z0,zz,1") == "E01");
  CHECK(ask(s, "Z0") == "E01");
}

TEST_CASE("gdbserver: vCont actions pick the kind and thread to resume") {
  MockTarget t;
  GdbServer s(t);
  CHECK(ask(s, "vCont?") == "vCont;c;C;s;S");

  CHECK(ask(s, "vCont;s:3f2;c").rfind("T05thread:3e8;", 0) == 0);
  CHECK(ask(s, "vCont;c").rfind("T05", 0) == 0);
  CHECK(ask(s, "vCont;c:3f2").rfind("T05", 0) == 0);
  CHECK(ask(s, "vCont;C0b:3e8;c").rfind("T05", 0) == 0);
  CHECK(ask(s, "vCont;S05:3e8").rfind("T05", 0) == 0);
  CHECK(ask(s, "vCont;s:p3e8.3f2;c:-1").rfind("T05", 0) == 0);
  CHECK(ask(s, "c").rfind("T05", 0) == 0);
  CHECK(ask(s, "Hc3f2") == "OK");
  CHECK(ask(s, "s").rfind("T05", 0) == 0);
  REQUIRE(t.resumes.size() == 8);
  CHECK(t.resumes[0].kind == ResumeKind::Step);
  CHECK(t.resumes[0].tid == MockTarget::kTid2);
  CHECK(t.resumes[1].kind == ResumeKind::Continue);
  CHECK(t.resumes[1].tid == 0);
  CHECK(t.resumes[2].kind == ResumeKind::Continue);
  CHECK(t.resumes[2].tid == MockTarget::kTid2);  // only that thread (scheduler-locking)
  CHECK(t.resumes[3].kind == ResumeKind::Continue);
  CHECK(t.resumes[3].tid == 0);
  CHECK(t.resumes[4].kind == ResumeKind::Step);
  CHECK(t.resumes[4].tid == MockTarget::kTid1);
  CHECK(t.resumes[5].kind == ResumeKind::Step);
  CHECK(t.resumes[5].tid == MockTarget::kTid2);
  CHECK(t.resumes[6].kind == ResumeKind::Continue);
  CHECK(t.resumes[7].kind == ResumeKind::Step);
  CHECK(t.resumes[7].tid == MockTarget::kTid2);

  CHECK(ask(s, "vCont;x").rfind("E", 0) == 0);
  CHECK(ask(s, "vCont;s:zz") == "E01");
  CHECK(ask(s, "vCont;C0") == "E01");
  CHECK(ask(s, "vCont;") == "E01");
  CHECK(t.resumes.size() == 8);
}

TEST_CASE("gdbserver: reverse execution only when the target can") {
  MockTarget t;
  GdbServer s(t);
  CHECK(ask(s, "qSupported:swbreak+").find("ReverseContinue+;ReverseStep+") != std::string::npos);
  CHECK(ask(s, "bc").rfind("T05", 0) == 0);
  CHECK(ask(s, "bs").rfind("T05", 0) == 0);
  REQUIRE(t.resumes.size() == 2);
  CHECK(t.resumes[0].kind == ResumeKind::ReverseContinue);
  CHECK(t.resumes[1].kind == ResumeKind::ReverseStep);
  t.reverse = false;
  CHECK(ask(s, "qSupported").find("Reverse") == std::string::npos);
  CHECK(ask(s, "bc") == "");
  CHECK(ask(s, "bs") == "");
  CHECK(t.resumes.size() == 2);
}

TEST_CASE("gdbserver: stop reply formats") {
  MockTarget t;
  GdbServer s(t);
  const std::string regs = "06:" + le_hex(t.regs1.gpr.rbp, 8) + ";07:" + le_hex(t.regs1.gpr.rsp, 8) +
                           ";10:" + le_hex(t.regs1.gpr.rip, 8) + ";";
  StopReason st;
  st.tid = MockTarget::kTid1;
  st.pid = MockTarget::kPid;

  SECTION("plain SIGTRAP with expedited registers") {
    CHECK(s.stop_reply(st) == "T05thread:3e8;" + regs);
  }
  SECTION("software and hardware breakpoints when gdb knows swbreak/hwbreak") {
    st.software_breakpoint = true;
    CHECK(s.stop_reply(st) == "T05thread:3e8;" + regs);  // gdb did not say swbreak+
    ask(s, "qSupported:swbreak+;hwbreak+;qRelocInsn+");
    CHECK(s.stop_reply(st) == "T05thread:3e8;swbreak:;" + regs);
    st.software_breakpoint = false;
    st.hardware_breakpoint = true;
    CHECK(s.stop_reply(st) == "T05thread:3e8;hwbreak:;" + regs);
  }
  SECTION("watchpoints") {
    st.watchpoint = true;
    st.watch_addr = 0x400010;
    st.watch_kind = BreakpointKind::WriteWatch;
    CHECK(s.stop_reply(st) == "T05thread:3e8;watch:400010;" + regs);
    st.watch_kind = BreakpointKind::ReadWatch;
    CHECK(s.stop_reply(st) == "T05thread:3e8;rwatch:400010;" + regs);
    st.watch_kind = BreakpointKind::AccessWatch;
    CHECK(s.stop_reply(st) == "T05thread:3e8;awatch:400010;" + regs);
  }
  SECTION("signals use gdb's numbering") {
    st.signo = SIGSEGV;
    CHECK(s.stop_reply(st).rfind("T0bthread:", 0) == 0);
    st.signo = SIGBUS;
    CHECK(s.stop_reply(st).rfind("T0athread:", 0) == 0);
    st.signo = SIGINT;
    CHECK(s.stop_reply(st).rfind("T02thread:", 0) == 0);
    st.signo = SIGCHLD;
    CHECK(s.stop_reply(st).rfind("T14thread:", 0) == 0);
  }
  SECTION("exits") {
    st.kind = StopReason::Kind::Exited;
    st.code = 3;
    CHECK(s.stop_reply(st) == "W03");
    st.code = 256 + 7;
    CHECK(s.stop_reply(st) == "W07");
    st.kind = StopReason::Kind::Terminated;
    st.signo = SIGUSR1;
    CHECK(s.stop_reply(st) == "X1e");
    st.signo = SIGKILL;
    CHECK(s.stop_reply(st) == "X09");
  }
  SECTION("ends of the recording") {
    st.kind = StopReason::Kind::ReplayBegin;
    CHECK(s.stop_reply(st) == "T05replaylog:begin;thread:3e8;" + regs);
    st.kind = StopReason::Kind::ReplayEnd;
    CHECK(s.stop_reply(st) == "T05replaylog:end;thread:3e8;" + regs);
    // '?' reports where we are, not the end of history.
    t.last = st;
    CHECK(ask(s, "?") == "T05thread:3e8;" + regs);
  }
  SECTION("the stopped thread becomes the general thread") {
    st.tid = MockTarget::kTid2;
    t.script.push_back(st);
    std::string r = ask(s, "vCont;c");
    CHECK(r.rfind("T05thread:3f2;", 0) == 0);
    CHECK(ask(s, "p10") == le_hex(t.regs2.gpr.rip, 8));
  }
}

TEST_CASE("gdbserver: catch syscall (QCatchSyscalls and syscall stops)") {
  MockTarget t;
  GdbServer s(t);
  CHECK(ask(s, "qSupported:multiprocess+").find(";QCatchSyscalls+") != std::string::npos);
  CHECK(ask(s, "QCatchSyscalls:1") == "OK");
  REQUIRE(t.catch_calls.size() == 1);
  CHECK(t.catch_calls[0].on);
  CHECK(t.catch_calls[0].numbers.empty());  // all
  CHECK(ask(s, "QCatchSyscalls:1;1;3c;e7") == "OK");
  REQUIRE(t.catch_calls.size() == 2);
  CHECK(t.catch_calls[1].numbers == std::vector<int64_t>{1, 0x3c, 0xe7});
  CHECK(ask(s, "QCatchSyscalls:0") == "OK");
  REQUIRE(t.catch_calls.size() == 3);
  CHECK(!t.catch_calls[2].on);
  for (const char* bad : {"QCatchSyscalls:2", "QCatchSyscalls:1;zz", "QCatchSyscalls:1;", "QCatchSyscalls:1,5",
                          "QCatchSyscalls:1;123456789"}) {
    CHECK(ask(s, bad) == "E01");
  }
  CHECK(t.catch_calls.size() == 3);

  const std::string regs = "06:" + le_hex(t.regs1.gpr.rbp, 8) + ";07:" + le_hex(t.regs1.gpr.rsp, 8) +
                           ";10:" + le_hex(t.regs1.gpr.rip, 8) + ";";
  StopReason st;
  st.tid = MockTarget::kTid1;
  st.pid = MockTarget::kPid;
  st.syscall = StopReason::Syscall::Entry;
  st.syscall_nr = 1;
  CHECK(s.stop_reply(st) == "T05thread:p3e8.3e8;syscall_entry:1;" + regs);
  st.syscall = StopReason::Syscall::Return;
  st.syscall_nr = 0x6e;
  CHECK(s.stop_reply(st) == "T05thread:p3e8.3e8;syscall_return:6e;" + regs);
  // '?' (where gdb connects) reports no syscall stop reason.
  t.last = st;
  CHECK(ask(s, "?") == "T05thread:p3e8.3e8;" + regs);
}

TEST_CASE("gdbserver: signal number mapping") {
  for (int sig = 1; sig <= 64; ++sig) {
    int g = to_gdb_signal(sig);
    if (sig == SIGSTKFLT) {
      CHECK(g == 143);
      continue;
    }
    CHECK(from_gdb_signal(g) == sig);
  }
  CHECK(to_gdb_signal(0) == 0);
  CHECK(to_gdb_signal(SIGHUP) == 1);
  CHECK(to_gdb_signal(SIGUSR2) == 31);
  CHECK(to_gdb_signal(SIGSYS) == 12);
  CHECK(to_gdb_signal(SIGPWR) == 32);
  CHECK(to_gdb_signal(32) == 77);
  CHECK(to_gdb_signal(34) == 46);
  CHECK(to_gdb_signal(63) == 75);
  CHECK(to_gdb_signal(64) == 78);
  CHECK(to_gdb_signal(200) == 143);
}

TEST_CASE("gdbserver: threads, H and T packets") {
  MockTarget t;
  GdbServer s(t);
  CHECK(ask(s, "qC") == "QC3e8");
  CHECK(ask(s, "qfThreadInfo") == "m3e8,3f2");
  CHECK(ask(s, "qsThreadInfo") == "l");
  CHECK(ask(s, "T3f2") == "OK");
  CHECK(ask(s, "T999") == "E01");
  CHECK(ask(s, "Tzz") == "E01");
  CHECK(ask(s, "Hc-1") == "OK");
  CHECK(ask(s, "Hc999") == "E01");
  CHECK(ask(s, "Hx1") == "E01");
  CHECK(ask(s, "H") == "E01");
  CHECK(ask(s, "qAttached") == "1");
  CHECK(ask(s, "qAttached:3e8") == "1");

  t.thread_ids.clear();
  for (int i = 0; i < 300; ++i) t.thread_ids.push_back(2000 + i);
  std::string all = ask(s, "qfThreadInfo");
  int replies = 1;
  for (std::string r = ask(s, "qsThreadInfo"); r != "l"; r = ask(s, "qsThreadInfo")) {
    REQUIRE(r[0] == 'm');
    all += "," + r.substr(1);
    ++replies;
    REQUIRE(replies < 100);
  }
  CHECK(replies == 3);
  CHECK(std::count(all.begin(), all.end(), ',') == 299);
}

TEST_CASE("gdbserver: qXfer objects in chunks") {
  MockTarget t;
  GdbServer s(t);
  int replies = 0;
  CHECK(xfer_all(s, "qXfer:features:read:target.xml:", 100, &replies) == target_xml());
  CHECK(replies == static_cast<int>((target_xml().size() + 99) / 100));
  CHECK(xfer_all(s, "qXfer:features:read:target.xml:", 0x10000) == target_xml());
  CHECK(ask(s, "qXfer:features:read:target.xml:" + hex_number(target_xml().size()) + ",10") == "l");
  CHECK(ask(s, "qXfer:features:read:other.xml:0,10") == "E00");
  CHECK(ask(s, "qXfer:features:read:target.xml:0,0") == "E00");
  CHECK(ask(s, "qXfer:features:read:target.xml:zz,10") == "E00");
  CHECK(ask(s, "qXfer:features:write:target.xml:0:abc") == "");

  CHECK(xfer_all(s, "qXfer:auxv:read::", 5) == t.auxv_data);
  CHECK(xfer_all(s, "qXfer:exec-file:read:3e8:", 1000) == "/bin/true");
  CHECK(xfer_all(s, "qXfer:exec-file:read::", 3) == "/bin/true");
  std::string threads = xfer_all(s, "qXfer:threads:read::", 1000);
  CHECK(threads.find("<thread id=\"3e8\" name=\"main\"/>") != std::string::npos);
  CHECK(threads.find("<thread id=\"3f2\" name=\"worker&lt;1&gt;\"/>") != std::string::npos);
  CHECK(ask(s, "qXfer:libraries-svr4:read::0,100") == "");
  t.exec_path.clear();
  CHECK(ask(s, "qXfer:exec-file:read::0,100") == "E01");
}

TEST_CASE("gdbserver: monitor commands through qRcmd") {
  MockTarget t;
  GdbServer s(t);
  auto r = s.handle_packet("qRcmd," + to_hex(std::string_view("when")));
  REQUIRE(r.packets.size() == 2);
  CHECK(r.packets[0] == "O" + to_hex(std::string_view("Current event: 42\n")));
  CHECK(r.packets[1] == "OK");
  CHECK(t.monitor_commands.back() == "when");

  r = s.handle_packet("qRcmd," + to_hex(std::string_view("nosuch")));
  REQUIRE(r.packets.size() == 2);
  std::string text;
  REQUIRE(from_hex(r.packets[0].substr(1), text));
  CHECK(text == "rrx: unknown monitor command 'nosuch'\n");
  CHECK(r.packets[1] == "OK");  // gdb 13 garbles "E.text" and says "Protocol error" for "Enn"

  // A gdb that announced error-message+ (15 and later) gets the failure as "E.text".
  ask(s, "qSupported:multiprocess+;error-message+;swbreak+");
  r = s.handle_packet("qRcmd," + to_hex(std::string_view("nosuch")));
  REQUIRE(r.packets.size() == 1);
  CHECK(r.packets[0] == "E.rrx: unknown monitor command 'nosuch'");
  ask(s, "qSupported:multiprocess+");
  CHECK(s.handle_packet("qRcmd," + to_hex(std::string_view("nosuch"))).packets.back() == "OK");

  r = s.handle_packet("qRcmd," + to_hex(std::string_view("big")));
  REQUIRE(r.packets.size() > 2);
  std::string all;
  for (size_t i = 0; i + 1 < r.packets.size(); ++i) {
    REQUIRE(r.packets[i][0] == 'O');
    REQUIRE(from_hex(r.packets[i].substr(1), text));
    all += text;
  }
  CHECK(all == std::string(10000, 'z') + "\n");
  CHECK(r.packets.back() == "OK");

  CHECK(ask(s, "qRcmd,zz") == "E01");
}

TEST_CASE("gdbserver: session packets") {
  MockTarget t;
  GdbServer s(t);
  std::string sup = ask(s, "qSupported:swbreak+;hwbreak+;xmlRegisters=i386");
  for (const char* f : {"PacketSize=10000", "QStartNoAckMode+", "qXfer:features:read+", "qXfer:auxv:read+",
                        "qXfer:exec-file:read+", "qXfer:threads:read+", "swbreak+", "hwbreak+",
                        "vContSupported+"})
    CHECK(sup.find(f) != std::string::npos);
  CHECK(sup.find("multiprocess+") == std::string::npos);  // gdb did not announce it

  auto r = s.handle_packet("QStartNoAckMode");
  CHECK(r.packets == std::vector<std::string>{"OK"});
  CHECK(r.start_no_ack);
  CHECK(ask(s, "vMustReplyEmpty") == "");
  CHECK(ask(s, "qSymbol::") == "OK");
  CHECK(ask(s, "qTStatus") == "");
  CHECK(ask(s, "qFooBar") == "");
  CHECK(ask(s, "vFile:setfs:0") == "F0");  // Host I/O: gdb_host_io_test.cpp
  CHECK(ask(s, "vFile:nosuch:0") == "");
  CHECK(ask(s, "J") == "");
  CHECK(ask(s, "") == "");

  SECTION("detach ends the session") {
    r = s.handle_packet("D");
    CHECK(r.packets == std::vector<std::string>{"OK"});
    CHECK(r.end_session);
    r = s.handle_packet("D;3e8");
    CHECK(r.end_session);
  }
  SECTION("kill without extended mode ends the session, no reply") {
    r = s.handle_packet("k");
    CHECK(r.packets.empty());
    CHECK(r.end_session);
  }
  SECTION("extended mode: kill, then run restarts") {
    CHECK(ask(s, "!") == "OK");
    r = s.handle_packet("k");
    CHECK(r.packets.empty());
    CHECK_FALSE(r.end_session);
    CHECK(ask(s, "?") == "W00");
    // No threads until the next run.
    CHECK(ask(s, "qfThreadInfo") == "l");
    CHECK(ask(s, "T3e8") == "E01");
    CHECK(xfer_all(s, "qXfer:threads:read::", 1000).find("<thread ") == std::string::npos);
    CHECK(ask(s, "vKill;3e8") == "OK");
    CHECK(ask(s, "vRun;" + to_hex(std::string_view("/bin/true"))).rfind("T05thread:3e8;", 0) == 0);
    CHECK(t.restarts == 1);
    CHECK(ask(s, "?").rfind("T05", 0) == 0);
    CHECK(ask(s, "qfThreadInfo") == "m3e8,3f2");
    // run ARGS / starti ARGS: the arguments go to the target (a replay: where to start).
    CHECK(ask(s, "vRun;" + to_hex(std::string_view("/bin/true")) + ";" + to_hex(std::string_view("43")))
              .rfind("T05thread:3e8;", 0) == 0);
    CHECK(t.restart_args == std::vector<std::string>{"43"});
    CHECK(ask(s, "vRun;;" + to_hex(std::string_view("c1")) + ";" + to_hex(std::string_view("x"))).rfind("T05", 0) == 0);
    CHECK(t.restart_args == std::vector<std::string>{"c1", "x"});
    CHECK(ask(s, "vRun;;zz") == "E01");
    t.can_restart = false;
    CHECK(ask(s, "vRun;") == "E.rrx: cannot restart this one");
  }
  SECTION("after an exit the process is gone until vRun") {
    StopReason exited;
    exited.kind = StopReason::Kind::Exited;
    exited.code = 1;
    t.script.push_back(exited);
    CHECK(ask(s, "vCont;c") == "W01");
    CHECK(ask(s, "?") == "W01");
    CHECK(ask(s, "qfThreadInfo") == "l");
    CHECK(ask(s, "vRun;").rfind("T05", 0) == 0);
    CHECK(ask(s, "qfThreadInfo") == "m3e8,3f2");
  }
}

TEST_CASE("gdbserver: lldb's packets") {
  MockTarget t;
  GdbServer s(t);
  const std::string triple = "triple:" + to_hex(std::string_view("x86_64-pc-linux-gnu")) + ";";

  std::string host = ask(s, "qHostInfo");
  CHECK(host.find(triple) != std::string::npos);
  for (const char* f : {"ptrsize:8;", "endian:little;", "ostype:linux;", "watchpoint_exceptions_received:after;"})
    CHECK(host.find(f) != std::string::npos);
  std::string proc = ask(s, "qProcessInfo");
  CHECK(proc.rfind("pid:3e8;", 0) == 0);
  CHECK(proc.find(triple) != std::string::npos);

  SECTION("error text once asked for, in lldb's form") {
    CHECK(ask(s, "P0=0500000000000000").rfind("E.", 0) == 0);
    CHECK(ask(s, "QEnableErrorStrings") == "OK");
    std::string r = ask(s, "P0=0500000000000000");
    REQUIRE(r.rfind("E01;", 0) == 0);
    std::string text;
    REQUIRE(from_hex(r.substr(4), text));
    CHECK(text == "rrx: cannot write registers during a replay: it would change the recorded execution");
  }
  SECTION("qThreadStopInfo: the stopping thread's reason, none for the others") {
    t.last.software_breakpoint = true;
    CHECK(ask(s, "qSupported:swbreak+").find("swbreak+") != std::string::npos);
    std::string r1 = ask(s, "qThreadStopInfo3e8");
    CHECK(r1.rfind("T05thread:3e8;swbreak:;", 0) == 0);
    std::string r2 = ask(s, "qThreadStopInfo3f2");
    CHECK(r2.rfind("T00thread:3f2;", 0) == 0);
    CHECK(r2.find("10:" + le_hex(MockTarget::kMemBase + 0x200, 8)) != std::string::npos);  // its rip
    CHECK(ask(s, "qThreadStopInfo999").rfind("E", 0) == 0);
    CHECK(ask(s, "qThreadStopInfozz").rfind("E", 0) == 0);
    // No side effect on the general thread: g still reads thread 1.
    CHECK(ask(s, "Hg3e8") == "OK");
    ask(s, "qThreadStopInfo3f2");
    CHECK(ask(s, "g").substr(0, 16) == le_hex(0x1111111111111111ull, 8));
  }
  SECTION("QListThreadsInStopReply: T replies list the threads and their pcs") {
    CHECK(ask(s, "c").find("threads:") == std::string::npos);
    CHECK(ask(s, "QListThreadsInStopReply") == "OK");
    std::string r = ask(s, "c");
    CHECK(r.find("threads:3e8,3f2;thread-pcs:" + hex_number(MockTarget::kMemBase + 0x100) + "," +
                 hex_number(MockTarget::kMemBase + 0x200) + ";") != std::string::npos);
    StopReason exited;
    exited.kind = StopReason::Kind::Exited;
    t.script.push_back(exited);
    CHECK(ask(s, "c") == "W00");
    CHECK(ask(s, "qProcessInfo").rfind("E", 0) == 0);
  }
  SECTION("qMemoryRegionInfo: the mapping or the gap around an address") {
    CHECK(ask(s, "qMemoryRegionInfo:400000") == "");  // no map: unsupported
    t.regions = {{0x400000, 0x402000, true, false, true, ""}, {0x7ffe0000, 0x7fff0000, true, true, false, "[stack]"}};
    CHECK(ask(s, "qMemoryRegionInfo") == "OK");
    CHECK(ask(s, "qMemoryRegionInfo:400000") == "start:400000;size:2000;permissions:rx;");
    CHECK(ask(s, "qMemoryRegionInfo:401fff") == "start:400000;size:2000;permissions:rx;");
    CHECK(ask(s, "qMemoryRegionInfo:7ffe1234") ==
          "start:7ffe0000;size:10000;permissions:rw;name:" + to_hex(std::string_view("[stack]")) + ";");
    CHECK(ask(s, "qMemoryRegionInfo:1000") == "start:0;size:400000;");
    CHECK(ask(s, "qMemoryRegionInfo:402000") == "start:402000;size:" + hex_number(0x7ffe0000 - 0x402000) + ";");
    CHECK(ask(s, "qMemoryRegionInfo:7fff0000") == "start:7fff0000;size:" + hex_number(UINT64_MAX - 0x7fff0000) + ";");
    CHECK(ask(s, "qMemoryRegionInfo:xyz").rfind("E", 0) == 0);
  }
}

TEST_CASE("gdbserver: multiprocess thread ids and process events once gdb asks for them") {
  MockTarget t;
  GdbServer s(t);
  // Without multiprocess+ nothing changes.
  std::string plain = ask(s, "qSupported:swbreak+");
  CHECK(plain.find("multiprocess+") == std::string::npos);
  CHECK(plain.find("fork-events+") == std::string::npos);
  CHECK(ask(s, "qfThreadInfo") == "m3e8,3f2");
  // fork-events+ alone (no multiprocess+) is not taken: the child's pid needs pPID.TID.
  CHECK(ask(s, "qSupported:fork-events+").find("fork-events+") == std::string::npos);

  std::string r = ask(s, "qSupported:multiprocess+;fork-events+;exec-events+;swbreak+");
  CHECK(r.find(";multiprocess+") != std::string::npos);
  CHECK(r.find(";fork-events+") != std::string::npos);
  CHECK(r.find(";exec-events+") != std::string::npos);
  CHECK(r.find("vfork-events+") == std::string::npos);  // not asked for
  CHECK(ask(s, "qfThreadInfo") == "mp3e8.3e8,p3e8.3f2");
  CHECK(ask(s, "qC") == "QCp3e8.3e8");
  CHECK(ask(s, "Hgp3e8.3f2") == "OK");
  CHECK(ask(s, "Hgp3e8.0") == "OK");   // any thread of the process
  CHECK(ask(s, "Hgp7d0.0") == "E01");  // no such process
  CHECK(ask(s, "Tp3e8.3f2") == "OK");
  CHECK(ask(s, "vCont;s:p3e8.3f2;c:p3e8.-1").rfind("T05thread:p3e8.", 0) == 0);
  REQUIRE(!t.resumes.empty());
  CHECK(t.resumes.back().kind == ResumeKind::Step);
  CHECK(t.resumes.back().tid == MockTarget::kTid2);

  StopReason fork;
  fork.kind = StopReason::Kind::Forked;
  fork.tid = MockTarget::kTid1;
  fork.child_pid = fork.child_tid = 0x7d0;
  CHECK(s.stop_reply(fork).rfind("T05fork:p7d0.7d0;thread:p3e8.3e8;", 0) == 0);
  fork.kind = StopReason::Kind::VForked;
  CHECK(s.stop_reply(fork).rfind("T05vfork:p7d0.7d0;thread:p3e8.3e8;", 0) == 0);
  StopReason done;
  done.kind = StopReason::Kind::VForkDone;
  done.tid = MockTarget::kTid1;
  CHECK(s.stop_reply(done).rfind("T05vforkdone:;thread:p3e8.3e8;", 0) == 0);
  StopReason exec;
  exec.kind = StopReason::Kind::Execd;
  exec.tid = MockTarget::kTid1;
  exec.exec_path = "/bin/ls";
  CHECK(s.stop_reply(exec).rfind("T05exec:" + to_hex(std::string_view("/bin/ls")) + ";thread:p3e8.3e8;", 0) == 0);
  StopReason exited;
  exited.kind = StopReason::Kind::Exited;
  exited.pid = 0x7d0;
  exited.code = 7;
  CHECK(s.stop_reply(exited) == "W07;process:7d0");
  // A target that debugs one process cannot detach from another; detaching
  // from its own ends the session.
  CHECK(ask(s, "D;7d0") == "E01");
  CHECK(s.handle_packet("D;3e8").end_session);
}
