// The rrx command line: record, replay, dump, info, ls, ps, sources, pack, help.
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "cli/debug_command.h"
#include "cli/sources_command.h"
#include "cli/trace_commands.h"
#include "core/error.h"
#include "core/heap_pages.h"
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
  rrx::heap_on_huge_pages();
  rrx::install_crash_handlers();
  CLI::App app{kDescription, "rrx"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", std::string("rrx ") + RRX_VERSION);

  // rrx record
  rrx::record::RecordOptions rec;
  std::string rec_out;
  auto* record = app.add_subcommand("record", "Record PROG ARGS... into a new trace");
  record->add_option("-o,--output", rec_out, "Trace directory to create (default: $RRX_TRACE_DIR/NAME-N)");
  record->add_option("--name", rec.name,
                     "Name of the trace: it goes to $RRX_TRACE_DIR/NAME exactly (an error if that exists)");
  std::string rec_keep = "always";
  record->add_option("--keep", rec_keep,
                     "always: keep the trace (default); failure: delete it when the program exits 0, else pack it "
                     "(rrx pack); never: delete it")
      ->check(CLI::IsMember({"always", "failure", "never"}));
  record->add_flag("--chaos", rec.chaos.enabled,
                   "Randomize the scheduling of the program's threads (priorities, slices of 0.05-30 ms, "
                   "preemption anywhere, starvation, wake-up order) so that races show up");
  uint64_t chaos_seed = 0;
  auto* chaos_seed_opt = record->add_option("--chaos-seed", chaos_seed,
                                            "Seed of --chaos's draws (default: random; shown by rrx info)");
  record->add_flag("--strict", rec.strict, "Fail on a syscall rrx cannot record instead of refusing it with ENOSYS");
  record->add_flag("-q,--quiet", rec.quiet, "Do not print where the trace went");
  // The last of --syscallbuf and -n wins (a test's own flag after the suite's RRX_E2E_RECORD_ARGS);
  // without either, the build's default (RRX_SYSCALLBUF_DEFAULT in the top-level CMakeLists.txt).
  bool rec_syscallbuf = RRX_SYSCALLBUF_DEFAULT;
  record
      ->add_flag_callback("--syscallbuf", [&rec_syscallbuf] { rec_syscallbuf = true; },
                          std::string("Record the calls the preload library buffers in-process, without a ptrace "
                                      "stop each (the fast path: patched syscall sites; ") +
                              (RRX_SYSCALLBUF_DEFAULT ? "the default" : "off by default in this build") +
                              ", see README)")
      ->trigger_on_parse();
  record
      ->add_flag_callback("-n,--no-syscallbuf", [&rec_syscallbuf] { rec_syscallbuf = false; },
                          std::string("Record every syscall through ptrace stops (no preload library, no syscall site "
                                      "patching") +
                              (RRX_SYSCALLBUF_DEFAULT ? ")" : "; the default in this build)"))
      ->trigger_on_parse();
  record->add_flag("--no-cpuid-faulting", rec.no_cpuid_faulting,
                   "Do not trap cpuid even where CPUID faulting is available (as on machines without it: "
                   "rdrand/rdseed are searched for and reported instead; also RRX_NO_CPUID_FAULTING=1)");
  record->add_flag_callback("--no-cpuid-patching", [&rec] { rec.patch_cpuid = false; },
                            "With CPUID faulting, answer every cpuid through a trap instead of patching the cpuid "
                            "instructions to look rrx's answers up in the process");
  record->add_flag("--cpu-unbound", rec.cpu_unbound,
                   "Let rrx and the recorded tree run on any CPU instead of binding them to one (threads run one at "
                   "a time either way; bound, a ptrace stop wakes no other CPU; also RRX_CPU_UNBOUND=1)");
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
  bool replay_unbound = false;
  replay->add_flag("--cpu-unbound", replay_unbound,
                   "Replay on any CPU instead of binding to one (the recorded one where allowed; also "
                   "RRX_CPU_UNBOUND=1)");
  rrx::cli::DebugOptions dbg;
  replay->add_option("--debugger", dbg.debugger, "The gdb to run (default: gdb)");
  replay->add_option("-x", dbg.scripts, "gdb command file to run (repeatable)")->allow_extra_args(false);
  replay->add_flag("--batch", dbg.batch, "Run gdb in batch mode: it exits after the -x scripts");
  replay->add_option("-s,--serve", dbg.serve_port, "Only serve the gdb remote protocol on 127.0.0.1:PORT (0: any free port)");
  replay->add_option("-p,--process", dbg.process, "Debug this process of the tree (a pid from rrx ps, or a program name); the others replay along");
  replay->add_option("-f,--onfork", dbg.onfork,
                     "Debug process PID (from rrx ps) from the moment it is forked, before it runs any code or "
                     "execs a program (-p waits for its exec)");
  replay->add_option("-g,--goto", dbg.goto_event,
                     "Start gdb (or the -s server) at event EVENT (as rrx dump numbers events): the start of the "
                     "stretch of execution that ends with it");
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
  bool info_here_only = false;
  info->add_flag("--here", info_here_only,
                 "No trace: what a recording on this machine would use (blocking calls: desched event or checked)");

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

  // rrx sources
  std::string sources_trace;
  auto* sources = app.add_subcommand(
      "sources", "List the source files the recorded binaries' debug info names, present or missing here");
  sources->add_option("trace", sources_trace, "Trace directory or NAME-N (default: latest)");
  // rrx pack
  std::string pack_trace_arg, pack_archive;
  bool pack_quiet = false;
  auto* pack = app.add_subcommand("pack", "Make a trace self-contained: real, checked, read-only copies of every file "
                                          "it uses (and optionally one archive file)");
  pack->add_option("trace", pack_trace_arg, "Trace directory or NAME-N (default: latest)");
  pack->add_option("--archive", pack_archive,
                   "Also write the packed trace to this one file (tar + zstd; every command taking a TRACE accepts it)");
  pack->add_flag("-q,--quiet", pack_quiet, "Print nothing on success");

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
                         a == "--wait" || a == "--wait-timeout" || a == "--max-file-data" || a == "--name" ||
                         a == "--keep" || a == "--chaos-seed";
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
        std::cerr << "rrx record: give a program to record: rrx record [-o DIR | --name NAME] [--keep=always|failure|never] "
                     "[--chaos [--chaos-seed N]] [--env-keep PATTERN]... [--env-drop PATTERN]... [--wait=all|main] "
                     "[--] PROG [ARGS...]\n";
        return 2;
      }
      rec.output_dir = rec_out;
      if (!rec.name.empty() && !rec_out.empty()) throw rrx::Error("give either -o DIR or --name NAME, not both");
      rec.keep = *rrx::record::parse_keep(rec_keep);
      if (chaos_seed_opt->count() > 0) {
        rec.chaos.enabled = true;  // --chaos-seed implies --chaos
        rec.chaos.seed = chaos_seed;
      }
      rrx::record::check_environment_filter(rec.environment);
      rec.wait_for = rec_wait == "main" ? rrx::record::RecordOptions::WaitFor::Main
                                        : rrx::record::RecordOptions::WaitFor::All;
      rec.syscallbuf = rec_syscallbuf;
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
      ro.cpu_unbound = replay_unbound;
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
    if (*info) return info_here_only ? rrx::cli::info_here(info_json) : rrx::cli::info_trace(info_trace, info_json);
    if (*ls) return rrx::cli::list_traces(ls_json);
    if (*ps) return rrx::cli::list_processes(ps_trace, ps_json);
    if (*sources) return rrx::cli::list_sources(sources_trace);
    if (*pack) return rrx::cli::pack_command(pack_trace_arg, pack_archive, pack_quiet);
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
