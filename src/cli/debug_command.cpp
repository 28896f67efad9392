#include "cli/debug_command.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <iostream>

#include "core/error.h"
#include "gdbserver/connection.h"
#include "gdbserver/gdb_server.h"
#include "replay/replay_target.h"

namespace rrx::cli {

int debug_replay(const DebugOptions& options) {
  replay::ReplayTarget target(options.replay);
  uint16_t port = options.serve_port >= 0 ? static_cast<uint16_t>(options.serve_port) : 0;
  gdb::Connection conn = gdb::Connection::listen(port);
  gdb::GdbServerOptions server_options;
  server_options.notice = [](const std::string& msg) { std::cerr << msg << "\n"; };
  gdb::GdbServer server(target, server_options);
  std::string exe = target.exec_file();

  if (options.serve_port >= 0) {
    std::cerr << "rrx: gdb stub for " << target.session().reader().dir().string() << " listening on 127.0.0.1:"
              << conn.port() << "\nrrx: connect with: gdb -ex 'target extended-remote 127.0.0.1:"
              << conn.port() << "' " << exe << "\n";
    server.serve(conn);
    return 0;
  }

  std::vector<std::string> args = {options.debugger, "-q"};
  if (options.batch) args.push_back("-batch");
  for (const char* cmd : {"set pagination off", "set sysroot /", "set confirm off"}) {
    args.push_back("-iex");
    args.push_back(cmd);
  }
  args.push_back("-ex");
  args.push_back("target extended-remote 127.0.0.1:" + std::to_string(conn.port()));
  for (const auto& x : options.scripts) {
    args.push_back("-x");
    args.push_back(x);
  }
  for (const auto& a : options.gdb_args) args.push_back(a);
  args.push_back(exe);

  // ^C in the terminal is gdb's to handle (it sends \x03 to the stub); the
  // replayed program runs in its own process group and never sees it.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_int {};
  sigaction(SIGINT, &ignore, &old_int);

  pid_t gdb_pid = ::fork();
  if (gdb_pid < 0) throw_errno("fork");
  if (gdb_pid == 0) {
    sigaction(SIGINT, &old_int, nullptr);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "rrx: cannot run the debugger %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  // gdb may fail to start or never connect: don't wait for it forever.
  bool connected = false;
  while (!connected) {
    connected = conn.accept(200);
    int status;
    if (!connected && ::waitpid(gdb_pid, &status, WNOHANG) == gdb_pid) {
      return WIFEXITED(status) ? (WEXITSTATUS(status) ? WEXITSTATUS(status) : 125) : 125;
    }
  }
  server.serve(conn);
  target.session().kill();
  int status = 0;
  while (::waitpid(gdb_pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace rrx::cli
