#include "cli/trace_commands.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "core/cpuid_table.h"
#include "core/error.h"
#include "core/forced_signal.h"
#include "core/seccomp_filter.h"
#include "core/syscall_format.h"
#include "core/syscall_table.h"
#include "trace_format/format.h"
#include "trace_format/recorded_call.h"
#include "trace_format/trace_archive.h"
#include "trace_format/trace_dir.h"
#include "trace_format/trace_pack.h"
#include "trace_format/trace_reader.h"

namespace rrx::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

sys::RecordedCall to_call(schema::Syscall::Reader s) { return trace::recorded_call(s); }

std::string kind_name(schema::Event::Reader ev) {
  switch (ev.which()) {
    case schema::Event::SYSCALL: return "syscall";
    case schema::Event::SYSCALL_ENTRY: return "syscall-entry";
    case schema::Event::SIGNAL: return "signal";
    case schema::Event::RDTSC: return "rdtsc";
    case schema::Event::EXEC: return "exec";
    case schema::Event::CLONE: return "clone";
    case schema::Event::EXIT: return "exit";
    case schema::Event::PREEMPTION: return "preemption";
    case schema::Event::WARNING: return "warning";
    case schema::Event::JOB_STOP: return "job-stop";
    case schema::Event::CPUID: return "cpuid";
    case schema::Event::RANDOM_INSNS: return "random-insns";
    case schema::Event::SITE_PATCH: return "site-patch";
    case schema::Event::CPUID_PATCHES: return "cpuid-patches";
    case schema::Event::TSC_PATCHES: return "tsc-patches";
    case schema::Event::PRELOAD_EARLY: return "preload-early";
    case schema::Event::TRACER_STOP: return "tracer-stop";
    case schema::Event::TRACER_RESUME: return "tracer-resume";
  }
  return "unknown";
}

// One line of text per event, strace-like.
std::string event_text(schema::Event::Reader ev) {
  switch (ev.which()) {
    case schema::Event::SYSCALL: {
      auto s = ev.getSyscall();
      std::string text;
      if (s.getFlags() & trace::kSyscallSeccomp) {
        // Decided by the program's own seccomp filters.
        sys::RecordedCall c = to_call(s);
        if (s.getFlags() & trace::kSyscallSeccompStrict) {
          c.has_ret = false;
          text = sys::format_call(c) + " (killed: seccomp strict mode)";
        } else if ((s.getSeccompRet() & 0xffff0000u) == 0 || (s.getSeccompRet() & 0x80000000u)) {
          c.has_ret = false;  // KILL_THREAD, KILL_PROCESS: it never returned
          text = sys::format_call(c) + " (killed: seccomp " + seccomp::describe(s.getSeccompRet()) + ")";
        } else {
          text = sys::format_call(c) + " (seccomp " + seccomp::describe(s.getSeccompRet()) + ")";
        }
      } else {
        text = sys::format_call(to_call(s));
      }
      if (s.getFlags() & trace::kSyscallRefused) text += " (refused by rrx)";
      if (s.getFlags() & trace::kSyscallBuffered) text += " (buffered)";
      if (s.getResumeIp() != 0) text += fmt::format(" (site patched meanwhile: on at {:#x})", s.getResumeIp());
      if (s.hasMapping()) {
        auto m = s.getMapping();
        if (m.getSharedObject() != 0) {
          text += fmt::format(" <{}, shared object {}>", m.getPath().cStr(), m.getSharedObject());
        } else if (m.getRangeOnly()) {  // the copy holds only this range of the file (--max-file-data)
          text += fmt::format(" <{}, stored bytes {:#x}-{:#x}>", m.getPath().cStr(), m.getRangeOffset(),
                              m.getRangeOffset() + m.getRangeLength());
        } else {
          text += fmt::format(" <{}>", m.getPath().cStr());
        }
      }
      for (auto w : s.getFileWrites()) {
        text += fmt::format(" [shared object {}: {} bytes at {}, size {}]", w.getObject(), w.getLength(),
                            w.getOffset(), w.getSize());
      }
      return text;
    }
    case schema::Event::SYSCALL_ENTRY: {
      auto e = ev.getSyscallEntry();
      sys::RecordedCall c;
      c.nr = e.getNr();
      auto args = e.getArgs();
      for (unsigned i = 0; i < 6 && i < args.size(); ++i) c.args[i] = args[i];
      c.has_ret = false;
      return sys::format_call(c) + " <unfinished ...>";
    }
    case schema::Event::SIGNAL: {
      auto s = ev.getSignal();
      return fmt::format("--- {} {{si_code={}}} {} at 0x{:x} ---", sys::signal_name(s.getSigno()),
                         s.getCode(), s.getSynchronous() ? "fault" : "delivered", s.getIp());
    }
    case schema::Event::RDTSC: {
      auto r = ev.getRdtsc();
      std::string undo;
      if (r.getHasRestoreMask()) undo += fmt::format(" mask=0x{:x}", r.getRestoreMask());
      if (r.getRestoreAction().size() == sizeof(KernelSigaction)) {
        KernelSigaction a;
        std::memcpy(&a, r.getRestoreAction().begin(), sizeof a);
        undo += a.handler == kSigIgn ? std::string(" SIGSEGV=SIG_IGN") : fmt::format(" SIGSEGV=0x{:x}", a.handler);
      }
      if (!undo.empty()) undo = " (restored" + undo + ")";
      return fmt::format("{} at 0x{:x} = 0x{:x}{}", r.getIsRdtscp() ? "rdtscp" : "rdtsc", r.getIp(),
                         r.getValue(), undo);
    }
    case schema::Event::EXEC: {
      auto e = ev.getExec();
      std::string argv;
      for (auto a : e.getArgv()) argv += (argv.empty() ? "" : ", ") + sys::quote_bytes(a.cStr(), 64);
      return fmt::format("exec {} [{}]", e.getExePath().cStr(), argv);
    }
    case schema::Event::CLONE: {
      auto c = ev.getClone();
      return fmt::format("clone -> {}", c.getChildTid());
    }
    case schema::Event::EXIT: {
      auto e = ev.getExit();
      if (e.getSigno() != 0) {
        return fmt::format("+++ killed by {}{} +++", sys::signal_name(e.getSigno()),
                           e.getCoreDumped() ? " (core dumped)" : "");
      }
      return fmt::format("+++ exited with {} +++", e.getStatus());
    }
    case schema::Event::PREEMPTION:
      return fmt::format("preempted at 0x{:x}", ev.getPreemption().getIp());
    case schema::Event::WARNING:
      return fmt::format("warning: {}", ev.getWarning().cStr());
    case schema::Event::JOB_STOP: {
      auto j = ev.getJobStop();
      return j.getResumed() ? fmt::format("--- continued after {} ---", sys::signal_name(j.getSigno()))
                            : fmt::format("--- stopped by {} ---", sys::signal_name(j.getSigno()));
    }
    case schema::Event::CPUID: {
      auto c = ev.getCpuid();
      return fmt::format("cpuid leaf 0x{:x} subleaf 0x{:x} at 0x{:x} = eax 0x{:x} ebx 0x{:x} ecx 0x{:x} edx 0x{:x}",
                         c.getLeaf(), c.getSubleaf(), c.getIp(), c.getEax(), c.getEbx(), c.getEcx(), c.getEdx());
    }
    case schema::Event::RANDOM_INSNS: {
      std::string sites;
      for (auto r : ev.getRandomInsns()) {
        sites += fmt::format("{}{} at {}+0x{:x} (0x{:x})", sites.empty() ? "" : ", ", r.getMnemonic().cStr(),
                             fs::path(r.getObject().cStr()).filename().string(), r.getObjectAddr(), r.getAddr());
      }
      return "unrecorded instructions mapped: " + sites;
    }
    case schema::Event::TRACER_STOP: {
      auto s = ev.getTracerStop();
      const char* kind = s.getKind() == schema::TracerStop::Kind::SYSCALL_ENTRY ? "syscall entry"
                         : s.getKind() == schema::TracerStop::Kind::SIGNAL      ? "signal"
                                                                                : "single step";
      std::string text = fmt::format("--- stopped for its tracer: {}", kind);
      if (s.getKind() == schema::TracerStop::Kind::SIGNAL) {
        text += fmt::format(" {}{}", sys::signal_name(s.getSigno()), s.getSynchronous() ? "" : " (asynchronous)");
      }
      return text + fmt::format(" at 0x{:x} ---", s.getIp());
    }
    case schema::Event::TRACER_RESUME: {
      auto r = ev.getTracerResume();
      std::string text = "--- resumed by its tracer";
      if (r.getSignalStop()) text += r.getSig() == 0 ? ", signal suppressed" : ", with " + sys::signal_name(r.getSig());
      if (r.getChangedRegs() != 0) text += fmt::format(", registers written (mask 0x{:x})", r.getChangedRegs());
      if (r.getXstate().size() != 0) text += ", vector registers written";
      if (r.getHasSigmask()) text += fmt::format(", signal mask 0x{:x}", r.getSigmask());
      return text + " ---";
    }
    case schema::Event::CPUID_PATCHES: {
      auto c = ev.getCpuidPatches();
      std::string text = "--- cpuid";
      if (c.getMapLen() != 0) {
        text += fmt::format(" table of {} entries at 0x{:x} (mapping 0x{:x}, {} bytes);", c.getTable().size() / 32,
                            c.getTableAddr(), c.getMapAddr(), c.getMapLen());
      }
      text += fmt::format(" {} site{} patched", c.getPatches().size(), c.getPatches().size() == 1 ? "" : "s");
      for (auto p : c.getPatches()) {
        text += fmt::format(" 0x{:x}", p.getSite());
        if (p.getArenaLen() != 0) text += fmt::format(" (stub arena 0x{:x}, {} bytes)", p.getArenaAddr(), p.getArenaLen());
        if (p.getNewIp() != 0) text += fmt::format(" (ip -> 0x{:x})", p.getNewIp());
      }
      return text + " ---";
    }
    case schema::Event::TSC_PATCHES: {
      auto c = ev.getTscPatches();
      std::string text = fmt::format("--- {} rdtsc site{} patched (hlt):", c.getSites().size(), c.getSites().size() == 1 ? "" : "s");
      for (auto p : c.getSites()) text += fmt::format(" {}0x{:x}", p.getIsRdtscp() ? "rdtscp " : "", p.getAddr());
      if (c.getUnconfirmed().size() != 0) {
        text += fmt::format("; {} possible rdtsc left unpatched (not recorded if run):", c.getUnconfirmed().size());
        for (uint64_t a : c.getUnconfirmed()) text += fmt::format(" 0x{:x}", a);
      }
      return text + " ---";
    }
    case schema::Event::PRELOAD_EARLY: {
      auto p = ev.getPreloadEarly();
      std::string text = p.getMapLen() != 0 ? fmt::format("--- syscall buffer set up before the library's constructor: "
                                                          "0x{:x}-0x{:x} mapped, buffer 0x{:x}",
                                                          p.getMapAddr(), p.getMapAddr() + p.getMapLen(), p.getBuffer())
                                            : std::string("--- the early syscall buffer set-up ended");
      for (auto w : p.getWrites()) text += fmt::format(", {} bytes at 0x{:x}", w.getData().size(), w.getAddr());
      return text + " ---";
    }
    case schema::Event::SITE_PATCH: {
      auto p = ev.getSitePatch();
      std::string text = fmt::format("--- syscall site 0x{:x} patched", p.getSite());
      for (auto w : p.getWrites()) text += fmt::format(", {} bytes at 0x{:x}", w.getData().size(), w.getAddr());
      if (p.getArenaLen() != 0) text += fmt::format(" (stub arena 0x{:x}, {} bytes, mapped)", p.getArenaAddr(), p.getArenaLen());
      if (p.getNewIp() != 0) text += fmt::format("; ip -> 0x{:x}", p.getNewIp());
      return text + " ---";
    }
  }
  return "?";
}

uint64_t dir_size(const fs::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) total += static_cast<uint64_t>(st.st_size);
  }
  return total;
}

std::string format_time(int64_t unix_ns) {
  time_t t = static_cast<time_t>(unix_ns / 1000000000);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string human_size(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

// A trace's state as `rrx info` and `rrx ls` report it. "complete" only
// after every chunk's checksum was verified: opening a trace checks the chunk
// headers, not the payloads.
struct TraceStatus {
  std::string name;    // "complete", "incomplete" or "corrupted"
  std::string detail;  // for incomplete and corrupted: why, with the file and offset
};

TraceStatus trace_status(const trace::TraceReader& reader) {
  try {
    reader.verify_checksums();
  } catch (const trace::TraceError& e) {
    return {"corrupted", e.what()};
  }
  if (reader.complete()) return {"complete", ""};
  return {"incomplete", reader.incomplete_reason()};
}

json header_json(const trace::TraceReader& reader, const TraceStatus& status) {
  auto h = reader.header();
  json j;
  j["trace"] = reader.dir().string();
  j["format_version"] = h.getFormatVersion();
  j["rrx_version"] = h.getRrxVersion().cStr();
  j["kernel"] = h.getKernelRelease().cStr();
  j["hostname"] = h.getHostname().cStr();
  auto cpu = h.getCpu();
  j["cpu"] = {{"vendor", cpu.getVendor().cStr()}, {"family", cpu.getFamily()}, {"model", cpu.getModel()},
              {"stepping", cpu.getStepping()}};
  json leaves = json::array();
  for (auto l : cpu.getLeaves()) {
    leaves.push_back({{"leaf", l.getLeaf()}, {"subleaf", l.getSubleaf()}, {"eax", l.getEax()},
                      {"ebx", l.getEbx()}, {"ecx", l.getEcx()}, {"edx", l.getEdx()}});
  }
  j["cpu"]["leaves"] = leaves;
  json argv = json::array();
  for (auto a : h.getArgv()) argv.push_back(a.cStr());
  j["argv"] = argv;
  j["env_count"] = h.getEnvp().size();
  // Names only: the values may be secrets, and info output ends up in CI logs.
  json env_names = json::array();
  for (auto e : h.getEnvp()) {
    std::string entry = e.cStr();
    env_names.push_back(entry.substr(0, entry.find('=')));
  }
  j["env_names"] = env_names;
  j["cwd"] = h.getCwd().cStr();
  j["exe"] = h.getExePath().cStr();
  j["start_time_unix_ns"] = h.getStartTimeUnixNs();
  j["start_time"] = format_time(h.getStartTimeUnixNs());
  j["skip_strategy"] = h.getSkipStrategy().cStr();
  j["personality"] = h.getPersonality();
  json opts = json::object();
  for (auto o : h.getOptions()) opts[o.getKey().cStr()] = o.getValue().cStr();
  j["options"] = opts;
  // How the syscall buffer kept buffered calls from blocking (core/syscallbuf_abi.h).
  // (A trace from before the desched event says nothing: checked.)
  if (opts.contains("syscallbuf") && opts["syscallbuf"] == "on") {
    j["blocking_calls"] = opts.contains("blocking-calls") ? opts["blocking-calls"] : json("checked");
  }
  j["events"] = reader.event_count();
  j["status"] = status.name;
  j["complete"] = status.name == "complete";
  if (status.name == "corrupted") j["corruption"] = status.detail;
  if (reader.complete()) {
    j["exit_status"] = reader.end()->exit_status;
    j["end_reason"] = reader.end()->reason;
  } else {
    j["incomplete_reason"] = reader.incomplete_reason();
  }
  j["trace_bytes"] = reader.trace_bytes();
  j["size_bytes"] = dir_size(reader.dir());
  j["cpuid_faulting"] = h.getCpuidFaulting();
  j["tsc_recording"] = h.getTscRecording() == schema::Header::TscRecording::PATCHED_SITES ? "patched-sites" : "trap";
  j["bound_cpu"] = h.getBoundCpu();
  std::string packed = trace::packed_note(reader.dir());
  j["packed"] = !packed.empty();
  if (!packed.empty()) j["packed_note"] = packed;
  j["linked_files"] = trace::linked_file_count(reader.dir());
  return j;
}

// What the events say about cpuid and rdrand/rdseed: how many cpuid
// instructions were trapped, and the rdrand/rdseed sites found in mappings
// (traces recorded without CPUID faulting). A corrupted chunk ends the count.
json cpuid_json(const trace::TraceReader& header_reader) {
  json j;
  uint64_t cpuid_events = 0;
  uint64_t cpuid_sites = 0;  // cpuid sites patched to answer in the process
  uint64_t buffered = 0;  // syscalls recorded by the syscall buffer
  uint64_t tsc_sites = 0, tsc_unconfirmed = 0;  // rdtsc sites patched, candidates left alone
  uint64_t rdtsc_events = 0;
  json sites = json::array();
  std::set<std::string> seen;  // object + address: a library mapped by many processes is listed once
  try {
    trace::TraceReader reader(header_reader.dir());
    while (auto rec = reader.next()) {
      auto ev = rec->get();
      if (ev.which() == schema::Event::CPUID) ++cpuid_events;
      if (ev.which() == schema::Event::CPUID_PATCHES) cpuid_sites += ev.getCpuidPatches().getPatches().size();
      if (ev.which() == schema::Event::RDTSC) ++rdtsc_events;
      if (ev.which() == schema::Event::TSC_PATCHES) {
        tsc_sites += ev.getTscPatches().getSites().size();
        tsc_unconfirmed += ev.getTscPatches().getUnconfirmed().size();
      }
      if (ev.which() == schema::Event::SYSCALL && (ev.getSyscall().getFlags() & trace::kSyscallBuffered)) ++buffered;
      if (ev.which() != schema::Event::RANDOM_INSNS) continue;
      for (auto r : ev.getRandomInsns()) {
        std::string key = fmt::format("{}+{:x}", r.getObject().cStr(), r.getObjectAddr());
        if (!seen.insert(key).second) continue;
        sites.push_back({{"mnemonic", r.getMnemonic().cStr()}, {"object", r.getObject().cStr()},
                         {"object_addr", r.getObjectAddr()}, {"addr", r.getAddr()}, {"pid", ev.getPid()},
                         {"in_program", r.getInProgram()}, {"event", rec->number}});
      }
    }
  } catch (const Error&) {
  }
  j["cpuid_events"] = cpuid_events;
  j["cpuid_patched_sites"] = cpuid_sites;
  j["buffered_syscalls"] = buffered;
  j["rdtsc_events"] = rdtsc_events;
  j["tsc_patched_sites"] = tsc_sites;
  j["tsc_unconfirmed_sites"] = tsc_unconfirmed;
  j["random_insns"] = sites;
  return j;
}

}  // namespace

int dump_trace(const DumpOptions& options) {
  trace::TraceReader reader(trace::resolve_trace(options.trace));
  std::set<int64_t> wanted;
  for (const auto& name : options.syscalls) {
    int64_t nr = sys::syscall_number(name);
    if (nr < 0) throw Error("unknown syscall name '" + name + "' for -e");
    wanted.insert(nr);
  }
  while (auto rec = reader.next()) {
    auto ev = rec->get();
    if (!wanted.empty()) {
      if (ev.which() != schema::Event::SYSCALL || !wanted.count(ev.getSyscall().getNr())) continue;
    }
    if (options.json) {
      json j;
      j["event"] = rec->number;
      j["tid"] = ev.getTid();
      j["pid"] = ev.getPid();
      j["kind"] = kind_name(ev);
      if (ev.which() == schema::Event::SYSCALL) {
        auto s = ev.getSyscall();
        j["name"] = sys::syscall_name(s.getNr());
        j["nr"] = s.getNr();
        json args = json::array();
        for (auto a : s.getArgs()) args.push_back(a);
        j["args"] = args;
        j["ret"] = s.getRet();
        j["is_error"] = s.getIsError();
        j["mem_writes"] = s.getMemWrites().size();
        j["flags"] = s.getFlags();
        if (s.getHasDataCrc()) j["data_crc"] = s.getDataCrc();
        if (s.getFlags() & trace::kSyscallSeccomp) j["seccomp"] = seccomp::describe(s.getSeccompRet());
      } else if (ev.which() == schema::Event::SIGNAL) {
        j["signo"] = ev.getSignal().getSigno();
        j["signal"] = sys::signal_name(ev.getSignal().getSigno());
      } else if (ev.which() == schema::Event::EXIT) {
        j["status"] = ev.getExit().getStatus();
        j["signo"] = ev.getExit().getSigno();
      } else if (ev.which() == schema::Event::CPUID) {
        auto c = ev.getCpuid();
        j["leaf"] = c.getLeaf();
        j["subleaf"] = c.getSubleaf();
        j["eax"] = c.getEax();
        j["ebx"] = c.getEbx();
        j["ecx"] = c.getEcx();
        j["edx"] = c.getEdx();
        j["ip"] = c.getIp();
      } else if (ev.which() == schema::Event::CPUID_PATCHES) {
        auto c = ev.getCpuidPatches();
        json sites = json::array();
        for (auto p : c.getPatches()) sites.push_back(p.getSite());
        j["sites"] = sites;
        json table = json::array();
        auto t = c.getTable();
        for (const CpuidTableEntry& e : parse_cpuid_table(t.begin(), t.size())) {
          json row = {{"leaf", e.leaf}, {"eax", e.regs.eax}, {"ebx", e.regs.ebx}, {"ecx", e.regs.ecx}, {"edx", e.regs.edx}};
          if (e.flags & kCpuidAnySubleaf) {
            row["any_subleaf"] = true;
          } else {
            row["subleaf"] = e.subleaf;
          }
          table.push_back(row);
        }
        if (!table.empty()) j["table"] = table;
      }
      if (ev.getInexact()) j["inexact"] = true;
      j["text"] = event_text(ev);
      std::cout << j.dump() << "\n";
    } else {
      std::cout << fmt::format("{:>8} [{}] {}{}\n", rec->number, ev.getTid(), event_text(ev),
                               ev.getInexact() ? " (inexact)" : "");
    }
  }
  if (!reader.complete()) {
    std::cerr << "rrx: the trace is incomplete: " << reader.incomplete_reason() << "\n";
  }
  return 0;
}

// The processes of a trace: from exec, clone (fork/vfork) and exit events.
int list_processes(const std::string& trace, bool json_output) {
  trace::TraceReader reader(trace::resolve_trace(trace));
  struct Process {
    int pid = 0, ppid = 0;
    std::string command;
    std::string status = "?";
  };
  std::vector<Process> procs;
  std::map<int, size_t> by_pid;
  auto get = [&](int pid) -> Process& {
    auto it = by_pid.find(pid);
    if (it != by_pid.end()) return procs[it->second];
    by_pid[pid] = procs.size();
    procs.push_back(Process{pid, 0, "", "?"});
    return procs.back();
  };
  while (auto rec = reader.next()) {
    auto ev = rec->get();
    switch (ev.which()) {
      case schema::Event::EXEC: {
        std::string cmd;
        for (auto a : ev.getExec().getArgv()) cmd += (cmd.empty() ? "" : " ") + std::string(a.cStr());
        get(ev.getPid()).command = cmd;
        break;
      }
      case schema::Event::CLONE: {
        auto c = ev.getClone();
        if (c.getKind() != schema::Clone::Kind::THREAD) {
          std::string parent_cmd = get(ev.getPid()).command;
          Process& child = get(c.getChildTid());
          child.ppid = ev.getPid();
          child.command = parent_cmd;  // until it execs
        }
        break;
      }
      case schema::Event::EXIT:
        if (ev.getTid() == ev.getPid()) {
          auto e = ev.getExit();
          get(ev.getPid()).status = e.getSigno() != 0 ? sys::signal_name(e.getSigno()) : std::to_string(e.getStatus());
        }
        break;
      default:
        break;
    }
  }
  if (json_output) {
    json all = json::array();
    for (const auto& p : procs) all.push_back({{"pid", p.pid}, {"ppid", p.ppid}, {"status", p.status}, {"command", p.command}});
    std::cout << all.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:>8} {:>8} {:>8}  {}\n", "PID", "PPID", "EXIT", "COMMAND");
  for (const auto& p : procs) {
    std::cout << fmt::format("{:>8} {:>8} {:>8}  {}\n", p.pid, p.ppid, p.status, p.command);
  }
  if (!reader.complete()) std::cerr << "rrx: the trace is incomplete: " << reader.incomplete_reason() << "\n";
  return 0;
}

int info_trace(const std::string& trace, bool json_output) {
  trace::TraceReader reader(trace::resolve_trace(trace));
  TraceStatus status = trace_status(reader);
  json j = header_json(reader, status);
  j.update(cpuid_json(reader));
  const int rc = status.name == "corrupted" ? 1 : 0;
  if (json_output) {
    std::cout << j.dump(2) << "\n";
    return rc;
  }
  std::string argv;
  for (const auto& a : j["argv"]) argv += (argv.empty() ? "" : " ") + a.get<std::string>();
  std::cout << fmt::format("trace:          {}\n", j["trace"].get<std::string>());
  std::cout << fmt::format("command:        {}\n", argv);
  std::cout << fmt::format("executable:     {}\n", j["exe"].get<std::string>());
  std::cout << fmt::format("cwd:            {}\n", j["cwd"].get<std::string>());
  std::cout << fmt::format("recorded:       {} on {} (Linux {})\n", j["start_time"].get<std::string>(),
                           j["hostname"].get<std::string>(), j["kernel"].get<std::string>());
  std::cout << fmt::format("cpu:            {} family {} model {} stepping {}\n",
                           j["cpu"]["vendor"].get<std::string>(), j["cpu"]["family"].get<unsigned>(),
                           j["cpu"]["model"].get<unsigned>(), j["cpu"]["stepping"].get<unsigned>());
  std::cout << fmt::format("skip strategy:  {} (best on the recording kernel)\n",
                           j["skip_strategy"].get<std::string>());
  std::cout << fmt::format("rrx version:    {} (trace format {})\n", j["rrx_version"].get<std::string>(),
                           j["format_version"].get<unsigned>());
  if (j["options"].contains("chaos-seed")) {
    std::cout << fmt::format("chaos:          recorded with --chaos --chaos-seed {}\n",
                             j["options"]["chaos-seed"].get<std::string>());
  }
  if (j["bound_cpu"].get<int>() >= 0) {
    std::cout << fmt::format("cpu binding:    recorded on CPU {} alone (replay binds to it where it may)\n",
                             j["bound_cpu"].get<int>());
  } else {
    std::cout << "cpu binding:    none (recorded with --cpu-unbound or --chaos, or by an older rrx)\n";
  }
  if (j["cpuid_faulting"].get<bool>()) {
    std::cout << fmt::format("cpuid:          trapped (CPUID faulting): {} cpuid instructions answered by rrx, "
                             "rdrand, rdseed, rtm and hle hidden; {} cpuid sites patched to look the same answers "
                             "up in the process\n",
                             j["cpuid_events"].get<uint64_t>(), j["cpuid_patched_sites"].get<uint64_t>());
  } else {
    std::cout << "cpuid:          not trapped (recorded without CPUID faulting): rdrand/rdseed values are not recorded\n";
    if (j["random_insns"].empty()) {
      std::cout << "rdrand/rdseed:  none found in the code the processes mapped\n";
    }
    bool first = true;
    for (const auto& site : j["random_insns"]) {
      std::cout << fmt::format("{}{} at {}+0x{:x} (address 0x{:x} in process {}){}\n",
                               first ? "rdrand/rdseed:  " : "                ", site["mnemonic"].get<std::string>(),
                               site["object"].get<std::string>(), site["object_addr"].get<uint64_t>(),
                               site["addr"].get<uint64_t>(), site["pid"].get<int>(),
                               site["in_program"].get<bool>() ? " in the program" : "");
      first = false;
    }
  }
  if (j["tsc_recording"] == "patched-sites") {
    std::cout << fmt::format("rdtsc:          patched sites (the rdtsc trap does not work on the recording machine): "
                             "{} rdtsc/rdtscp sites of the mapped files overwritten by hlt, {} values recorded; "
                             "rdtsc in code made at run time (JIT) is not recorded\n",
                             j["tsc_patched_sites"].get<uint64_t>(), j["rdtsc_events"].get<uint64_t>());
    if (j["tsc_unconfirmed_sites"].get<uint64_t>() != 0) {
      std::cout << fmt::format("                {} possible rdtsc left unpatched (no decoding reaches them; rrx dump lists them)\n",
                               j["tsc_unconfirmed_sites"].get<uint64_t>());
    }
  } else {
    std::cout << fmt::format("rdtsc:          trapped (prctl PR_SET_TSC): {} values recorded\n", j["rdtsc_events"].get<uint64_t>());
  }
  bool syscallbuf = j["options"].contains("syscallbuf") && j["options"]["syscallbuf"] == "on";
  if (syscallbuf) {
    std::cout << fmt::format("syscall buffer: on: {} syscalls recorded in-process (the fast path; rrx record -n records without it)\n",
                             j["buffered_syscalls"].get<uint64_t>());
    // How the library keeps a buffered call from blocking the serialized tree
    // (core/syscallbuf_abi.h): a context-switch event armed around the call
    // ("Desched"), or cheap checks of the fd before a read or write.
    if (j["blocking_calls"] == "desched") {
      std::cout << "blocking calls: desched event: calls that may block are buffered, and taken over when they block\n";
    } else {
      std::cout << "blocking calls: checked: reads and writes are buffered where they cannot block\n";
    }
  } else {
    std::cout << "syscall buffer: off: every syscall recorded through ptrace stops (rrx record -n)\n";
  }
  std::cout << fmt::format("events:         {}\n", reader.event_count());
  std::cout << fmt::format("size:           {}\n", human_size(j["size_bytes"].get<uint64_t>()));
  if (j["packed"].get<bool>()) {
    std::cout << fmt::format("packed:         yes: {}\n", j["packed_note"].get<std::string>());
  } else {
    std::cout << fmt::format("packed:         no: {} of its files are hard links to the system's (rrx pack makes it "
                             "self-contained)\n",
                             j["linked_files"].get<uint64_t>());
  }
  if (status.name == "complete") {
    std::cout << fmt::format("status:         complete (every chunk's checksum verified): {}; rrx record exited {}\n",
                             reader.end()->reason, reader.end()->exit_status);
    const auto& objects = reader.end()->shared_objects;
    if (!objects.empty()) {
      size_t unchanged = 0;
      for (const auto& o : objects) unchanged += o.unchanged;
      std::cout << fmt::format("shared objects: {} (files mapped shared); {} never changed while recorded (replay maps "
                               "the trace's copy)\n",
                               objects.size(), unchanged);
    }
  } else if (status.name == "corrupted") {
    std::cout << fmt::format("status:         CORRUPTED: {}\n", status.detail);
    std::cout << "                the replay stops with an error at that chunk; the events before it replay\n";
  } else {
    std::cout << fmt::format("status:         INCOMPLETE: {}\n", status.detail);
  }
  return rc;
}

int pack_command(const std::string& trace_arg, const std::string& archive, bool quiet) {
  fs::path dir = trace::resolve_trace(trace_arg);
  trace::FileHashKind kind;
  {
    trace::TraceReader reader(dir);
    kind = reader.header().getFileHash() == schema::Header::FileHash::PAGES ? trace::FileHashKind::Pages
                                                                            : trace::FileHashKind::Stream;
  }
  trace::PackResult r = trace::pack_trace(dir, kind);
  if (!quiet) {
    std::cerr << fmt::format("rrx: packed {}: {} files ({} of data), {} hard links replaced by copies, all checked "
                             "against their recorded hashes{}\n",
                             dir.string(), r.files, human_size(r.data_bytes), r.copied,
                             r.already_packed ? " (it was packed already)" : "");
  }
  if (!archive.empty()) {
    uint64_t size = trace::write_trace_archive(dir, archive);
    if (!quiet) std::cerr << fmt::format("rrx: wrote {} ({})\n", archive, human_size(size));
  }
  return 0;
}

int list_traces(bool json_output) {
  fs::path root = trace::traces_root();
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (entry.is_symlink(ec)) continue;  // latest-trace
    if (entry.is_directory(ec) && fs::exists(entry.path() / trace::kTraceFileName, ec)) {
      dirs.push_back(entry.path());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  json all = json::array();
  if (!json_output) {
    std::cout << fmt::format("{:<28} {:<19} {:>10} {:>9}  {:<10} {}\n", "NAME", "RECORDED", "SIZE", "EVENTS",
                             "STATUS", "COMMAND");
  }
  for (const auto& d : dirs) {
    json row;
    row["name"] = d.filename().string();
    row["path"] = d.string();
    try {
      trace::TraceReader reader(d);
      TraceStatus status = trace_status(reader);
      json h = header_json(reader, status);
      std::string cmd;
      for (const auto& a : h["argv"]) cmd += (cmd.empty() ? "" : " ") + a.get<std::string>();
      row["command"] = cmd;
      row["recorded"] = h["start_time"];
      row["size_bytes"] = h["size_bytes"];
      row["events"] = h["events"];
      row["complete"] = h["complete"];
      row["status"] = status.name;
    } catch (const Error& e) {
      row["status"] = "unreadable";
      row["error"] = e.what();
      row["command"] = "";
      row["recorded"] = "";
      row["size_bytes"] = dir_size(d);
      row["events"] = 0;
    }
    all.push_back(row);
    if (!json_output) {
      std::cout << fmt::format("{:<28} {:<19} {:>10} {:>9}  {:<10} {}\n", row["name"].get<std::string>(),
                               row["recorded"].get<std::string>(),
                               human_size(row["size_bytes"].get<uint64_t>()),
                               row["events"].get<uint64_t>(), row["status"].get<std::string>(),
                               row["command"].get<std::string>());
    }
  }
  if (json_output) std::cout << all.dump(2) << "\n";
  if (!json_output && dirs.empty()) std::cout << "(no traces in " << root.string() << ")\n";
  return 0;
}

}  // namespace rrx::cli
