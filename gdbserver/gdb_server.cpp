#include "gdbserver/gdb_server.h"

#include <algorithm>
#include <array>
#include <csignal>
#include <cstring>
#include <exception>

#include "gdbserver/packet_codec.h"
#include "gdbserver/target_description.h"

namespace rrx::gdb {

namespace {

// gdb's protocol signal numbers (gdb/include/gdb/signals.def).
constexpr int kGdbSignalUnknown = 143;

struct SignalMapping {
  int linux_signo;
  int gdb_signo;
};

// Linux x86-64 signals 1-31; numbers that differ from gdb's are marked.
constexpr std::array<SignalMapping, 31> kSignals = {{
    {SIGHUP, 1},
    {SIGINT, 2},
    {SIGQUIT, 3},
    {SIGILL, 4},
    {SIGTRAP, 5},
    {SIGABRT, 6},
    {SIGBUS, 10},  // differs (Linux 7)
    {SIGFPE, 8},
    {SIGKILL, 9},
    {SIGUSR1, 30},  // differs (Linux 10)
    {SIGSEGV, 11},
    {SIGUSR2, 31},  // differs (Linux 12)
    {SIGPIPE, 13},
    {SIGALRM, 14},
    {SIGTERM, 15},
    {SIGSTKFLT, kGdbSignalUnknown},  // gdb has no SIGSTKFLT
    {SIGCHLD, 20},                   // differs (Linux 17)
    {SIGCONT, 19},                   // differs (Linux 18)
    {SIGSTOP, 17},                   // differs (Linux 19)
    {SIGTSTP, 18},                   // differs (Linux 20)
    {SIGTTIN, 21},
    {SIGTTOU, 22},
    {SIGURG, 16},  // differs (Linux 23)
    {SIGXCPU, 24},
    {SIGXFSZ, 25},
    {SIGVTALRM, 26},
    {SIGPROF, 27},
    {SIGWINCH, 28},
    {SIGIO, 23},   // differs (Linux 29, = SIGPOLL)
    {SIGPWR, 32},  // differs (Linux 30)
    {SIGSYS, 12},  // differs (Linux 31)
}};

// Real-time signals: Linux 32 -> GDB_SIGNAL_REALTIME_32 (77), 33..63 ->
// GDB_SIGNAL_REALTIME_33.. (45..75), 64 -> GDB_SIGNAL_REALTIME_64 (78).
constexpr int kGdbRealtime32 = 77, kGdbRealtime33 = 45, kGdbRealtime64 = 78;

constexpr size_t kMaxMemoryRead = (kPacketSize - 32) / 2;
constexpr size_t kThreadsPerReply = 128;
constexpr size_t kConsoleChunk = 2048;  // bytes of text per 'O' packet

std::string hex_u8(unsigned v) {
  static const char digits[] = "0123456789abcdef";
  return {digits[(v >> 4) & 0xf], digits[v & 0xf]};
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// One part of a thread id: "-1" all, "0" any, else a hex number.
bool parse_id_part(std::string_view s, int& id) {
  if (s == "-1") {
    id = -1;
    return true;
  }
  uint64_t v;
  if (!parse_hex(s, v) || v > 0x7fffffff) return false;
  id = static_cast<int>(v);
  return true;
}

// Thread ids: "-1" all, "0" any, hex tid, or multiprocess "pPID.TID" /
// "pPID" (all threads of the process); pid is 0 when the id names none.
bool parse_thread_id(std::string_view s, int& tid, int& pid) {
  pid = 0;
  if (s.empty()) return false;
  if (s[0] == 'p') {
    auto dot = s.find('.');
    if (!parse_id_part(s.substr(1, dot == std::string_view::npos ? std::string_view::npos : dot - 1), pid)) return false;
    if (dot == std::string_view::npos) {
      tid = -1;
      return true;
    }
    s = s.substr(dot + 1);
  }
  return parse_id_part(s, tid);
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) out += '?';
        else out += c;
    }
  }
  return out;
}

// Splits "a,b" into two hex numbers.
bool parse_addr_len(std::string_view s, uint64_t& addr, uint64_t& len) {
  auto comma = s.find(',');
  if (comma == std::string_view::npos) return false;
  return parse_hex(s.substr(0, comma), addr) && parse_hex(s.substr(comma + 1), len);
}

}  // namespace

int to_gdb_signal(int linux_signo) {
  if (linux_signo == 0) return 0;
  for (const auto& m : kSignals)
    if (m.linux_signo == linux_signo) return m.gdb_signo;
  if (linux_signo == 32) return kGdbRealtime32;
  if (linux_signo >= 33 && linux_signo <= 63) return kGdbRealtime33 + (linux_signo - 33);
  if (linux_signo == 64) return kGdbRealtime64;
  return kGdbSignalUnknown;
}

int from_gdb_signal(int gdb_signo) {
  if (gdb_signo == 0) return 0;
  for (const auto& m : kSignals)
    if (m.gdb_signo == gdb_signo && m.gdb_signo != kGdbSignalUnknown) return m.linux_signo;
  if (gdb_signo == kGdbRealtime32) return 32;
  if (gdb_signo >= kGdbRealtime33 && gdb_signo <= kGdbRealtime33 + 30) return 33 + (gdb_signo - kGdbRealtime33);
  if (gdb_signo == kGdbRealtime64) return 64;
  return 0;
}

GdbServer::GdbServer(Target& target, GdbServerOptions options)
    : target_(target), options_(std::move(options)), host_io_(target) {}

void GdbServer::reset_session() {
  g_thread_ = 0;
  c_thread_ = -1;
  gdb_swbreak_ = false;
  gdb_hwbreak_ = false;
  gdb_error_message_ = false;
  lldb_error_strings_ = false;
  lldb_threads_in_stop_reply_ = false;
  extended_ = false;
  multiprocess_ = fork_events_ = vfork_events_ = exec_events_ = false;
  target_.set_event_reporting(false, false, false);
  gone_ = false;
  thread_list_.clear();
  thread_list_pos_ = 0;
  host_io_.reset();
}

GdbServer::Result GdbServer::reply(std::string payload) {
  Result r;
  r.packets.push_back(std::move(payload));
  return r;
}

// Every error rrx explains goes out as text: gdb's "E.text" (gdb 13 shows
// it for register writes (G/P), vRun, and whatever reports the reply
// verbatim; for M/X it only says "Cannot access memory at address ...";
// gdb 15 and later also show it for qRcmd and m once they announced
// error-message+), or lldb's "EXX;HEXTEXT" once it asked with
// QEnableErrorStrings.
GdbServer::Result GdbServer::error_reply(std::string_view message) {
  if (lldb_error_strings_) return reply("E01;" + to_hex(message));
  return reply("E." + sanitize_text(message));
}

GdbServer::Result GdbServer::refuse_write(bool registers) {
  std::string why;
  bool allowed = registers ? target_.write_registers_allowed(why) : target_.write_memory_allowed(why);
  if (why.empty()) {
    why = allowed ? std::string("rrx: writing ") + (registers ? "registers" : "memory") + " is not supported"
                  : std::string("rrx: cannot write ") + (registers ? "registers" : "memory") +
                        " during a replay: it would change the recorded execution";
  }
  if (options_.notice) options_.notice(why);
  return error_reply(why);
}

int GdbServer::general_thread() {
  if (g_thread_ > 0) return g_thread_;
  return target_.current_thread();
}

std::string GdbServer::thread_id(int tid) {
  if (!multiprocess_) return hex_number(static_cast<uint64_t>(tid));
  return "p" + hex_number(static_cast<uint64_t>(target_.process_of(tid))) + "." +
         hex_number(static_cast<uint64_t>(tid));
}

int GdbServer::thread_of_process(int pid) {
  for (int tid : target_.threads()) {
    if (target_.process_of(tid) == pid) return tid;
  }
  return 0;
}

void GdbServer::serve(Connection& conn) {
  if (!conn.accept()) return;
  reset_session();
  target_.catch_syscalls(false, {});  // a new client catches no syscalls until it says so
  // While serving, resume() runs under the connection's ^C watch.
  struct RunnerScope {
    GdbServer& self;
    Connection& conn;
    ResumeRunner saved;
    RunnerScope(GdbServer& s, Connection& c) : self(s), conn(c), saved(std::move(s.resume_runner_)) {
      self.resume_runner_ = [this](const std::function<StopReason()>& fn) {
        StopReason stop;
        conn.run_watching_interrupts([this] { self.target_.request_interrupt(); }, [&] { stop = fn(); });
        return stop;
      };
    }
    ~RunnerScope() {
      self.resume_runner_ = std::move(saved);
      conn.close_client();
    }
  } scope(*this, conn);
  for (;;) {
    Connection::Incoming in = conn.next_packet();
    if (in.kind == Connection::Incoming::Kind::Closed) break;
    if (options_.trace) options_.trace("<- " + in.payload);
    Result res;
    try {
      res = handle_packet(in.payload);
    } catch (const std::exception& e) {
      res = error_reply(std::string("rrx: ") + e.what());
    }
    bool ok = true;
    for (const auto& p : res.packets) {
      if (options_.trace) options_.trace("-> " + p);
      if (!conn.send_packet(p)) {
        ok = false;
        break;
      }
    }
    if (res.start_no_ack) conn.set_ack_mode(false);
    if (!ok || res.end_session) break;
  }
}

GdbServer::Result GdbServer::handle_packet(std::string_view packet) {
  if (packet.empty()) return reply("");
  const char cmd = packet[0];
  const std::string_view args = packet.substr(1);
  switch (cmd) {
    case '?': {
      StopReason last = target_.last_stop();
      if (gone_ && last.kind != StopReason::Kind::Exited && last.kind != StopReason::Kind::Terminated)
        return reply("W00");
      return reply(stop_reply(last, /*initial=*/true));
    }
    case '!':
      extended_ = true;
      return reply("OK");
    case 'g': {
      ThreadRegisters regs;
      if (!target_.read_registers(general_thread(), regs)) return reply("E01");
      std::string out;
      out.reserve(g_packet_bytes() * 2);
      uint8_t buf[64];
      for (int i = 0; i < static_cast<int>(amd64_registers().size()); ++i) {
        size_t n = register_size(i);
        if (read_register(regs, i, buf)) out += to_hex(buf, n);
        else out.append(2 * n, 'x');
      }
      return reply(std::move(out));
    }
    case 'p': {
      uint64_t regno;
      if (!parse_hex(args, regno) || regno >= amd64_registers().size()) return reply("E00");
      ThreadRegisters regs;
      if (!target_.read_registers(general_thread(), regs)) return reply("E01");
      uint8_t buf[64];
      size_t n = register_size(static_cast<int>(regno));
      if (!read_register(regs, static_cast<int>(regno), buf)) return reply(std::string(2 * n, 'x'));
      return reply(to_hex(buf, n));
    }
    case 'G':
    case 'P':
      return handle_register_write(cmd, args);
    case 'm':
      return handle_read_memory(args, false);
    case 'x':
      return handle_read_memory(args, true);
    case 'M':
    case 'X': {
      // A zero-length write (gdb probes X support with one) changes nothing.
      auto colon = args.find(':');
      uint64_t addr, len;
      if (colon != std::string_view::npos && parse_addr_len(args.substr(0, colon), addr, len) && len == 0)
        return reply("OK");
      return refuse_write(false);
    }
    case 'Z':
      return handle_breakpoint(args, true);
    case 'z':
      return handle_breakpoint(args, false);
    case 'c':
    case 'C':
      return do_resume(ResumeKind::Continue, 0);
    case 's':
    case 'S':
      return do_resume(ResumeKind::Step, c_thread_ > 0 ? c_thread_ : 0, c_thread_ > 0);
    case 'b':
      if (args == "c" || args == "s") {
        if (!target_.can_reverse()) return reply("");
        // bs with Hc "any thread" steps the thread gdb looks at (Hg); with
        // Hc THREAD, that thread alone.
        return do_resume(args == "c" ? ResumeKind::ReverseContinue : ResumeKind::ReverseStep,
                         args == "s" ? (c_thread_ > 0 ? c_thread_ : general_thread()) : 0, c_thread_ > 0);
      }
      return reply("");
    case 'H':
      return handle_h(args);
    case 'T': {
      int tid, pid;
      if (!parse_thread_id(args, tid, pid)) return reply("E01");
      if (tid <= 0 && pid > 0) tid = thread_of_process(pid);
      auto threads = target_.threads();
      if (!gone_ && tid > 0 && std::find(threads.begin(), threads.end(), tid) != threads.end()) return reply("OK");
      return reply("E01");
    }
    case 'k': {
      Result r;  // no reply
      if (extended_) gone_ = true;
      else r.end_session = true;
      return r;
    }
    case 'D': {
      // D;PID (multiprocess): that process only; the session goes on while
      // gdb debugs others.
      uint64_t pid = 0;
      if (args.size() > 1 && args[0] == ';') {
        if (!parse_hex(args.substr(1), pid) || pid > 0x7fffffff) return reply("E01");
        if (target_.detach(static_cast<int>(pid))) {
          if (!target_.processes().empty()) return reply("OK");
        } else if (static_cast<int>(pid) != target_.pid()) {
          return reply("E01");  // a target of one process: only that one
        }
      }
      Result r = reply("OK");
      r.end_session = true;
      return r;
    }
    case 'q':
    case 'Q':
      return handle_q(packet);
    case 'v':
      return handle_v(packet);
    default:
      return reply("");
  }
}

namespace {

// A register write that changes nothing the replay depends on: the value
// it already has, or orig_rax = -1, which gdb writes whenever it sets the
// pc (`run`, `jump`) so that the kernel does not restart an interrupted
// system call; a replay restarts nothing, and refusing it would make
// gdb's `run` (restart the replay) fail.
bool harmless_register_write(const ThreadRegisters& regs, int regno, std::string_view hex) {
  const size_t n = register_size(regno);
  if (n == 0 || hex.size() != 2 * n) return false;
  uint8_t current[64];
  const bool available = read_register(regs, regno, current);
  std::string bytes;
  if (!from_hex(hex, bytes)) return !available && hex.find_first_not_of('x') == std::string_view::npos;
  static const int orig_rax = register_number("orig_rax");
  if (regno == orig_rax && bytes == std::string(8, '\xff')) return true;
  return available && std::memcmp(bytes.data(), current, n) == 0;
}

}  // namespace

GdbServer::Result GdbServer::handle_register_write(char cmd, std::string_view args) {
  ThreadRegisters regs;
  if (target_.read_registers(general_thread(), regs)) {
    const int count = static_cast<int>(amd64_registers().size());
    if (cmd == 'P') {
      auto eq = args.find('=');
      uint64_t regno;
      if (eq != std::string_view::npos && parse_hex(args.substr(0, eq), regno) && regno < static_cast<uint64_t>(count) &&
          harmless_register_write(regs, static_cast<int>(regno), args.substr(eq + 1)))
        return reply("OK");
    } else {
      size_t off = 0;
      bool harmless = true;
      for (int i = 0; i < count && harmless; ++i) {
        const size_t n = 2 * register_size(i);
        harmless = off + n <= args.size() && harmless_register_write(regs, i, args.substr(off, n));
        off += n;
      }
      if (harmless && off == args.size()) return reply("OK");
    }
  }
  return refuse_write(true);
}

GdbServer::Result GdbServer::handle_read_memory(std::string_view args, bool binary) {
  uint64_t addr, len;
  if (!parse_addr_len(args, addr, len)) return reply("E01");
  len = std::min<uint64_t>(len, kMaxMemoryRead);
  if (len == 0) return reply(binary ? "b" : "");
  std::string buf(len, '\0');
  size_t n = target_.read_memory(addr, buf.data(), len);
  if (n == 0) return reply("E01");
  buf.resize(std::min<size_t>(n, len));
  if (binary) return reply("b" + escape_binary(buf));
  return reply(to_hex(buf));
}

GdbServer::Result GdbServer::handle_breakpoint(std::string_view args, bool insert) {
  // TYPE,ADDR,KIND[;cond...]
  auto semi = args.find(';');
  std::string_view main = args.substr(0, semi);
  auto c1 = main.find(',');
  if (c1 == std::string_view::npos) return reply("E01");
  uint64_t type;
  if (!parse_hex(main.substr(0, c1), type)) return reply("E01");
  BreakpointKind kind;
  switch (type) {
    case 0: kind = BreakpointKind::Software; break;
    case 1: kind = BreakpointKind::Hardware; break;
    case 2: kind = BreakpointKind::WriteWatch; break;
    case 3: kind = BreakpointKind::ReadWatch; break;
    case 4: kind = BreakpointKind::AccessWatch; break;
    default: return reply("");
  }
  uint64_t addr, len;
  if (!parse_addr_len(main.substr(c1 + 1), addr, len)) return reply("E01");
  bool ok = insert ? target_.insert_breakpoint(kind, addr, len) : target_.remove_breakpoint(kind, addr, len);
  return reply(ok ? "OK" : "E01");
}

GdbServer::Result GdbServer::handle_h(std::string_view args) {
  if (args.empty()) return reply("E01");
  const char which = args[0];
  int tid, pid;
  if (!parse_thread_id(args.substr(1), tid, pid)) return reply("E01");
  if (tid <= 0 && pid > 0) {
    // pPID.0 / pPID.-1: a thread of that process (gdb picks the process
    // that memory and breakpoint packets apply to this way).
    tid = thread_of_process(pid);
    if (tid == 0) return reply("E01");
  }
  if (tid > 0) {
    if (which == 'g') {
      if (!target_.set_current_thread(tid)) return reply("E01");
    } else {
      auto threads = target_.threads();
      if (std::find(threads.begin(), threads.end(), tid) == threads.end()) return reply("E01");
    }
  }
  if (which == 'g') g_thread_ = tid;
  else if (which == 'c') c_thread_ = tid;
  else return reply("E01");
  return reply("OK");
}

GdbServer::Result GdbServer::do_resume(ResumeKind kind, int tid, bool others_held) {
  StopReason stop = resume_runner_ ? resume_runner_([&] { return target_.resume(kind, tid, others_held); })
                                   : target_.resume(kind, tid, others_held);
  // After W/X gdb considers the process gone until vRun (with several
  // processes: once none is left).
  if (stop.kind == StopReason::Kind::Exited || stop.kind == StopReason::Kind::Terminated) {
    auto left = multiprocess_ ? target_.processes() : std::vector<int>();
    std::erase(left, stop.pid);
    gone_ = left.empty();
  }
  return reply(stop_reply(stop));
}

std::string GdbServer::expedited_registers(int tid) {
  ThreadRegisters regs;
  if (!target_.read_registers(tid, regs)) return {};
  std::string out;
  uint8_t buf[64];
  for (const char* name : {"rbp", "rsp", "rip"}) {
    int regno = register_number(name);
    if (!read_register(regs, regno, buf)) continue;
    out += hex_u8(static_cast<unsigned>(regno)) + ":" + to_hex(buf, register_size(regno)) + ";";
  }
  return out;
}

std::string GdbServer::stop_packet(const StopReason& stop, bool initial) {
  const std::string process =
      multiprocess_ && stop.pid > 0 ? ";process:" + hex_number(static_cast<uint64_t>(stop.pid)) : "";
  switch (stop.kind) {
    case StopReason::Kind::Exited:
      return "W" + hex_u8(static_cast<unsigned>(stop.code) & 0xff) + process;
    case StopReason::Kind::Terminated:
      return "X" + hex_u8(static_cast<unsigned>(to_gdb_signal(stop.signo)) & 0xff) + process;
    default:
      break;
  }
  const int tid = stop.tid > 0 ? stop.tid : target_.current_thread();
  std::string out = "T";
  if (stop.kind == StopReason::Kind::Signal) {
    out += hex_u8(static_cast<unsigned>(to_gdb_signal(stop.signo)) & 0xff);
  } else {
    out += "05";
    switch (stop.kind) {
      case StopReason::Kind::Forked:
      case StopReason::Kind::VForked:
        out += std::string(stop.kind == StopReason::Kind::Forked ? "fork:p" : "vfork:p") +
               hex_number(static_cast<uint64_t>(stop.child_pid)) + "." +
               hex_number(static_cast<uint64_t>(stop.child_tid)) + ";";
        break;
      case StopReason::Kind::VForkDone: out += "vforkdone:;"; break;
      case StopReason::Kind::Execd: out += "exec:" + to_hex(stop.exec_path) + ";"; break;
      case StopReason::Kind::ReplayBegin:
        if (!initial) out += "replaylog:begin;";
        break;
      default:
        if (!initial) out += "replaylog:end;";
        break;
    }
  }
  if (tid > 0) out += "thread:" + thread_id(tid) + ";";
  if (stop.kind == StopReason::Kind::Signal && !initial) {
    if (stop.watchpoint) {
      const char* key = stop.watch_kind == BreakpointKind::ReadWatch     ? "rwatch"
                        : stop.watch_kind == BreakpointKind::AccessWatch ? "awatch"
                                                                         : "watch";
      out += std::string(key) + ":" + hex_number(stop.watch_addr) + ";";
    } else if (stop.syscall != StopReason::Syscall::None) {
      out += std::string(stop.syscall == StopReason::Syscall::Entry ? "syscall_entry:" : "syscall_return:") +
             hex_number(static_cast<uint64_t>(stop.syscall_nr)) + ";";
    } else if (stop.software_breakpoint && gdb_swbreak_) {
      out += "swbreak:;";
    } else if (stop.hardware_breakpoint && gdb_hwbreak_) {
      out += "hwbreak:;";
    }
  }
  if (tid > 0) out += expedited_registers(tid);
  return out;
}

std::string GdbServer::stop_reply(const StopReason& stop, bool initial) {
  std::string out = stop_packet(stop, initial);
  if (out[0] != 'T') return out;
  // gdb takes the thread of a stop reply as the remote's general thread.
  const int tid = stop.tid > 0 ? stop.tid : target_.current_thread();
  if (tid > 0) g_thread_ = tid;
  if (lldb_threads_in_stop_reply_) out += lldb_stop_threads();
  return out;
}

std::string GdbServer::threads_xml() {
  std::string xml = "<?xml version=\"1.0\"?>\n<threads>\n";
  for (int tid : gone_ ? std::vector<int>() : target_.threads()) {
    xml += "<thread id=\"" + thread_id(tid) + "\"";
    std::string name = target_.thread_name(tid);
    if (!name.empty()) xml += " name=\"" + xml_escape(name) + "\"";
    xml += "/>\n";
  }
  xml += "</threads>\n";
  return xml;
}

GdbServer::Result GdbServer::handle_qxfer(std::string_view args) {
  // OBJECT:read:ANNEX:OFFSET,LENGTH
  auto c1 = args.find(':');
  if (c1 == std::string_view::npos) return reply("");
  std::string_view object = args.substr(0, c1);
  std::string_view rest = args.substr(c1 + 1);
  if (!starts_with(rest, "read:")) return reply("");
  rest.remove_prefix(5);
  auto c2 = rest.rfind(':');
  if (c2 == std::string_view::npos) return reply("E00");
  std::string_view annex = rest.substr(0, c2);
  uint64_t offset, length;
  if (!parse_addr_len(rest.substr(c2 + 1), offset, length)) return reply("E00");

  std::string data;
  if (object == "features") {
    if (annex != "target.xml") return reply("E00");
    data = target_xml();
  } else if (object == "auxv") {
    if (!annex.empty()) return reply("E00");
    data = target_.auxv();
  } else if (object == "exec-file") {
    uint64_t pid = 0;
    if (!annex.empty() && (!parse_hex(annex, pid) || pid > 0x7fffffff)) return reply("E00");
    data = pid != 0 ? target_.exec_file_of(static_cast<int>(pid)) : target_.exec_file();
    if (data.empty()) return reply("E01");
  } else if (object == "threads") {
    if (!annex.empty()) return reply("E00");
    data = threads_xml();
  } else if (object == "siginfo") {
    if (!annex.empty()) return reply("E00");
    data = target_.siginfo(general_thread());
    if (data.empty()) return reply("E01");
  } else {
    return reply("");
  }
  if (length == 0) return reply("E00");  // an empty 'm' chunk would make gdb ask forever
  if (offset >= data.size()) return reply("l");
  length = std::min<uint64_t>(length, kMaxMemoryRead);
  const size_t n = static_cast<size_t>(std::min<uint64_t>(length, data.size() - offset));
  const bool last = offset + n >= data.size();
  return reply((last ? "l" : "m") + escape_binary(std::string_view(data).substr(offset, n)));
}

GdbServer::Result GdbServer::handle_rcmd(std::string_view hex) {
  std::string command;
  if (!from_hex(hex, command)) return reply("E01");
  bool ok = true;
  std::string output = target_.monitor(command, ok);
  Result r;
  if (!output.empty() && output.back() != '\n') output += '\n';
  for (size_t pos = 0; pos < output.size(); pos += kConsoleChunk)
    r.packets.push_back("O" + to_hex(std::string_view(output).substr(pos, kConsoleChunk)));
  // A failed command's message goes out as console output too, and the
  // reply is still OK: gdb 13 decodes an "E.text" reply to qRcmd as hex
  // ("Invalid hex digit 46") and answers "Enn" with a confusing "Protocol
  // error with Rcmd" after the message. A gdb that announced
  // error-message+ (15 and later) shows "E.text" as the command's error.
  if (!ok && (gdb_error_message_ || lldb_error_strings_)) {
    while (!output.empty() && output.back() == '\n') output.pop_back();
    return error_reply(output);
  }
  r.packets.push_back("OK");
  return r;
}

GdbServer::Result GdbServer::handle_q(std::string_view packet) {
  if (starts_with(packet, "qSupported")) {
    gdb_swbreak_ = gdb_hwbreak_ = gdb_error_message_ = false;
    multiprocess_ = fork_events_ = vfork_events_ = exec_events_ = false;
    std::string_view features = packet.substr(10);
    if (!features.empty() && features[0] == ':') features.remove_prefix(1);
    while (!features.empty()) {
      auto semi = features.find(';');
      std::string_view f = features.substr(0, semi);
      if (f == "swbreak+") gdb_swbreak_ = true;
      if (f == "hwbreak+") gdb_hwbreak_ = true;
      if (f == "error-message+") gdb_error_message_ = true;
      if (f == "multiprocess+") multiprocess_ = true;
      if (f == "fork-events+") fork_events_ = true;
      if (f == "vfork-events+") vfork_events_ = true;
      if (f == "exec-events+") exec_events_ = true;
      if (semi == std::string_view::npos) break;
      features.remove_prefix(semi + 1);
    }
    std::string r = "PacketSize=" + hex_number(kPacketSize) +
                    ";QStartNoAckMode+;qXfer:features:read+;qXfer:auxv:read+;qXfer:exec-file:read+"
                    ";qXfer:threads:read+;qXfer:siginfo:read+;swbreak+;hwbreak+;vContSupported+;binary-upload+"
                    ";QCatchSyscalls+";
    if (target_.can_reverse()) r += ";ReverseContinue+;ReverseStep+";
    // Process events need gdb's multiprocess thread ids (the child's pid).
    if (!multiprocess_) fork_events_ = vfork_events_ = exec_events_ = false;
    if (multiprocess_) r += ";multiprocess+";
    if (fork_events_) r += ";fork-events+";
    if (vfork_events_) r += ";vfork-events+";
    if (exec_events_) r += ";exec-events+";
    target_.set_event_reporting(fork_events_, vfork_events_, exec_events_);
    return reply(std::move(r));
  }
  if (starts_with(packet, "QCatchSyscalls:")) return handle_catch_syscalls(packet.substr(15));
  Result lldb;
  if (handle_lldb_query(packet, lldb)) return lldb;
  if (packet == "QStartNoAckMode") {
    Result r = reply("OK");
    r.start_no_ack = true;
    return r;
  }
  if (starts_with(packet, "qAttached")) return reply("1");
  if (packet == "qC") {
    const int tid = target_.current_thread();
    return reply("QC" + (tid > 0 ? thread_id(tid) : std::string("0")));
  }
  if (packet == "qfThreadInfo") {
    thread_list_ = gone_ ? std::vector<int>() : target_.threads();
    thread_list_pos_ = 0;
  }
  if (packet == "qfThreadInfo" || packet == "qsThreadInfo") {
    if (thread_list_pos_ >= thread_list_.size()) return reply("l");
    std::string r = "m";
    size_t end = std::min(thread_list_.size(), thread_list_pos_ + kThreadsPerReply);
    for (size_t i = thread_list_pos_; i < end; ++i) {
      if (i > thread_list_pos_) r += ',';
      r += thread_id(thread_list_[i]);
    }
    thread_list_pos_ = end;
    return reply(std::move(r));
  }
  if (starts_with(packet, "qXfer:")) return handle_qxfer(packet.substr(6));
  if (starts_with(packet, "qRcmd,")) return handle_rcmd(packet.substr(6));
  if (starts_with(packet, "qSymbol")) return reply("OK");
  return reply("");
}

// QCatchSyscalls:0 (catch none), QCatchSyscalls:1 (all), QCatchSyscalls:1;NR;NR... (those, in hex).
GdbServer::Result GdbServer::handle_catch_syscalls(std::string_view args) {
  if (args == "0") return reply(target_.catch_syscalls(false, {}) ? "OK" : "");
  if (args.empty() || args[0] != '1') return reply("E01");
  args.remove_prefix(1);
  std::vector<int64_t> numbers;
  while (!args.empty()) {
    if (args[0] != ';') return reply("E01");
    args.remove_prefix(1);
    auto semi = args.find(';');
    uint64_t nr;
    if (!parse_hex(args.substr(0, semi), nr) || nr > 0xffff) return reply("E01");
    numbers.push_back(static_cast<int64_t>(nr));
    args = semi == std::string_view::npos ? std::string_view() : args.substr(semi);
  }
  return reply(target_.catch_syscalls(true, numbers) ? "OK" : "");
}

GdbServer::Result GdbServer::handle_vcont(std::string_view actions) {
  // ;ACTION[:THREAD] ... where THREAD is a tid, -1, or (multiprocess)
  // pPID.TID / pPID.-1 (every thread of one process). A replay runs every
  // process as recorded, whichever gdb resumes: the stops of all the
  // processes gdb debugs are reported (gdb's `set schedule-multiple on`).
  bool have_step = false, have_default_continue = false;
  int step_tid = 0, continue_tid = 0;
  while (!actions.empty()) {
    if (actions[0] != ';') return reply("E01");
    actions.remove_prefix(1);
    auto next = actions.find(';');
    std::string_view action = actions.substr(0, next);
    actions = next == std::string_view::npos ? std::string_view() : actions.substr(next);
    if (action.empty()) return reply("E01");
    const char type = action[0];
    std::string_view rest = action.substr(1);
    if (type == 'C' || type == 'S') {
      // Signal to deliver: a replay cannot inject one; it is ignored.
      if (rest.size() < 2 || hex_digit_value(rest[0]) < 0 || hex_digit_value(rest[1]) < 0) return reply("E01");
      rest.remove_prefix(2);
    } else if (type != 'c' && type != 's' && type != 't') {
      return error_reply("rrx: unsupported vCont action");
    }
    int tid = -1, pid = 0;
    if (!rest.empty()) {
      if (rest[0] != ':' || !parse_thread_id(rest.substr(1), tid, pid)) return reply("E01");
    }
    const bool step = type == 's' || type == 'S';
    if (type == 't') continue;  // non-stop only
    if (step) {
      if (!have_step || (step_tid <= 0 && tid > 0)) step_tid = tid > 0 ? tid : (c_thread_ > 0 ? c_thread_ : 0);
      have_step = true;
    } else if (tid > 0) {
      if (continue_tid == 0) continue_tid = tid;
    } else {
      have_default_continue = true;
    }
  }
  if (have_step) return do_resume(ResumeKind::Step, step_tid, !have_default_continue && continue_tid == 0);
  // Only thread-specific continues (scheduler-locking): resume that thread.
  if (!have_default_continue && continue_tid > 0) return do_resume(ResumeKind::Continue, continue_tid, true);
  return do_resume(ResumeKind::Continue, 0);
}

GdbServer::Result GdbServer::handle_v(std::string_view packet) {
  if (packet == "vCont?") return reply("vCont;c;C;s;S");
  if (starts_with(packet, "vCont;")) return handle_vcont(packet.substr(5));
  if (packet == "vMustReplyEmpty") return reply("");
  if (starts_with(packet, "vFile:")) return reply(host_io_.handle(packet.substr(6)));
  if (starts_with(packet, "vKill")) {
    // vKill;PID: gdb is done with that process (a replay goes on replaying
    // it unseen); the program is gone for gdb once no process is left.
    uint64_t pid = 0;
    if (packet.size() > 6 && packet[5] == ';' && parse_hex(packet.substr(6), pid) && pid <= 0x7fffffff &&
        multiprocess_ && target_.detach(static_cast<int>(pid)) && !target_.processes().empty())
      return reply("OK");
    gone_ = true;
    return reply("OK");
  }
  if (starts_with(packet, "vRun")) {
    // vRun;FILENAME[;ARG]...: the arguments (hex) are the target's to interpret.
    std::vector<std::string> run_args;
    std::string_view rest = packet.substr(4);
    if (!rest.empty() && rest[0] == ';') rest.remove_prefix(1);
    bool first = true;
    while (true) {
      auto semi = rest.find(';');
      std::string_view field = rest.substr(0, semi);
      if (!first) {
        std::string arg;
        if (!from_hex(field, arg)) return reply("E01");
        run_args.push_back(std::move(arg));
      }
      first = false;
      if (semi == std::string_view::npos) break;
      rest.remove_prefix(semi + 1);
    }
    std::string why;
    if (!target_.restart(run_args, why)) {
      // gdb 13 shows only "Running ... on the remote target failed" for an
      // error reply to vRun: the reason goes to the notice too.
      if (why.empty()) why = "rrx: this replay cannot be restarted";
      if (options_.notice) options_.notice(why);
      return error_reply(why);
    }
    gone_ = false;
    g_thread_ = 0;
    c_thread_ = -1;
    return reply(stop_reply(target_.last_stop(), /*initial=*/true));
  }
  return reply("");
}

}  // namespace rrx::gdb
