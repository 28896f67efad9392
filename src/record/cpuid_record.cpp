// cpuid answers and the rdrand/rdseed search of the recorder: see cpuid_record.h.
#include "record/cpuid_record.h"

#include <capnp/message.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/cpuid_trap.h"
#include "core/error.h"
#include "core/line_cache.h"
#include "core/proc_maps.h"

namespace rrx::record {

bool use_cpuid_faulting(bool refused_by_option, std::string* why_not) {
  if (refused_by_option) {
    *why_not = "CPUID faulting is off: --no-cpuid-faulting";
    return false;
  }
  return cpuid_faulting_usable(why_not);
}

void answer_cpuid(trace::TraceWriter& writer, Task& task, pid_t pid, size_t len, const ForcedSignalUndo& undo) {
  user_regs_struct r = task.regs();
  uint32_t leaf = static_cast<uint32_t>(r.rax), subleaf = static_cast<uint32_t>(r.rcx);
  CpuidRegs answer = recorded_cpuid(leaf, subleaf);
  capnp::MallocMessageBuilder m;
  auto ev = m.initRoot<schema::Event>();
  ev.setTid(task.tid());
  ev.setPid(pid);
  auto c = ev.initCpuid();
  c.setLeaf(leaf);
  c.setSubleaf(subleaf);
  c.setEax(answer.eax);
  c.setEbx(answer.ebx);
  c.setEcx(answer.ecx);
  c.setEdx(answer.edx);
  c.setIp(r.rip);
  if (undo.mask) {
    c.setRestoreMask(*undo.mask);
    c.setHasRestoreMask(true);
  }
  if (undo.action) {
    std::string b = undo.action_bytes();
    c.setRestoreAction(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(b.data()), b.size()));
  }
  writer.append(m);
  // cpuid writes the four registers whole (zero-extended to 64 bits).
  r.rax = answer.eax;
  r.rbx = answer.ebx;
  r.rcx = answer.ecx;
  r.rdx = answer.edx;
  r.rip += len;
  task.set_regs(r);
}

namespace {

std::string base_name(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string hex(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

// "START-END" as /proc/PID/map_files names a mapping (lowercase hex, no 0x).
std::string hex_range(uint64_t start, uint64_t end) {
  std::ostringstream s;
  s << std::hex << start << '-' << end;
  return s.str();
}

}  // namespace

const std::vector<insn_scan::Site>& RandomInsnFinder::sites_of(const std::string& path) {
  static const std::vector<insn_scan::Site> none;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return none;
  auto key = std::make_tuple(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                             static_cast<uint64_t>(st.st_size),
                             static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  if (!known_) known_.emplace(user_cache_file("insn-sites"));
  if (auto sites = known_->lookup(st)) return cache_.emplace(key, std::move(*sites)).first->second;
  std::vector<insn_scan::Site> sites;
  try {
    sites = insn_scan::scan_file(path);
    // Remembered only when the file is still the one stat'ed before the scan.
    struct stat after {};
    if (::stat(path.c_str(), &after) == 0 && file_identity_key(after) == file_identity_key(st)) known_->add(st, sites);
  } catch (const Error&) {
    // Unreadable now: nothing known about it (the mapping itself succeeded).
  }
  return cache_.emplace(key, std::move(sites)).first->second;
}

void RandomInsnFinder::scan_exec(trace::TraceWriter& writer, Task& task, pid_t pid, const std::string& exe) {
  std::string proc = "/proc/" + std::to_string(task.tid());
  std::vector<Mapping> found;
  for (const ProcMapping& m : read_proc_maps(task.tid())) {
    if (!m.executable() || m.path.empty() || m.path[0] != '/') continue;
    bool in_program = m.path == exe;
    // The exe by /proc/TID/exe: the very file the kernel runs, whatever its
    // path became; the others by /proc/TID/map_files (the mapped file, in
    // whatever mount namespace the program is; readable with CAP_SYS_ADMIN),
    // else by their path in the program's root.
    std::string source = in_program ? proc + "/exe" : proc + "/map_files/" + hex_range(m.start, m.end);
    if (!in_program && ::access(source.c_str(), R_OK) != 0) source = proc + "/root" + m.path;
    found.push_back({source, m.path, m.start, m.end - m.start, m.offset, in_program});
  }
  record(writer, task, pid, found);
}

void RandomInsnFinder::scan_mapping(trace::TraceWriter& writer, Task& task, pid_t pid, const std::string& path,
                                    const std::string& display_path, uint64_t addr, uint64_t len,
                                    uint64_t offset) {
  record(writer, task, pid, {{path, display_path, addr, len, offset, false}});
}

void RandomInsnFinder::record(trace::TraceWriter& writer, Task& task, pid_t pid, const std::vector<Mapping>& maps) {
  struct Hit {
    const Mapping* map;
    const insn_scan::Site* site;
  };
  std::vector<Hit> hits;
  for (const Mapping& m : maps) {
    for (const insn_scan::Site& s : sites_of(m.path)) {
      if (s.file_offset >= m.offset && s.file_offset - m.offset < m.len) hits.push_back({&m, &s});
    }
  }
  if (hits.empty()) return;
  capnp::MallocMessageBuilder msg;
  auto ev = msg.initRoot<schema::Event>();
  ev.setTid(task.tid());
  ev.setPid(pid);
  auto list = ev.initRandomInsns(static_cast<unsigned>(hits.size()));
  for (unsigned i = 0; i < hits.size(); ++i) {
    const Hit& h = hits[i];
    list[i].setMnemonic(h.site->mnemonic);
    list[i].setObject(h.map->display_path);
    list[i].setObjectAddr(h.site->elf_addr);
    list[i].setAddr(h.map->addr + (h.site->file_offset - h.map->offset));
    list[i].setInProgram(h.map->in_program);
  }
  writer.append(msg);
  // One line per recording, about the program's own code only: shared
  // libraries hold rdrand behind their own cpuid checks for features most
  // programs never use (libstdc++'s random_device, OpenSSL's RNG engines);
  // they are listed by `rrx info` and named when a replay diverges.
  if (warned_) return;
  std::vector<const Hit*> own;
  for (const Hit& h : hits) {
    if (h.map->in_program) own.push_back(&h);
  }
  if (own.empty()) return;
  warned_ = true;
  std::string names;
  for (size_t i = 0; i < own.size() && i < 2; ++i) {
    const Hit& h = *own[i];
    names += (i ? ", " : "") + h.site->mnemonic + " at " + base_name(h.map->display_path) + "+" + hex(h.site->elf_addr);
  }
  std::string more = own.size() > 2 ? " (and " + std::to_string(own.size() - 2) + " more: rrx info lists them)" : "";
  std::cerr << "rrx: warning: " << names << more << ": " << (own.size() > 1 ? "their" : "its")
            << " values are not recorded (" << why_ << "); a replay may diverge after " << (own.size() > 1 ? "them" : "it")
            << "\n";
}

}  // namespace rrx::record
