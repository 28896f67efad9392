// Patching cpuid sites while recording (see cpuid_sites.h): the table's
// mapping at exec, finding and planning the sites, applying the plans.
#include "record/cpuid_sites.h"

#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <variant>

#include "core/cpuid_table.h"
#include "core/error.h"
#include "core/remote_syscall.h"
#include "core/syscallbuf_abi.h"
#include "patcher/patcher.h"
#include "record/insn_scan/insn_scan.h"
#include "record/syscallbuf_record.h"

namespace rrx::record {

namespace {

constexpr uint64_t kPage = 4096;
// Stub room of each mapping (a stub is ~140 bytes; ld.so has ~20 sites).
constexpr uint64_t kStubBytes = 16 * 1024;

uint64_t round_up(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

std::string hex_range(uint64_t start, uint64_t end) { return fmt::format("{:x}-{:x}", start, end); }

// Where to read the file of mapping `m` of thread `tid`: the very file mapped
// (/proc/TID/map_files, in whatever mount namespace), else its path in the
// program's root.
std::string source_of(pid_t tid, const ProcMapping& m) {
  std::string proc = "/proc/" + std::to_string(tid);
  std::string source = proc + "/map_files/" + hex_range(m.start, m.end);
  if (::access(source.c_str(), R_OK) != 0) source = proc + "/root" + m.path;
  return source;
}

bool debug_patch() {
  static const bool debug = std::getenv("RRX_DEBUG_PATCH") != nullptr;
  return debug;
}

// rrx's answers, read with the thread held on one CPU: leaf 1's APIC id (and
// leaf 0xb's, 0x1f's, 0x1a's per-core fields) must not change between the
// reads that decide whether a leaf depends on ecx.
std::vector<uint8_t> build_table() {
  cpu_set_t old_set, one;
  bool pinned = false;
  int cpu = sched_getcpu();
  if (cpu >= 0 && sched_getaffinity(0, sizeof old_set, &old_set) == 0) {
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pinned = sched_setaffinity(0, sizeof one, &one) == 0;
  }
  std::vector<uint8_t> t = serialize_cpuid_table(build_cpuid_table(recorded_cpuid));
  if (pinned) sched_setaffinity(0, sizeof old_set, &old_set);
  return t;
}

}  // namespace

void CpuidSites::prepare() {
  if (!table_ && !building_.valid()) building_ = std::async(std::launch::async, build_table);
}

const std::vector<uint8_t>& CpuidSites::table() {
  if (!table_) table_ = building_.valid() ? building_.get() : build_table();
  return *table_;
}

std::optional<CpuidSites::FileKey> CpuidSites::file_key(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return std::make_tuple(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                         static_cast<uint64_t>(st.st_size),
                         static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
}

const CpuidSites::Image& CpuidSites::image(const std::string& path) {
  static const Image none;
  auto key_or = file_key(path);
  if (!key_or) return none;
  const FileKey& key = *key_or;
  auto it = images_.find(key);
  if (it != images_.end()) return it->second;
  Image img;
  try {
    img.cpuid_offsets = insn_scan::cpuid_candidates(path);
    img.functions = function_ranges_cached(path);
  } catch (const Error&) {
    // Unreadable now: candidates found so far are still checked by decoding.
  }
  img.loads = load_segments(path);
  return images_.emplace(key, std::move(img)).first->second;
}

bool CpuidSites::patch_site(Task& task, pid_t tgid, Process& proc, const ProcMapping& m, const std::string& source,
                            uint64_t site, bool confirmed, const std::vector<uint64_t>& busy_ips,
                            std::vector<siginfo_t>* signals, AppliedCpuidPatches& out) {
  auto refuse = [&](const std::string& why) {
    proc.done.insert(site);
    if (debug_patch()) fmt::print(stderr, "rrx: cpuid site {:#x} ({}) of process {} not patched: {}\n", site, m.path, tgid, why);
    return false;
  };
  if (in_preload_code(site, &m)) return refuse("rrx's own code");
  const Image& img = image(source);
  std::optional<uint64_t> bias = load_bias(img.loads, m);
  if (!bias) return refuse("no load segment holds it");
  patcher::WindowBounds wb = patcher::choose_window(img.functions, *bias, site, m.start, m.end);
  patcher::CodeWindow w;
  w.addr = wb.lo;
  w.bytes.resize(wb.hi - wb.lo);
  if (!task.read_exact(wb.lo, w.bytes.data(), w.bytes.size())) return refuse("its code cannot be read");
  w.from_symbol = wb.from_symbol;
  w.entries = wb.entries;
  for (const auto& [at, bytes] : proc.originals) {
    for (size_t i = 0; i < bytes.size(); ++i) {
      if (at + i >= w.addr && at + i - w.addr < w.bytes.size()) w.bytes[at + i - w.addr] = bytes[i];
    }
  }
  if (!confirmed) {
    // Two bytes 0f a2 found in the file: a cpuid only when a decoding of its
    // function from the function's first byte lands on it.
    auto found = wb.from_symbol ? patcher::find_cpuids(w) : std::vector<uint64_t>{};
    if (!std::binary_search(found.begin(), found.end(), site)) return refuse("not a cpuid instruction of a known function");
  }
  const uint64_t need = patcher::max_stub_size(kCpuidLookupBytes);
  Arena* arena = nullptr;
  for (Arena& a : proc.arenas) {
    if (a.len - a.used >= need && in_reach(site, a.addr, a.addr + a.len)) {
      arena = &a;
      break;
    }
  }
  Arena fresh{};
  if (!arena) {
    if (!proc.maps) proc.maps = read_proc_maps(task.tid());
    auto at = free_range_near(*proc.maps, site, kStubBytes);
    if (!at) return refuse("no free range within reach for a stub arena");
    fresh = {*at, kStubBytes, 0};
  }
  const uint64_t stub_addr = arena ? arena->addr + arena->used : fresh.addr;
  const uint64_t table_addr = proc.table_addr;
  auto plan = patcher::plan_cpuid_site(w, site, stub_addr, [table_addr](uint64_t) { return cpuid_lookup_sequence(table_addr); });
  if (const auto* no = std::get_if<patcher::Refusal>(&plan)) return refuse(no->reason);
  const patcher::SitePatch& p = std::get<patcher::SitePatch>(plan);
  for (const auto& [at, bytes] : proc.originals) {
    if (at < p.displaced_hi && p.displaced_lo < at + bytes.size()) return refuse("its bytes overlap another patch");
  }
  for (uint64_t ip : busy_ips) {
    if (ip > p.displaced_lo && ip < p.displaced_hi) return false;  // later, when it has left
  }
  AppliedPatch applied;
  applied.site = site;
  if (!arena) {
    int64_t got = remote_syscall(task, site, SYS_mmap,
                                 {fresh.addr, fresh.len, PROT_READ | PROT_EXEC,
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, static_cast<uint64_t>(-1), 0},
                                 nullptr, signals);
    proc.maps.reset();
    if (got != static_cast<int64_t>(fresh.addr)) {
      if (got > 0) remote_syscall(task, site, SYS_munmap, {static_cast<uint64_t>(got), fresh.len}, nullptr, signals);
      return refuse("the stub arena's mmap failed");
    }
    proc.arenas.push_back(fresh);
    arena = &proc.arenas.back();
    applied.arena_addr = fresh.addr;
    applied.arena_len = fresh.len;
  }
  if (!task.write_mem(p.stub_addr, p.stub_bytes.data(), p.stub_bytes.size()) ||
      !task.write_mem(p.patch_addr, p.patch_bytes.data(), p.patch_bytes.size())) {
    throw Error(fmt::format("cannot write the patch of the cpuid site {:#x} into thread {}", site, task.tid()));
  }
  arena->used += round_up(p.stub_bytes.size(), 16);
  proc.originals[p.displaced_lo] = std::vector<uint8_t>(w.bytes.begin() + static_cast<ptrdiff_t>(p.displaced_lo - w.addr),
                                                        w.bytes.begin() + static_cast<ptrdiff_t>(p.displaced_hi - w.addr));
  applied.writes.emplace_back(p.stub_addr, p.stub_bytes);
  applied.writes.emplace_back(p.patch_addr, p.patch_bytes);
  // After a trap the thread stands right after the cpuid: inside the
  // displaced bytes when they go on past it; the same place in the stub is
  // right after the lookup.
  user_regs_struct r = task.regs();
  if (r.rip > p.displaced_lo && r.rip < p.displaced_hi) {
    applied.new_ip = p.hook_addr + kCpuidLookupBytes;
    r.rip = applied.new_ip;
    task.set_regs(r);
  }
  proc.done.insert(site);
  out.patches.push_back(std::move(applied));
  return true;
}

void CpuidSites::apply_plan(Task& task, Process& proc, const ExecPlan& plan, AppliedCpuidPatches& out) {
  if (plan.patches.empty()) {
    proc.done.insert(plan.done.begin(), plan.done.end());
    return;
  }
  // The stubs lie one after the other in the table's mapping, the jumps in
  // the mapped file's code: one write for each (read-modify-write of the
  // code between the first and the last jump).
  Arena& arena = proc.arenas.front();
  const uint64_t lo = arena.addr + arena.used;
  std::vector<uint8_t> stubs(plan.arena_used - arena.used);
  uint64_t code_lo = UINT64_MAX, code_hi = 0;
  for (const AppliedPatch& p : plan.patches) {
    const auto& [stub_at, stub] = p.writes.front();
    std::copy(stub.begin(), stub.end(), stubs.begin() + static_cast<ptrdiff_t>(stub_at - lo));
    const auto& [jump_at, jump] = p.writes.back();
    code_lo = std::min(code_lo, jump_at);
    code_hi = std::max(code_hi, jump_at + jump.size());
  }
  std::vector<uint8_t> code(code_hi - code_lo);
  if (!task.read_exact(code_lo, code.data(), code.size())) {
    throw Error(fmt::format("cannot read the cpuid sites at {:#x} of thread {}", code_lo, task.tid()));
  }
  for (const AppliedPatch& p : plan.patches) {
    const auto& [jump_at, jump] = p.writes.back();
    std::copy(jump.begin(), jump.end(), code.begin() + static_cast<ptrdiff_t>(jump_at - code_lo));
  }
  if (!task.write_mem(lo, stubs.data(), stubs.size()) || !task.write_mem(code_lo, code.data(), code.size())) {
    throw Error(fmt::format("cannot write the cpuid site patches into thread {}", task.tid()));
  }
  arena.used = plan.arena_used;
  proc.done.insert(plan.done.begin(), plan.done.end());
  proc.originals.insert(plan.originals.begin(), plan.originals.end());
  out.patches.insert(out.patches.end(), plan.patches.begin(), plan.patches.end());
}

std::optional<AppliedCpuidPatches> CpuidSites::at_exec(Task& task, pid_t tgid, std::vector<siginfo_t>* signals) {
  procs_.erase(tgid);
  Process& proc = procs_[tgid];
  const uint64_t ip = task.regs().rip;
  const std::vector<ProcMapping> maps = read_proc_maps(task.tid());
  // The table, and room for the first stubs, near the code that runs first
  // (the interpreter, or a static program): mapped from the thread's ip.
  const std::vector<uint8_t>& t = table();
  const uint64_t table_len = round_up(t.size(), 64);
  const uint64_t len = round_up(table_len, kPage) + kStubBytes;
  auto at = free_range_near(maps, ip, len);
  if (!at) return std::nullopt;
  int64_t got = remote_syscall(task, ip, SYS_mmap,
                               {*at, len, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                                static_cast<uint64_t>(-1), 0},
                               nullptr, signals);
  if (got != static_cast<int64_t>(*at)) {
    if (got > 0) remote_syscall(task, ip, SYS_munmap, {static_cast<uint64_t>(got), len}, nullptr, signals);
    return std::nullopt;
  }
  if (!task.write_mem(*at, t.data(), t.size())) {
    throw Error(fmt::format("cannot write the cpuid table into thread {}", task.tid()));
  }
  AppliedCpuidPatches out;
  out.map_addr = *at;
  out.map_len = len;
  out.table_addr = *at;
  out.table = t;
  proc.table_addr = *at;
  proc.arenas.push_back({*at, len, table_len});
  for (const ProcMapping& m : maps) {
    if (!m.executable() || m.path.empty() || m.path[0] != '/') continue;
    std::string source = source_of(task.tid(), m);
    auto key = file_key(source);
    if (!key) continue;
    const Arena& first = proc.arenas.front();
    const ExecKey ek{*key, m.start, m.end, m.offset, proc.table_addr, first.addr, first.used, ip};
    auto cached = exec_plans_.find(ek);
    if (cached != exec_plans_.end()) {
      apply_plan(task, proc, cached->second, out);
      continue;
    }
    const size_t arenas_before = proc.arenas.size(), patches_before = out.patches.size();
    std::set<uint64_t> sites;
    const Image& img = image(source);
    for (uint64_t off : img.cpuid_offsets) {
      if (off < m.offset || off - m.offset >= m.end - m.start) continue;
      const uint64_t site = m.start + (off - m.offset);
      if (proc.done.count(site)) continue;
      sites.insert(site);
      patch_site(task, tgid, proc, m, source, site, false, {ip}, signals, out);
    }
    if (proc.arenas.size() != arenas_before) continue;  // an arena of its own: where depends on more than the key
    ExecPlan plan;
    plan.patches.assign(out.patches.begin() + static_cast<ptrdiff_t>(patches_before), out.patches.end());
    for (uint64_t site : sites) {
      if (proc.done.count(site)) plan.done.insert(site);
    }
    for (const AppliedPatch& p : plan.patches) {
      const uint64_t jump_at = p.writes.back().first;
      plan.originals[jump_at] = proc.originals.at(jump_at);
    }
    plan.arena_used = proc.arenas.front().used;
    exec_plans_.emplace(ek, std::move(plan));
  }
  return out;
}

std::optional<AppliedCpuidPatches> CpuidSites::after_trap(Task& task, pid_t tgid, uint64_t site,
                                                          const std::vector<uint64_t>& busy_ips,
                                                          std::vector<siginfo_t>* signals) {
  auto it = procs_.find(tgid);
  if (it == procs_.end() || it->second.table_addr == 0) return std::nullopt;
  Process& proc = it->second;
  if (proc.done.count(site)) return std::nullopt;
  if (site >= RRX_PAGE_ADDR && site < RRX_PAGE_ADDR + RRX_PAGE_SIZE) return std::nullopt;
  for (const Arena& a : proc.arenas) {
    if (site >= a.addr && site < a.addr + a.len) return std::nullopt;  // a stub's own cpuid (a lookup that missed)
  }
  if (!proc.maps) proc.maps = read_proc_maps(task.tid());
  std::optional<ProcMapping> m;
  for (const ProcMapping& pm : *proc.maps) {
    if (pm.contains(site)) m = pm;
  }
  if (!m || !m->executable() || m->path.empty() || m->path[0] != '/') {
    proc.done.insert(site);
    return std::nullopt;
  }
  AppliedCpuidPatches out;
  if (!patch_site(task, tgid, proc, *m, source_of(task.tid(), *m), site, true, busy_ips, signals, out)) return std::nullopt;
  return out;
}

void CpuidSites::forget(pid_t tgid) { procs_.erase(tgid); }

void CpuidSites::copy(pid_t parent, pid_t child) {
  auto it = procs_.find(parent);
  if (it == procs_.end()) return;
  procs_[child] = it->second;
  procs_[child].maps.reset();
}

void CpuidSites::maps_changed() {
  for (auto& [tgid, proc] : procs_) proc.maps.reset();
}

void fill_cpuid_patches(schema::CpuidPatches::Builder b, const AppliedCpuidPatches& p) {
  b.setMapAddr(p.map_addr);
  b.setMapLen(p.map_len);
  b.setTableAddr(p.table_addr);
  b.setTable(kj::arrayPtr(p.table.data(), p.table.size()));
  auto list = b.initPatches(static_cast<unsigned>(p.patches.size()));
  for (unsigned i = 0; i < p.patches.size(); ++i) fill_site_patch(list[i], p.patches[i]);
}

}  // namespace rrx::record
