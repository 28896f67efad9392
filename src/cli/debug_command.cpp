#include "cli/debug_command.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <optional>

#include "cli/gdb_script.h"
#include "core/cpu_binding.h"
#include "core/error.h"
#include "gdbserver/connection.h"
#include "gdbserver/gdb_server.h"
#include "replay/replay_target.h"
#include "trace_format/trace_reader.h"

namespace rrx::cli {

namespace {

// -p: a recorded pid, or the name of a program one of the processes ran
// (the first that ran it).
int resolve_process(const std::filesystem::path& trace_dir, const std::string& which) {
  if (which.empty()) return 0;
  bool numeric = which.find_first_not_of("0123456789") == std::string::npos;
  trace::TraceReader reader(trace_dir);
  std::vector<std::string> seen;
  while (auto rec = reader.next()) {
    auto ev = rec->get();
    if (ev.which() != schema::Event::EXEC) continue;
    int pid = ev.getPid();
    std::string exe = ev.getExec().getExePath().cStr();
    std::string base = exe.substr(exe.rfind('/') + 1);
    std::string argv0 = ev.getExec().getArgv().size() > 0 ? ev.getExec().getArgv()[0].cStr() : "";
    std::string argv0_base = argv0.substr(argv0.rfind('/') + 1);
    if (numeric ? std::to_string(pid) == which : (base == which || argv0_base == which || argv0 == which)) {
      return pid;
    }
    seen.push_back(std::to_string(pid) + " " + base);
  }
  std::string list;
  for (const auto& s : seen) list += "\n  " + s;
  throw Error("no process '" + which + "' ran a program in this recording; its processes are:" + list +
              "\n(see rrx ps)");
}

// -f: a recorded pid that some process forked; the Clone event that made it.
replay::Focus resolve_fork(const std::filesystem::path& trace_dir, const std::string& which) {
  if (which.empty() || which.size() > 9 || which.find_first_not_of("0123456789") != std::string::npos) {
    throw Error("-f/--onfork takes the pid of a forked process (see rrx ps), not '" + which + "'");
  }
  const int pid = std::stoi(which);
  trace::TraceReader reader(trace_dir);
  std::vector<std::string> forked;
  int first_pid = 0;
  while (auto rec = reader.next()) {
    auto ev = rec->get();
    if (first_pid == 0) first_pid = ev.getPid();
    if (ev.which() != schema::Event::CLONE || ev.getClone().getKind() == schema::Clone::Kind::THREAD) continue;
    const int child = ev.getClone().getChildTid();
    if (child == pid) {
      // gdb starts after the parent's fork has returned (checkpoints, so
      // reverse execution, need it out of the syscall) unless the child
      // runs before that (vfork: the parent waits for the child's exec).
      replay::Focus f;
      f.pid = pid;
      f.from_event = rec->number + 1;
      const int parent_tid = ev.getTid();
      while (auto next = reader.next()) {
        auto e = next->get();
        if (e.getPid() == pid) break;
        if (e.getTid() == parent_tid && e.which() == schema::Event::SYSCALL) {
          f.from_event = next->number + 1;
          break;
        }
      }
      return f;
    }
    forked.push_back(std::to_string(child) + " (forked by " + std::to_string(ev.getPid()) + " at event " +
                     std::to_string(rec->number) + ")");
  }
  std::string list;
  for (const auto& s : forked) list += "\n  " + s;
  if (pid == first_pid) {
    throw Error("process " + which + " is the recorded program itself: it was not forked in this recording" +
                std::string(forked.empty() ? "" : "; the forked processes are:") + list);
  }
  throw Error("no process " + which + " was forked in this recording" +
              (forked.empty() ? std::string(" (no process forked another)") : "; the forked processes are:" + list) +
              "\n(see rrx ps)");
}

// -g: a decimal event number.
uint64_t parse_event(const std::string& text) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos) {
    throw Error("-g/--goto takes an event number (as rrx dump numbers events), not '" + text + "'");
  }
  return std::stoull(text);
}

}  // namespace

int debug_replay(const DebugOptions& options) {
  if (!options.onfork.empty() && !options.process.empty()) {
    throw Error("-p and -f both choose the process to debug: give one of them");
  }
  const std::optional<uint64_t> goto_event =
      options.goto_event.empty() ? std::nullopt : std::optional<uint64_t>(parse_event(options.goto_event));
  replay::Focus focus = options.onfork.empty()
                            ? replay::Focus{resolve_process(options.replay.trace_dir, options.process), std::nullopt}
                            : resolve_fork(options.replay.trace_dir, options.onfork);
  replay::ReplayTarget target(options.replay, focus);
  if (goto_event) {
    std::string why;
    if (!target.start_at(*goto_event, why)) throw Error("-g " + options.goto_event + ": " + why);
  }
  uint16_t port = options.serve_port >= 0 ? static_cast<uint16_t>(options.serve_port) : 0;
  gdb::Connection conn = gdb::Connection::listen(port);
  gdb::GdbServerOptions server_options;
  server_options.notice = [](const std::string& msg) { std::cerr << msg << "\n"; };
  gdb::GdbServer server(target, server_options);

  // gdb reads the program and its libraries through the stub (vFile, with
  // `set sysroot target:`, gdb's default): the trace's copies of what the
  // recording ran, whatever the host has at those paths now. It learns
  // which program from the stub (qXfer:exec-file) when it connects; an IDE
  // or lldb that wants a local file is shown the trace's copy.
  if (options.serve_port >= 0) {
    std::cerr << "rrx: gdb stub for " << target.session().reader().dir().string() << " listening on 127.0.0.1:"
              << conn.port() << "\nrrx: connect with: gdb -ex 'target extended-remote 127.0.0.1:"
              << conn.port() << "' " << target.session().exe_copy_of(target.current_thread()).string() << "\n";
    server.serve(conn);
    return 0;
  }

  std::vector<std::string> args = {options.debugger, "-q"};
  if (options.batch) args.push_back("-batch");
  // The replay runs every recorded process as recorded, whichever one gdb
  // resumes: gdb must expect the stops of all the processes it debugs.
  for (const char* cmd : {"set pagination off", "set sysroot target:", "set confirm off", "set schedule-multiple on"}) {
    args.push_back("-iex");
    args.push_back(cmd);
  }
  // rr's commands (when, goto, checkpoint, restart...) and the hook that
  // makes this gdb re-read the program after a monitor command, which can
  // move it under gdb's feet (gdb 13 takes nothing a stub sends after a
  // monitor command as a stop); see gdb_script.cpp.
  GdbStartupFile startup;
  if (!startup.path().empty()) {
    args.push_back("-ix");
    args.push_back(startup.path());
  }
  args.push_back("-ex");
  args.push_back("target extended-remote 127.0.0.1:" + std::to_string(conn.port()));
  for (const auto& x : options.scripts) {
    args.push_back("-x");
    args.push_back(x);
  }
  for (const auto& a : options.gdb_args) args.push_back(a);

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
    run_on_any_cpu();  // (the replay binds rrx to one CPU; gdb is not part of it)
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
  startup.remove();  // gdb read it before connecting
  server.serve(conn);
  target.session().kill();
  int status = 0;
  while (::waitpid(gdb_pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace rrx::cli
