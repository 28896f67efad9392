// The rrx command line: record, replay, dump, info, ls, ps, help.
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "cli/debug_command.h"
#include "cli/trace_commands.h"
#include "core/error.h"
#include "core/kernel_probe.h"
#include "record/recorder.h"
#include "replay/replay_session.h"
#include "trace_format/trace_dir.h"

namespace {

constexpr int kRrxFailure = 125;  // rrx itself failed (like env(1)); a program's status otherwise

const char* kDescription =
    "rrx: record a Linux x86-64 program once, replay it exactly as often as needed,\n"
    "and debug the replay with gdb. No hardware performance counters needed.";

std::optional<rrx::SkipStrategy> parse_skip(const std::string& name) {
  if (name.empty()) return std::nullopt;
  auto s = rrx::parse_skip_strategy(name);
  if (!s) throw rrx::Error("unknown skip strategy '" + name + "' (set-info-exit, set-info, sysemu, regs)");
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  rrx::install_crash_handlers();
  CLI::App app{kDescription, "rrx"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", std::string("rrx ") + RRX_VERSION);

  // rrx record
  rrx::record::RecordOptions rec;
  std::string rec_out;
  auto* record = app.add_subcommand("record", "Record PROG ARGS... into a new trace");
  record->add_option("-o,--output", rec_out, "Trace directory to create (default: $RRX_TRACE_DIR/NAME-N)");
  record->add_flag("--strict", rec.strict, "Fail on a syscall rrx cannot record instead of refusing it with ENOSYS");
  record->add_flag("-q,--quiet", rec.quiet, "Do not print where the trace went");
  bool rec_syscallbuf = false, rec_no_syscallbuf = false;
  auto* sb_on = record->add_flag("--syscallbuf", rec_syscallbuf,
                                 "Record the calls the preload library buffers in-process, without a ptrace stop "
                                 "each (the fast path; off by default in this version, see README)");
  record->add_flag("-n,--no-syscallbuf", rec_no_syscallbuf, "Record every syscall through ptrace stops (the default)")
      ->excludes(sb_on);
  record->add_flag("--no-cpuid-faulting", rec.no_cpuid_faulting,
                   "Do not trap cpuid even where CPUID faulting is available (as on machines without it: "
                   "rdrand/rdseed are searched for and reported instead; also RRX_NO_CPUID_FAULTING=1)");
  record->add_option("--env-keep", rec.environment.keep,
                     "Run the program with only the environment variables whose NAME matches this glob (repeatable)")
      ->allow_extra_args(false);
  record->add_option("--env-drop", rec.environment.drop,
                     "Run the program without the environment variables whose NAME matches this glob (repeatable; "
                     "applied after --env-keep)")
      ->allow_extra_args(false);
  std::string rec_wait = "all";
  record->add_option("--wait", rec_wait,
                     "When the main process exits: 'all' waits for the processes it left running (default), "
                     "'main' ends them with SIGKILL")
      ->check(CLI::IsMember({"all", "main"}));
  record->add_option("--wait-timeout", rec.wait_timeout_s,
                     "With --wait=all: end the processes left running SECONDS after the main process exited")
      ->check(CLI::NonNegativeNumber);
  record->add_option("--max-file-data", rec.max_file_data,
                     "A mapped file holding more data than SIZE (holes do not count; default 1G) is stored in the "
                     "trace only for the mapped ranges, not whole")
      ->transform(CLI::AsSizeValue(false));

  // rrx replay
  std::string replay_trace, replay_skip;
  bool autopilot = false, quiet = false, list_skip = false;
  auto* replay = app.add_subcommand("replay", "Replay a trace (default: the latest) under gdb, or alone with --autopilot");
  replay->add_option("trace", replay_trace, "Trace directory or NAME-N (default: latest)");
  replay->add_flag("-a,--autopilot", autopilot, "Replay without a debugger; re-emit the program's output");
  replay->add_flag("-q,--quiet", quiet, "Do not re-emit the program's output");
  replay->add_option("--skip", replay_skip, "Syscall-skip strategy: set-info-exit, set-info, sysemu, regs (default: best supported)");
  replay->add_flag("--list-skip-strategies", list_skip, "Print the skip strategies this kernel supports, best first");
  rrx::cli::DebugOptions dbg;
  replay->add_option("--debugger", dbg.debugger, "The gdb to run (default: gdb)");
  replay->add_option("-x", dbg.scripts, "gdb command file to run (repeatable)")->allow_extra_args(false);
  replay->add_flag("--batch", dbg.batch, "Run gdb in batch mode: it exits after the -x scripts");
  replay->add_option("-s,--serve", dbg.serve_port, "Only serve the gdb remote protocol on 127.0.0.1:PORT (0: any free port)");
  replay->add_option("-p,--process", dbg.process, "Debug this process of the tree (a pid from rrx ps, or a program name); the others replay along");
  replay->add_option("--gdb-arg", dbg.gdb_args, "Extra argument for gdb (repeatable)")->allow_extra_args(false);

  // rrx dump
  rrx::cli::DumpOptions dump_opts;
  std::vector<std::string> dump_filters;
  auto* dump = app.add_subcommand("dump", "Print the events of a trace, strace-style");
  dump->add_option("trace", dump_opts.trace, "Trace directory or NAME-N (default: latest)");
  dump->add_flag("--json", dump_opts.json, "One JSON object per line");
  dump->add_option("-e,--syscall", dump_filters, "Only syscalls with this name (repeatable, or comma-separated)")
      ->delimiter(',')->allow_extra_args(false);

  // rrx info
  std::string info_trace;
  bool info_json = false;
  auto* info = app.add_subcommand("info", "Print a trace's header: program, machine, status");
  info->add_option("trace", info_trace, "Trace directory or NAME-N (default: latest)");
  info->add_flag("--json", info_json, "As JSON");

  // rrx ls
  bool ls_json = false;
  auto* ls = app.add_subcommand("ls", "List the traces in $RRX_TRACE_DIR (~/.local/share/rrx)");
  ls->add_flag("--json", ls_json, "As JSON");

  // rrx ps
  std::string ps_trace;
  bool ps_json = false;
  auto* ps = app.add_subcommand("ps", "List the processes of a trace: pid, parent, exit status, command");
  ps->add_option("trace", ps_trace, "Trace directory or NAME-N (default: latest)");
  ps->add_flag("--json", ps_json, "As JSON");

  auto* help = app.add_subcommand("help", "Show this help");

  // `rrx record` stops parsing at the program: everything after it is the
  // program's. CLI11 parses only rrx's own options before it.
  std::vector<std::string> program_argv;
  if (argc >= 2 && std::string(argv[1]) == "record") {
    int i = 2;
    for (; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--") {
        ++i;
        break;
      }
      if (a.empty() || a[0] != '-') break;
      bool takes_value = a == "-o" || a == "--output" || a == "--env-keep" || a == "--env-drop" ||
                         a == "--wait" || a == "--wait-timeout";
      if (takes_value && i + 1 < argc) ++i;
    }
    for (int k = i; k < argc; ++k) program_argv.emplace_back(argv[k]);
    argc = i;
  }
  const std::string main_help = app.help();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    if (code != 0 && app.get_subcommands().empty()) std::cerr << "\n" << main_help;
    return code == 0 ? 0 : 2;
  }

  try {
    if (*record) {
      rec.argv = program_argv;
      if (rec.argv.empty()) {
        std::cerr << "rrx record: give a program to record: rrx record [-o DIR] [--env-keep PATTERN]... "
                     "[--env-drop PATTERN]... [--wait=all|main] [--] PROG [ARGS...]\n";
        return 2;
      }
      rec.output_dir = rec_out;
      rrx::record::check_environment_filter(rec.environment);
      rec.wait_for = rec_wait == "main" ? rrx::record::RecordOptions::WaitFor::Main
                                        : rrx::record::RecordOptions::WaitFor::All;
      rec.syscallbuf = rec_syscallbuf && !rec_no_syscallbuf;
      return rrx::record::record(rec);
    }
    if (*replay) {
      if (list_skip) {
        for (auto s : rrx::all_skip_strategies()) {
          if (rrx::skip_strategy_supported(s)) std::cout << rrx::skip_strategy_name(s) << "\n";
        }
        return 0;
      }
      rrx::replay::ReplayOptions ro;
      ro.trace_dir = rrx::trace::resolve_trace(replay_trace);
      ro.skip = parse_skip(replay_skip);
      ro.echo_output = !quiet;
      if (!autopilot) {
        dbg.replay = ro;
        return rrx::cli::debug_replay(dbg);
      }
      return rrx::replay::replay_autopilot(ro);
    }
    if (*dump) {
      dump_opts.syscalls = dump_filters;
      return rrx::cli::dump_trace(dump_opts);
    }
    if (*info) return rrx::cli::info_trace(info_trace, info_json);
    if (*ls) return rrx::cli::list_traces(ls_json);
    if (*ps) return rrx::cli::list_processes(ps_trace, ps_json);
    if (*help) {
      std::cout << main_help;
      return 0;
    }
    if (argc == 1) {
      std::cerr << main_help;
      return 2;
    }
  } catch (const rrx::replay::Divergence& e) {
    std::cerr << "rrx: " << e.what() << "\n";
    return kRrxFailure;
  } catch (const rrx::Error& e) {
    std::cerr << "rrx: " << e.what() << "\n";
    return kRrxFailure;
  } catch (const std::exception& e) {
    std::cerr << "rrx: " << e.what() << "\n";
    return kRrxFailure;
  }
  return 0;
}
