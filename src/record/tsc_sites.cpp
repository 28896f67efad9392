// Patched rdtsc sites while recording: see tsc_sites.h.
#include "record/tsc_sites.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/syscallbuf_abi.h"
#include "trace_format/trace_dir.h"

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

namespace {

// The scans of earlier recordings, one small text file per scanned file in
// ${XDG_CACHE_HOME:-~/.cache}/rrx/tsc-sites/, named by the file's identity
// (device, inode, size, mtime: not ctime, which the hard link each recording
// makes to a system file changes; as trace/hash_cache.h). A file that cannot
// be read, is damaged or incomplete is no entry; one that cannot be written
// only means scanning again next time. The patcher still compares each
// site's bytes in memory with the instruction's before writing its patch.
constexpr const char* kCacheMagic = "rrx-tsc-scan 2";  // 2: Go function tables (.gopclntab) give extents

std::filesystem::path scan_cache_file(const struct stat& st) {
  std::filesystem::path base = trace::hash_cache_path();
  if (base.empty()) return {};
  return base.parent_path() / "tsc-sites" /
         fmt::format("{:x}-{:x}-{:x}-{:x}", static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                     static_cast<uint64_t>(st.st_size),
                     static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
}

bool valid_tsc_bytes(const std::vector<uint8_t>& b, bool rdtscp) {
  const size_t n = b.size();
  if (n > 15) return false;
  if (rdtscp) return n >= 3 && b[n - 3] == 0x0f && b[n - 2] == 0x01 && b[n - 1] == 0xf9;
  return n >= 2 && b[n - 2] == 0x0f && b[n - 1] == 0x31;
}

std::optional<insn_scan::TscScan> read_scan_cache(const std::filesystem::path& file) {
  if (file.empty()) return std::nullopt;
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line) || line != kCacheMagic) return std::nullopt;
  insn_scan::TscScan scan;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string kind;
    ls >> kind;
    if (kind == "end") {
      size_t n = 0;
      if (!(ls >> n) || n != scan.found.size() + scan.unconfirmed.size()) return std::nullopt;
      return scan;
    }
    insn_scan::TscInsn x;
    int rdtscp = 0;
    std::string hex;
    if (!(ls >> std::hex >> x.file_offset >> x.elf_addr >> rdtscp)) return std::nullopt;
    x.rdtscp = rdtscp != 0;
    if (kind == "U") {
      scan.unconfirmed.push_back(std::move(x));
      continue;
    }
    if (kind != "F" || !(ls >> hex) || hex.size() % 2 != 0) return std::nullopt;
    for (size_t i = 0; i < hex.size(); i += 2) x.bytes.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    if (!valid_tsc_bytes(x.bytes, x.rdtscp)) return std::nullopt;
    scan.found.push_back(std::move(x));
  }
  return std::nullopt;  // no end line: cut short
}

void write_scan_cache(const std::filesystem::path& file, const insn_scan::TscScan& scan) {
  if (file.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return;
  const std::filesystem::path tmp = file.string() + fmt::format(".{}.tmp", ::getpid());
  {
    std::ofstream out(tmp);
    if (!out) return;
    out << kCacheMagic << "\n";
    for (const insn_scan::TscInsn& x : scan.found) {
      out << fmt::format("F {:x} {:x} {:d} ", x.file_offset, x.elf_addr, x.rdtscp ? 1 : 0);
      for (uint8_t b : x.bytes) out << fmt::format("{:02x}", b);
      out << "\n";
    }
    for (const insn_scan::TscInsn& x : scan.unconfirmed) {
      out << fmt::format("U {:x} {:x} {:d}\n", x.file_offset, x.elf_addr, x.rdtscp ? 1 : 0);
    }
    out << "end " << scan.found.size() + scan.unconfirmed.size() << "\n";
    if (!out.flush()) {
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

}  // namespace

const insn_scan::TscScan& TscSites::scan(const std::string& path) {
  static const insn_scan::TscScan none;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return none;
  const FileKey key{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                    static_cast<uint64_t>(st.st_size),
                    static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  auto it = scans_.find(key);
  if (it != scans_.end()) return it->second;
  const std::filesystem::path cache = scan_cache_file(st);
  if (auto cached = read_scan_cache(cache)) return scans_.emplace(key, std::move(*cached)).first->second;
  insn_scan::TscScan found;
  try {
    found = insn_scan::scan_tsc_file(path);
    write_scan_cache(cache, found);
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
      if (m.start >= RRX_PAGE_ADDR && m.end <= RRX_PAGE_ADDR + RRX_PAGE_SIZE) continue;  // the preload library's own page
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
