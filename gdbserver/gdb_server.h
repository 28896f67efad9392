// Packet handlers: answers gdb's requests by calling gdb::Target.
//
//   auto conn = rrx::gdb::Connection::listen(port);   // port 0: a free one
//   // tell the user / launch gdb with conn.port()
//   rrx::gdb::GdbServer server(target);
//   server.serve(conn);   // accepts one client, returns when it detaches or goes away
//
// handle_packet() answers one decoded packet without any I/O (tests, fuzzing).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gdbserver/connection.h"
#include "gdbserver/host_io.h"
#include "gdbserver/target.h"

namespace rrx::gdb {

struct GdbServerOptions {
  // Called with a one-line explanation when gdb tries to write memory or
  // registers and the target refuses. gdb 13 shows the reason for register
  // writes (G/P) but only "Cannot access memory at address ..." for memory
  // writes, so a replay that runs gdb in the same terminal can print this
  // to stderr. May be empty.
  std::function<void(const std::string&)> notice;
  // Called with every packet received ("<- ...") and sent ("-> ..."), for
  // debugging the protocol. May be empty.
  std::function<void(const std::string&)> trace;
};

// Linux signal number -> gdb's protocol signal number (GDB_SIGNAL_*), and back.
int to_gdb_signal(int linux_signo);
int from_gdb_signal(int gdb_signo);  // 0 when there is no Linux equivalent

class GdbServer {
 public:
  explicit GdbServer(Target& target, GdbServerOptions options = {});

  // Serves one client on `conn` (accepting it first if needed) until it
  // detaches (D), kills in non-extended mode (k), or disconnects. Can be
  // called again to serve the next client.
  void serve(Connection& conn);

  struct Result {
    // Payloads to send, in order (console output 'O' packets before the
    // reply). Empty when the packet gets no reply (k).
    std::vector<std::string> packets;
    bool start_no_ack = false;  // switch acks off after sending
    bool end_session = false;   // close the connection after sending
  };
  // Answers one decoded packet (no I/O besides the Target calls). Resume
  // packets call Target::resume through the resume runner: directly by
  // default, under the connection's ^C watch inside serve().
  Result handle_packet(std::string_view packet);

  // Formats a stop reply for `stop` (T/W/X packets) and makes its thread the
  // general one, as gdb assumes.
  std::string stop_reply(const StopReason& stop, bool initial = false);

  // Resets per-connection state (thread selection, gdb's features, extended mode).
  void reset_session();

  // Wraps every Target::resume call made by handle_packet (tests, or a
  // caller that drives handle_packet over its own transport).
  using ResumeRunner = std::function<StopReason(const std::function<StopReason()>&)>;
  void set_resume_runner(ResumeRunner runner) { resume_runner_ = std::move(runner); }

 private:
  Result reply(std::string payload);
  Result error_reply(std::string_view message);
  Result refuse_write(bool registers);
  Result handle_register_write(char cmd, std::string_view args);

  Result handle_q(std::string_view packet);
  Result handle_qxfer(std::string_view args);
  Result handle_v(std::string_view packet);
  Result handle_vcont(std::string_view actions);
  Result handle_h(std::string_view packet);
  Result handle_breakpoint(std::string_view packet, bool insert);
  Result handle_read_memory(std::string_view args, bool binary);
  Result handle_rcmd(std::string_view hex);
  Result handle_catch_syscalls(std::string_view args);
  Result do_resume(ResumeKind kind, int tid, bool others_held = false);

  int general_thread();  // thread for g/p/m: Hg or the target's current one
  // A thread id as gdb expects it: "pPID.TID" once it announced
  // multiprocess+, else the hex tid.
  std::string thread_id(int tid);
  // Hg/Hc pPID.0 or pPID.-1: a thread of that process.
  int thread_of_process(int pid);
  std::string expedited_registers(int tid);
  // The T/W/X packet for `stop`, without stop_reply's side effects.
  std::string stop_packet(const StopReason& stop, bool initial);

  // lldb's packets (lldb_packets.cpp, the lldb-server names): qHostInfo,
  // qProcessInfo, qThreadStopInfo, qMemoryRegionInfo,
  // QListThreadsInStopReply, QEnableErrorStrings. Returns false when
  // `packet` is none of them.
  bool handle_lldb_query(std::string_view packet, Result& out);
  // "threads:...;thread-pcs:...;" for a T stop reply once lldb asked for it.
  std::string lldb_stop_threads();
  std::string threads_xml();

  Target& target_;
  GdbServerOptions options_;
  HostIo host_io_;  // vFile packets; its open files are per connection
  ResumeRunner resume_runner_;

  // Per-connection state.
  int g_thread_ = 0;   // Hg: 0 any, -1 all, else a tid
  int c_thread_ = -1;  // Hc
  bool gdb_swbreak_ = false;
  bool gdb_hwbreak_ = false;
  // gdb announced "error-message+" (gdb 15 and later): "E.text" replies are
  // shown for qRcmd and m too.
  bool gdb_error_message_ = false;
  // lldb sent QEnableErrorStrings: errors go out as "EXX;HEXTEXT" (lldb 14
  // keeps the text to itself for register and memory writes).
  bool lldb_error_strings_ = false;
  // lldb sent QListThreadsInStopReply: T replies list the threads and their pcs.
  bool lldb_threads_in_stop_reply_ = false;
  bool extended_ = false;
  // gdb's multiprocess extensions, as announced in qSupported.
  bool multiprocess_ = false;
  bool fork_events_ = false, vfork_events_ = false, exec_events_ = false;
  bool gone_ = false;  // killed (k/vKill) or exited: no threads until vRun
  std::vector<int> thread_list_;  // snapshot for qfThreadInfo/qsThreadInfo
  size_t thread_list_pos_ = 0;
};

}  // namespace rrx::gdb
