// The stub against the real gdb (/usr/bin/gdb): target description,
// registers, memory, refused writes, monitor commands, breakpoints,
// watchpoints, reverse execution and exit, with the MockTarget.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <vector>

#include "gdb_mock_target.h"
#include "gdbserver/connection.h"
#include "gdbserver/gdb_server.h"

using namespace rrx::gdb;
using rrx::gdb::testing::MockTarget;

namespace {

const char* gdb_path() {
  static const char* path = access("/usr/bin/gdb", X_OK) == 0 ? "/usr/bin/gdb" : nullptr;
  return path;
}

// Runs gdb in batch mode against 127.0.0.1:port with `commands`; returns
// its stdout and stderr.
std::string run_gdb(uint16_t port, const std::vector<std::string>& commands, int timeout_s = 60) {
  std::vector<std::string> args = {"gdb", "-nx", "-batch", "-q", "-ex", "set pagination off",
                                   "-ex", "set confirm off", "-ex", "set width 0",
                                   "-ex", "target extended-remote 127.0.0.1:" + std::to_string(port)};
  for (const auto& c : commands) {
    args.push_back("-ex");
    args.push_back(c);
  }
  int pipefd[2];
  REQUIRE(pipe2(pipefd, O_CLOEXEC) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(pipefd[1], 1);
    dup2(pipefd[1], 2);
    setenv("DEBUGINFOD_URLS", "", 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(gdb_path(), argv.data());
    _exit(127);
  }
  close(pipefd[1]);
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      kill(pid, SIGKILL);
      out += "\n<<gdb timed out>>\n";
      break;
    }
    pollfd p{pipefd[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = read(pipefd[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return out;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

struct Served {
  MockTarget target;
  Connection conn = Connection::listen(0);
  std::vector<std::string> notices;
  std::vector<std::string> packets;
  std::unique_ptr<GdbServer> server;
  std::future<void> done;

  Served() {
    target.exec_path.clear();  // gdb must not load a host binary over the mock's memory
    target.auxv_data = std::string(16, '\0');  // AT_NULL only
  }
  void start() {
    GdbServerOptions opts;
    opts.notice = [this](const std::string& m) { notices.push_back(m); };
    opts.trace = [this](const std::string& p) { packets.push_back(p); };
    server = std::make_unique<GdbServer>(target, opts);
    done = std::async(std::launch::async, [this] { server->serve(conn); });
  }
  // Waits for serve() to return (gdb has exited, so the connection is
  // closed); the target and the logs may be read after this.
  bool finish() { return done.wait_for(std::chrono::seconds(20)) == std::future_status::ready; }
  bool sent(const std::string& prefix) const {
    for (const auto& p : packets)
      if (p.rfind("<- " + prefix, 0) == 0) return true;
    return false;
  }
  // gdb has exited by the time this runs: serve() sees the end of the connection.
  ~Served() {
    if (done.valid()) done.wait();
    if (getenv("RRX_GDB_TEST_TRACE"))
      for (const auto& p : packets) fprintf(stderr, "%s\n", p.substr(0, 120).c_str());
  }
};

void check_no_description_trouble(const std::string& out) {
  CHECK_FALSE(contains(out, "target-supplied description"));
  CHECK_FALSE(contains(out, "packet reply is too long"));
  CHECK_FALSE(contains(out, "Truncated register"));
  CHECK_FALSE(contains(out, "Could not load XML"));
  CHECK_FALSE(contains(out, "<<gdb timed out>>"));
}

}  // namespace

TEST_CASE("gdbserver: real gdb reads registers and memory and is refused writes") {
  if (!gdb_path()) {
    WARN("gdb not installed: skipped");
    return;
  }
  Served s;
  s.start();
  std::string out = run_gdb(s.conn.port(), {
                                               "info registers rip",
                                               "info registers fs_base gs_base orig_rax",
                                               "info registers ymm0",
                                               "p $xmm1.v16_int8",
                                               "info registers eflags mxcsr",
                                               "info registers ftag fop fioff fiseg",
                                               "p $st0",
                                               "x/4xb 0x400000",
                                               "set var *(int*)0x400000=1",
                                               "print *(int*)0x400004=7",
                                               "set $rax=1",
                                               "print $rsp=4",
                                               "monitor when",
                                               "monitor nosuch",
                                               "info threads",
                                               "thread 2",
                                               "info registers rip",
                                               "detach",
                                           });
  INFO(out);
  REQUIRE(s.finish());
  check_no_description_trouble(out);
  CHECK(contains(out, "rip            0x400100"));
  CHECK(contains(out, "fs_base        0x7f0000001001"));
  CHECK(contains(out, "gs_base        0x7f0000002000"));
  CHECK(contains(out, "orig_rax       0x3c"));
  CHECK(contains(out, "v2_int128 = {0xf0e0d0c0b0a09080706050403020100, 0x80808080808080808080808080808080}"));
  CHECK(contains(out, "{16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31}"));
  CHECK(contains(out, "[ PF ZF IF ]"));
  CHECK(contains(out, "[ IM DM ZM OM UM PM ]"));
  CHECK(contains(out, "ftag           0xffff"));
  CHECK(contains(out, "fop            0x7ff"));
  CHECK(contains(out, "0x400000:\t0xde\t0xad\t0xbe\t0xef"));
  // gdb 13 shows its own message for a refused memory write; the reason
  // goes through the notice hook.
  CHECK(contains(out, "Cannot access memory at address 0x400000"));
  CHECK(contains(out, "Cannot access memory at address 0x400004"));
  CHECK(contains(out, "Could not write register \"rax\"; remote failure reply 'E.rrx: cannot write registers "
                      "during a replay: it would change the recorded execution'"));
  CHECK(contains(out, "Could not write register \"rsp\""));
  REQUIRE(s.notices.size() >= 4);
  CHECK(s.notices[0] == "rrx: cannot write memory during a replay: it would change the recorded execution");
  CHECK(s.target.memory[0] == 0xde);
  CHECK(contains(out, "Current event: 42"));
  CHECK(contains(out, "rrx: unknown monitor command 'nosuch'"));
  // gdb announces multiprocess+: pid.tid thread ids.
  CHECK(contains(out, "Thread 1000.1000 \"main\""));
  CHECK(contains(out, "Thread 1000.1010 \"worker<1>\""));
  CHECK(contains(out, "rip            0x400200"));  // thread 2
  CHECK(contains(out, "detached"));
}

TEST_CASE("gdbserver: real gdb runs to breakpoints, watchpoints, the start of history and the exit") {
  if (!gdb_path()) {
    WARN("gdb not installed: skipped");
    return;
  }
  Served s;
  MockTarget& t = s.target;
  t.steps_use_script = false;
  StopReason bp;
  bp.tid = MockTarget::kTid1;
  bp.pid = MockTarget::kPid;
  bp.software_breakpoint = true;
  StopReason begin = bp;
  begin.kind = StopReason::Kind::ReplayBegin;
  begin.software_breakpoint = false;
  StopReason watch = begin;
  watch.kind = StopReason::Kind::Signal;
  watch.watchpoint = true;
  watch.watch_kind = BreakpointKind::WriteWatch;
  watch.watch_addr = 0x400010;
  StopReason exited;
  exited.kind = StopReason::Kind::Exited;
  exited.code = 3;
  t.script = {bp, begin, watch, exited};
  t.effects = {
      [](MockTarget& m) { m.regs1.gpr.rip = 0x400200; },
      [](MockTarget& m) { m.regs1.gpr.rip = 0x400100; },
      [](MockTarget& m) {
        m.regs1.gpr.rip = 0x400300;
        m.memory[0x10] = 0x99;  // the watched value changes
      },
      nullptr,
  };
  s.start();
  std::string out = run_gdb(s.conn.port(), {
                                               "break *0x400200",
                                               "continue",
                                               "info registers rip",
                                               "reverse-continue",
                                               "info registers rip",
                                               "delete",
                                               "watch *(unsigned char*)0x400010",
                                               "continue",
                                               "info registers rip",
                                               "delete",
                                               "continue",
                                           });
  INFO(out);
  REQUIRE(s.finish());
  check_no_description_trouble(out);
  CHECK(contains(out, "Breakpoint 1, 0x0000000000400200 in ??"));
  CHECK(contains(out, "No more reverse-execution history."));
  CHECK(contains(out, "rip            0x400100"));
  CHECK(contains(out, "Hardware watchpoint 2: *(unsigned char*)0x400010"));
  CHECK(contains(out, "New value = 153"));
  CHECK(contains(out, "rip            0x400300"));
  CHECK(contains(out, "exited with code 03"));
  CHECK(s.sent("Z0,400200,1"));
  CHECK(s.sent("bc"));
  CHECK(s.sent("Z2,400010,1"));
  bool found_bp = false;
  for (const auto& b : t.breakpoints)
    if (b.kind == BreakpointKind::Software && b.addr == 0x400200 && b.insert) found_bp = true;
  CHECK(found_bp);
}

TEST_CASE("gdbserver: real gdb restarts the replay with run and kill") {
  if (!gdb_path()) {
    WARN("gdb not installed: skipped");
    return;
  }
  Served s;
  MockTarget& t = s.target;
  t.steps_use_script = false;
  StopReason bp;
  bp.tid = MockTarget::kTid1;
  bp.pid = MockTarget::kPid;
  bp.software_breakpoint = true;
  t.script = {bp, bp};
  t.effects = {[](MockTarget& m) { m.regs1.gpr.rip = 0x400200; },
               [](MockTarget& m) { m.regs1.gpr.rip = 0x400200; }};
  s.start();
  std::string out = run_gdb(s.conn.port(), {
                                               "break *0x400200",
                                               "run",
                                               "info registers rip",
                                               "kill",
                                               "info threads",
                                               "run",
                                               "info threads",
                                           });
  INFO(out);
  REQUIRE(s.finish());
  check_no_description_trouble(out);
  CHECK(t.restarts == 2);
  CHECK(contains(out, "Breakpoint 1, 0x0000000000400200 in ??"));
  CHECK(contains(out, "rip            0x400200"));
  CHECK(contains(out, "No threads."));
  CHECK_FALSE(contains(out, "Could not write register"));
  CHECK(s.notices.empty());
  CHECK(s.sent("vRun"));
  CHECK(s.sent("vKill"));
}
