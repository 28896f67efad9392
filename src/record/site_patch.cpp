// Site patching while recording (see site_patch.h): choosing the window and
// the arena, applying the patcher's plan to the stopped tracee.
#include "record/site_patch.h"

#include <elf.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <variant>

#include "core/proc_maps.h"
#include "core/remote_syscall.h"
#include "core/syscallbuf_abi.h"
#include "patcher/patcher.h"
#include "record/syscallbuf_hook.h"
#include "record/syscallbuf_record.h"

namespace rrx::record {

namespace {

constexpr uint64_t kPage = 4096;
// Stubs stay this far inside rel32 reach of their site (and of the data
// their relocated instructions address near it).
constexpr uint64_t kReach = (uint64_t{1} << 31) - (uint64_t{1} << 24);

uint64_t distance(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

}  // namespace

bool in_reach(uint64_t site, uint64_t lo, uint64_t hi) { return distance(site, lo) < kReach && distance(site, hi) < kReach; }

std::optional<uint64_t> free_range_near(const std::vector<ProcMapping>& maps, uint64_t site, uint64_t len) {
  std::optional<uint64_t> best;
  auto consider = [&](uint64_t a) {
    if (a < 0x10000 || !in_reach(site, a, a + len)) return;
    if (!best || distance(a, site) < distance(*best, site)) best = a;
  };
  uint64_t prev_end = 0x10000;
  for (const ProcMapping& m : maps) {
    if (m.start >= 0x800000000000ull) break;
    if (m.start > prev_end && m.start - prev_end >= len + 2 * kPage) {
      consider(m.start - kPage - len);  // just below the next mapping
      consider(prev_end + kPage);       // just above the previous one
    }
    prev_end = std::max(prev_end, m.end);
  }
  return best;
}

std::vector<std::pair<uint64_t, uint64_t>> load_segments(const std::string& path) {
  std::vector<std::pair<uint64_t, uint64_t>> loads;
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr eh{};
  if (in.read(reinterpret_cast<char*>(&eh), sizeof eh) && eh.e_phentsize == sizeof(Elf64_Phdr)) {
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
      Elf64_Phdr ph{};
      in.seekg(static_cast<std::streamoff>(eh.e_phoff + i * sizeof ph));
      if (!in.read(reinterpret_cast<char*>(&ph), sizeof ph)) break;
      if (ph.p_type == PT_LOAD) loads.emplace_back(ph.p_offset, ph.p_vaddr);
    }
  }
  return loads;
}

std::optional<uint64_t> load_bias(const std::vector<std::pair<uint64_t, uint64_t>>& loads, const ProcMapping& m) {
  std::optional<uint64_t> bias;
  uint64_t best_off = 0;
  for (const auto& [off, vaddr] : loads) {
    if (m.offset >= off && (!bias || off >= best_off)) {
      best_off = off;
      bias = m.start - (vaddr + (m.offset - off));
    }
  }
  return bias;
}

const SitePatches::Image& SitePatches::image(const std::string& path) {
  auto it = images_.find(path);
  if (it != images_.end()) return it->second;
  Image img;
  try {
    img.functions = function_ranges_cached(path);
  } catch (const Error&) {
    // Unreadable: the window is unsynchronized.
  }
  img.loads = load_segments(path);
  return images_.emplace(path, std::move(img)).first->second;
}

std::optional<AppliedPatch> SitePatches::patch(Task& task, pid_t tgid, uint64_t site,
                                               const std::vector<uint64_t>& busy_ips,
                                               const std::vector<uint64_t>& in_call_ips,
                                               std::vector<siginfo_t>* signals, const ProcMapping* known,
                                               user_regs_struct* regs) {
  if (settled(task, tgid, site)) return std::nullopt;
  Process& proc = procs_[tgid];
  // RRX_DEBUG_PATCH=1: say on stderr why a site is left traced.
  static const bool debug = std::getenv("RRX_DEBUG_PATCH") != nullptr;
  std::optional<ProcMapping> m;
  auto refuse = [&](const std::string& why) {
    proc.done.insert(site);
    if (debug) fmt::print(stderr, "rrx: syscall site {:#x} ({}) of process {} not patched: {}\n", site, m ? m->path : "?", tgid, why);
    return std::nullopt;
  };
  // The site's mapping (asked for alone: the whole maps are read only to
  // place an arena, below), unless the caller has it.
  m = known ? *known : query_proc_mapping(task.tid(), site);
  if (!m || !m->executable() || m->path.empty() || m->path[0] != '/') return refuse("not in a file's code");
  if (in_preload_code(site, &*m)) return refuse("rrx's own code");
  const Image& img = image(m->path);
  std::optional<uint64_t> bias = load_bias(img.loads, *m);
  if (!bias) return refuse("no load segment holds it");
  patcher::WindowBounds wb = patcher::choose_window(img.functions, *bias, site, m->start, m->end);
  // A site known from another process is decoded from its function's start
  // only: nothing executed it here yet to say it is an instruction.
  // (Not refused for good: its first call here patches it the usual way.)
  if (known && !wb.from_symbol) return std::nullopt;
  patcher::CodeWindow w;
  w.addr = wb.lo;
  w.bytes.resize(wb.hi - wb.lo);
  if (!task.read_exact(wb.lo, w.bytes.data(), w.bytes.size())) return refuse("its code cannot be read");
  w.from_symbol = wb.from_symbol;
  w.entries = wb.entries;

  const uint64_t need = patcher::max_stub_size(kHookSequenceBytes);
  Arena* arena = nullptr;
  for (Arena& a : proc.arenas) {
    if (a.len - a.used >= need && in_reach(site, a.addr, a.addr + a.len)) {
      arena = &a;
      break;
    }
  }
  Arena fresh{};
  if (!arena) {
    if (!proc.maps || proc.maps_generation != maps_generation_) {
      proc.maps = read_proc_maps(task.tid());
      proc.maps_generation = maps_generation_;
    }
    auto at = free_range_near(*proc.maps, site, kArenaBytes);
    if (!at) return refuse("no free range within reach for a stub arena");
    fresh = {*at, kArenaBytes, 0};
  }
  const uint64_t stub_addr = arena ? arena->addr + arena->used : fresh.addr;
  const auto& planned = plan({site, stub_addr, w.addr, w.from_symbol, std::move(w.entries), std::move(w.bytes)});
  if (const auto* no = std::get_if<patcher::Refusal>(&planned)) return refuse(no->reason);
  const patcher::SitePatch& p = std::get<patcher::SitePatch>(planned);
  for (uint64_t ip : busy_ips) {
    if (ip > p.displaced_lo && ip < p.displaced_hi) return std::nullopt;  // later, when it has left
  }
  for (uint64_t ip : in_call_ips) {
    if (ip != site + 2 && ip > p.displaced_lo && ip < p.displaced_hi) return std::nullopt;
  }
  AppliedPatch out;
  out.site = site;
  if (!arena) {
    // The stub arena: private anonymous code, mapped from the site itself
    // (remote_syscall puts its own syscall there and restores the bytes;
    // the fast path's filter traces it: its seccomp stop, then its exit).
    int64_t got = remote_syscall(task, site, SYS_mmap,
                                 {fresh.addr, fresh.len, PROT_READ | PROT_EXEC,
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, static_cast<uint64_t>(-1), 0},
                                 nullptr, signals, /*seccomp_traced=*/true);
    if (got != static_cast<int64_t>(fresh.addr)) {
      proc.maps.reset();
      if (got > 0) remote_syscall(task, site, SYS_munmap, {static_cast<uint64_t>(got), fresh.len}, nullptr, signals);
      return refuse("the stub arena's mmap failed");
    }
    proc.arenas.push_back(fresh);
    if (proc.maps) {
      // The arena in the maps kept for the next placement (in order), not a read of them again.
      ProcMapping a;
      a.start = fresh.addr;
      a.end = fresh.addr + fresh.len;
      std::memcpy(a.perms, "r-xp", sizeof a.perms);
      auto at = std::upper_bound(proc.maps->begin(), proc.maps->end(), a.start,
                                 [](uint64_t v, const ProcMapping& m) { return v < m.start; });
      proc.maps->insert(at, std::move(a));
    }
    arena = &proc.arenas.back();
    out.arena_addr = fresh.addr;
    out.arena_len = fresh.len;
  }
  if (deferring_) {
    deferring_->stubs.emplace_back(p.stub_addr, p.stub_bytes);
    deferring_->jumps.emplace_back(p.patch_addr, p.patch_bytes);
  } else if (!task.write_mem(p.stub_addr, p.stub_bytes.data(), p.stub_bytes.size()) ||
             !task.write_mem(p.patch_addr, p.patch_bytes.data(), p.patch_bytes.size())) {
    throw Error(fmt::format("cannot write the patch of the syscall site {:#x} into thread {}", site, task.tid()));
  }
  arena->used += (p.stub_bytes.size() + 15) & ~size_t{15};
  out.writes.emplace_back(p.stub_addr, p.stub_bytes);
  out.writes.emplace_back(p.patch_addr, p.patch_bytes);
  // At this exit stop the ip is right after the syscall: inside the
  // displaced bytes when they go on past it; the same place in the stub is
  // right after the hook sequence.
  user_regs_struct read;
  user_regs_struct& r = regs ? *regs : (read = task.regs());
  if (r.rip > p.displaced_lo && r.rip < p.displaced_hi) {
    out.new_ip = p.hook_addr + kHookSequenceBytes;
    r.rip = out.new_ip;
    task.set_regs(r);
  }
  proc.done.insert(site);
  proc.resume[site + 2] = p.hook_addr + kHookSequenceBytes;
  known_sites_[key_of(proc.program, *m)].insert(site - m->start + m->offset);
  return out;
}

std::vector<AppliedPatch> SitePatches::patch_known_sites(Task& task, pid_t tgid, const std::vector<uint64_t>& busy_ips,
                                                         const std::vector<uint64_t>& in_call_ips,
                                                         std::vector<siginfo_t>* signals) {
  std::vector<AppliedPatch> out;
  if (known_sites_.empty()) return out;
  std::vector<std::pair<uint64_t, const ProcMapping*>> sites;
  const std::vector<ProcMapping> maps = read_proc_maps(task.tid());
  // (Also where a stub arena goes, below: one read of the maps for all.)
  Process& proc = procs_[tgid];
  proc.maps = maps;
  proc.maps_generation = maps_generation_;
  const std::string program = proc.program;
  for (const ProcMapping& m : maps) {
    if (!m.executable() || m.path.empty() || m.path[0] != '/') continue;
    auto it = known_sites_.find(key_of(program, m));
    if (it == known_sites_.end()) continue;
    for (auto off = it->second.lower_bound(m.offset); off != it->second.end() && *off < m.offset + (m.end - m.start); ++off) {
      sites.emplace_back(m.start + (*off - m.offset), &m);
    }
  }
  if (sites.empty()) return out;
  user_regs_struct regs = task.regs();  // (one read for all: only a patch's move changes them)
  Deferred deferred;
  {
    struct Deferring {  // (patch() writes again once the loop is left, however)
      Deferred*& at;
      ~Deferring() { at = nullptr; }
    } deferring{deferring_ = &deferred};
    for (auto [site, m] : sites) {
      if (auto done = patch(task, tgid, site, busy_ips, in_call_ips, signals, m, &regs)) out.push_back(std::move(*done));
    }
  }
  write_deferred(task, deferred);
  return out;
}

void SitePatches::write_deferred(Task& task, Deferred& d) {
  // The stubs first: a jump must never lead to a stub not yet there. A run
  // of stubs placed one after the other in an arena goes in one write, the
  // gaps between them (their 16-byte alignment: bytes of the arena never
  // written, zero) written as zeros.
  std::sort(d.stubs.begin(), d.stubs.end());
  for (size_t i = 0; i < d.stubs.size();) {
    const uint64_t start = d.stubs[i].first;
    std::vector<uint8_t> run = std::move(d.stubs[i].second);
    size_t j = i + 1;
    for (; j < d.stubs.size() && d.stubs[j].first >= start + run.size() && d.stubs[j].first - (start + run.size()) < 16;
         ++j) {
      run.resize(d.stubs[j].first - start, 0);
      run.insert(run.end(), d.stubs[j].second.begin(), d.stubs[j].second.end());
    }
    if (!task.write_mem(start, run.data(), run.size())) {
      throw Error(fmt::format("cannot write the syscall stubs at {:#x} into thread {}", start, task.tid()));
    }
    i = j;
  }
  for (const auto& [addr, bytes] : d.jumps) {
    if (!task.write_mem(addr, bytes.data(), bytes.size())) {
      throw Error(fmt::format("cannot write the patch of the syscall site at {:#x} into thread {}", addr, task.tid()));
    }
  }
}

uint64_t SitePatches::resume_ip(pid_t tgid, uint64_t ip) const {
  auto it = procs_.find(tgid);
  if (it == procs_.end()) return 0;
  auto r = it->second.resume.find(ip);
  return r == it->second.resume.end() ? 0 : r->second;
}

const std::variant<patcher::SitePatch, patcher::Refusal>& SitePatches::plan(PlanInput in) {
  if (auto it = plans_.find(in); it != plans_.end()) return it->second;
  // (Bounded: each plan keeps its window's bytes.)
  if (plans_.size() >= kMaxPlans) plans_.clear();
  patcher::CodeWindow w;
  w.addr = in.window;
  w.from_symbol = in.from_symbol;
  w.entries = in.entries;
  w.bytes = in.bytes;
  const uint64_t site = in.site;
  auto planned = patcher::plan_site(w, site, in.stub_addr, [site](uint64_t at) { return hook_sequence(at, site); });
  return plans_.emplace(std::move(in), std::move(planned)).first->second;
}

void SitePatches::forget(pid_t tgid) { procs_.erase(tgid); }

bool SitePatches::settled(Task& task, pid_t tgid, uint64_t site) {
  Process& proc = procs_[tgid];
  if (proc.done.count(site)) return true;
  // The library is in the process, its page ready: the entry slot holds its address.
  if (proc.hook_entry == 0) {
    uint64_t entry = 0;
    if (!task.read_exact(RRX_HOOK_ENTRY_SLOT, &entry, sizeof entry) || entry == 0) return true;
    proc.hook_entry = entry;
  }
  return false;
}

void SitePatches::maps_changed() { ++maps_generation_; }

bool SitePatches::may_change_mappings(const sys::SyscallDesc* desc, const uint64_t args[6]) {
  if (!desc || (desc->flags & sys::kMapsMemory)) return true;
  if (desc->replay_policy(args) == sys::Replay::Emulate) return false;
  return !(desc->flags & (sys::kSetsSigaction | sys::kSetsSigmask));
}

void SitePatches::copy(pid_t parent, pid_t child) {
  auto it = procs_.find(parent);
  if (it == procs_.end()) return;
  procs_[child] = it->second;
  procs_[child].maps.reset();  // (MADV_DONTFORK ranges are not copied)
}

void fill_site_patch(schema::SitePatch::Builder b, const AppliedPatch& p) {
  b.setSite(p.site);
  b.setArenaAddr(p.arena_addr);
  b.setArenaLen(p.arena_len);
  b.setNewIp(p.new_ip);
  fill_mem_writes(b.initWrites(static_cast<unsigned>(p.writes.size())), p.writes);
}

void fill_mem_writes(capnp::List<schema::MemWrite>::Builder out,
                     const std::vector<std::pair<uint64_t, std::vector<uint8_t>>>& writes) {
  for (unsigned i = 0; i < writes.size(); ++i) {
    out[i].setAddr(writes[i].first);
    out[i].setData(kj::arrayPtr(writes[i].second.data(), writes[i].second.size()));
  }
}

}  // namespace rrx::record
