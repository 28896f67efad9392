// Patched rdtsc sites while recording: see tsc_sites.h.
#include "record/tsc_sites.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"

namespace rrx::record {

namespace {

// Where to read the file of mapping `m` of thread `tid`: the very file mapped
// (/proc/TID/map_files), else its path in the program's root.
std::string source_of(pid_t tid, const ProcMapping& m) {
  std::string proc = "/proc/" + std::to_string(tid);
  std::string source = proc + fmt::format("/map_files/{:x}-{:x}", m.start, m.end);
  if (::access(source.c_str(), R_OK) != 0) source = proc + "/root" + m.path;
  return source;
}

std::string base_name(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::vector<uint8_t> tsc_patch_bytes(size_t len) {
  std::vector<uint8_t> b(len, 0x90);
  if (len > 0) b[0] = 0xf4;
  return b;
}

const insn_scan::TscScan& TscSites::scan(const std::string& path) {
  static const insn_scan::TscScan none;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return none;
  const FileKey key{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                    static_cast<uint64_t>(st.st_size),
                    static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                    static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
  auto it = scans_.find(key);
  if (it != scans_.end()) return it->second;
  insn_scan::TscScan found;
  try {
    found = insn_scan::scan_tsc_file(path);
  } catch (const Error&) {
    // Unreadable now (the mapping itself succeeded): nothing known about it.
  }
  return scans_.emplace(key, std::move(found)).first->second;
}

void TscSites::patch_mapping(Task& task, std::map<uint64_t, Site>& sites, const ProcMapping& m, uint64_t lo,
                             uint64_t hi, AppliedTscPatches& out) {
  const std::string source = source_of(task.tid(), m);
  const insn_scan::TscScan& s = scan(source);
  if (s.found.empty() && s.unconfirmed.empty()) return;
  lo = std::max(lo, m.start);
  hi = std::min(hi, m.end);
  auto addr_of = [&](uint64_t file_offset, size_t len) -> std::optional<uint64_t> {
    if (file_offset < m.offset || file_offset - m.offset >= m.end - m.start) return std::nullopt;
    const uint64_t a = m.start + (file_offset - m.offset);
    if (a < lo || a + len > hi) return std::nullopt;
    return a;
  };
  for (const insn_scan::TscInsn& x : s.unconfirmed) {
    if (auto a = addr_of(x.file_offset, 2)) {
      out.unconfirmed.push_back(*a);
      out.unconfirmed_names.push_back(fmt::format("{}+{:#x}", base_name(m.path), x.elf_addr));
    }
  }
  std::vector<std::pair<uint64_t, const insn_scan::TscInsn*>> todo;
  for (const insn_scan::TscInsn& x : s.found) {
    auto a = addr_of(x.file_offset, x.bytes.size());
    if (!a) continue;
    if (m.shared()) {  // writing would change the file
      out.unconfirmed.push_back(*a);
      out.unconfirmed_names.push_back(fmt::format("{}+{:#x} (a shared mapping)", base_name(m.path), x.elf_addr));
      continue;
    }
    todo.emplace_back(*a, &x);
  }
  // Each site alone: a write makes its page a private copy, and only the
  // pages with a site need one.
  std::vector<uint8_t> now;
  for (const auto& [a, x] : todo) {
    now.resize(x->bytes.size());
    if (!task.read_exact(a, now.data(), now.size())) {
      throw Error(fmt::format("cannot read the rdtsc site at {:#x} of thread {}", a, task.tid()));
    }
    if (now != x->bytes) continue;  // patched already, or not the file's bytes
    const std::vector<uint8_t> patch = tsc_patch_bytes(x->bytes.size());
    if (!task.write_mem(a, patch.data(), patch.size())) {
      throw Error(fmt::format("cannot write the rdtsc site patch at {:#x} into thread {}", a, task.tid()));
    }
    sites[a] = Site{static_cast<uint8_t>(x->bytes.size()), x->rdtscp};
    out.sites.push_back({a, x->bytes, x->rdtscp});
  }
}

AppliedTscPatches TscSites::at_exec(Task& task, pid_t tgid) {
  procs_.erase(tgid);
  auto& sites = procs_[tgid];
  AppliedTscPatches out;
  for (const ProcMapping& m : read_proc_maps(task.tid())) {
    if (!m.executable() || m.path.empty() || m.path[0] != '/') continue;
    patch_mapping(task, sites, m, m.start, m.end, out);
  }
  return out;
}

AppliedTscPatches TscSites::after_map(Task& task, pid_t tgid, uint64_t lo, uint64_t hi) {
  auto& sites = procs_[tgid];
  AppliedTscPatches out;
  for (const ProcMapping& m : read_proc_maps(task.tid())) {
    if (m.end <= lo || m.start >= hi || !m.executable()) continue;
    if (m.path.empty() || m.path[0] != '/') {
      if (m.path.empty() || m.path.rfind("[anon", 0) == 0 || m.path == "[heap]" || m.path == "[stack]") out.anonymous_exec = true;
      continue;
    }
    patch_mapping(task, sites, m, lo, hi, out);
  }
  return out;
}

AppliedTscPatches TscSites::after_call(Task& task, pid_t tgid, int64_t nr, const uint64_t args[6], int64_t ret) {
  constexpr uint64_t kPage = 4096;
  auto page_end = [](uint64_t a, uint64_t len) { return (a + len + kPage - 1) / kPage * kPage; };
  AppliedTscPatches none;
  switch (nr) {
    case SYS_mmap: {
      const uint64_t lo = static_cast<uint64_t>(ret), hi = page_end(lo, args[1]);
      unmapped(tgid, lo, hi);
      if (!(args[2] & PROT_EXEC)) return none;
      return after_map(task, tgid, lo, hi);
    }
    case SYS_mprotect:
    case SYS_pkey_mprotect:
      if (!(args[2] & PROT_EXEC)) return none;
      return after_map(task, tgid, args[0], page_end(args[0], args[1]));
    case SYS_munmap:
      unmapped(tgid, args[0], page_end(args[0], args[1]));
      return none;
    case SYS_mremap: {
      const uint64_t old_lo = args[0], old_hi = page_end(args[0], args[1]);
      const uint64_t new_lo = static_cast<uint64_t>(ret), new_hi = page_end(new_lo, args[2]);
      auto p = procs_.find(tgid);
      if (p == procs_.end() || new_lo == old_lo) return none;
      auto& sites = p->second;
      std::map<uint64_t, Site> moved;
      for (auto it = sites.lower_bound(old_lo); it != sites.end() && it->first < old_hi;) {
        if (it->first - old_lo < new_hi - new_lo) moved[it->first - old_lo + new_lo] = it->second;
        it = sites.erase(it);
      }
      unmapped(tgid, new_lo, new_hi);
      sites.insert(moved.begin(), moved.end());
      return none;
    }
    default:
      return none;
  }
}

std::optional<TscSites::Site> TscSites::at(pid_t tgid, uint64_t ip) const {
  auto p = procs_.find(tgid);
  if (p == procs_.end()) return std::nullopt;
  auto s = p->second.find(ip);
  if (s == p->second.end()) return std::nullopt;
  return s->second;
}

void TscSites::unmapped(pid_t tgid, uint64_t lo, uint64_t hi) {
  auto p = procs_.find(tgid);
  if (p == procs_.end()) return;
  auto& sites = p->second;
  sites.erase(sites.lower_bound(lo), sites.lower_bound(hi));
}

void TscSites::copy(pid_t parent, pid_t child) {
  auto p = procs_.find(parent);
  if (p == procs_.end()) return;
  procs_[child] = p->second;
}

bool tsc_site_stands(Task& task, uint64_t ip, const TscSites::Site& site) {
  std::vector<uint8_t> now(site.len);
  return task.read_exact(ip, now.data(), now.size()) && now == tsc_patch_bytes(site.len);
}

std::vector<std::string> tsc_unconfirmed_warnings(const AppliedTscPatches& p) {
  std::vector<std::string> out;
  if (p.unconfirmed_names.empty()) return out;
  std::string names;
  for (size_t i = 0; i < p.unconfirmed_names.size() && i < 3; ++i) names += (i ? ", " : "") + p.unconfirmed_names[i];
  if (p.unconfirmed_names.size() > 3) names += fmt::format(" and {} more", p.unconfirmed_names.size() - 3);
  out.push_back("rdtsc does not trap on this machine, and bytes that may be rdtsc/rdtscp instructions were left as they are "
                "(no decoding of a known function reaches them): " + names +
                "; if one runs, its value is not recorded and a replay may diverge after it");
  return out;
}

void fill_tsc_patches(schema::TscPatches::Builder b, const AppliedTscPatches& p) {
  auto list = b.initSites(static_cast<unsigned>(p.sites.size()));
  for (unsigned i = 0; i < p.sites.size(); ++i) {
    list[i].setAddr(p.sites[i].addr);
    list[i].setOriginal(kj::arrayPtr(p.sites[i].original.data(), p.sites[i].original.size()));
    list[i].setIsRdtscp(p.sites[i].rdtscp);
  }
  auto un = b.initUnconfirmed(static_cast<unsigned>(p.unconfirmed.size()));
  for (unsigned i = 0; i < p.unconfirmed.size(); ++i) un.set(i, p.unconfirmed[i]);
}

}  // namespace rrx::record
