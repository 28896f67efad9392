// rdtsc/rdtscp recorded where the rdtsc trap does not work (core/tsc_trap.h:
// some paravirtualised guests accept prctl(PR_SET_TSC, PR_TSC_SIGSEGV) and
// run rdtsc natively anyway). Each rdtsc/rdtscp instruction of the file code
// a process maps executable (found by decoding its function: insn_scan's
// scan_tsc_file) is overwritten in place by `hlt` padded with nops: in user
// mode hlt faults (SIGSEGV, si_code SI_KERNEL, at the instruction) as a
// trapped rdtsc does, and the recorder answers it as one (Rdtsc event). At
// an exec's exit stop (before ld.so's first rdtsc in _dl_start), the
// program's and its interpreter's code; after an mmap or mprotect that makes
// file code executable, that mapping's. What was written is one TscPatches
// event, which the replay applies at the same point (replay/tsc_sites_replay.cpp).
// rdtsc in code the process makes itself (JIT) is not seen: the recorder
// warns when a process makes anonymous memory executable.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/proc_maps.h"
#include "core/ptrace_task.h"
#include "record/insn_scan/insn_scan.h"
#include "trace_format/trace.capnp.h"

namespace rrx::record {

// The patch of a site of `len` bytes: f4, then 90s.
std::vector<uint8_t> tsc_patch_bytes(size_t len);

struct TscPatched {
  uint64_t addr;
  std::vector<uint8_t> original;
  bool rdtscp;
};

// What one TscPatches event says.
struct AppliedTscPatches {
  std::vector<TscPatched> sites;
  std::vector<uint64_t> unconfirmed;  // run-time addresses of candidates left alone
  // For the warning: "FILE+ELFADDR" of each unconfirmed one.
  std::vector<std::string> unconfirmed_names;
  // Anonymous memory was made executable (not in the event: the recorder warns).
  bool anonymous_exec = false;
  bool empty() const { return sites.empty() && unconfirmed.empty(); }
};

class TscSites {
 public:
  struct Site {
    uint8_t len;
    bool rdtscp;
  };
  // At an exec's exit stop (no code of the new program run yet): every
  // executable file mapping of the process.
  AppliedTscPatches at_exec(Task& task, pid_t tgid);
  // After a call of the process (x86-64 number `nr`) returned `ret` (not an
  // error): an mmap or mprotect with PROT_EXEC patches the executable file
  // mappings of its range (sites patched already are left as they are);
  // munmap and mmap drop the sites of the range they replaced, mremap moves
  // them with the pages.
  AppliedTscPatches after_call(Task& task, pid_t tgid, int64_t nr, const uint64_t args[6], int64_t ret);
  // The patched site at `ip` of process `tgid`, if one is there.
  std::optional<Site> at(pid_t tgid, uint64_t ip) const;
  // The process's image is gone (exec, exit).
  void forget(pid_t tgid) { procs_.erase(tgid); }
  // A fork copied (or a vfork shares) the parent's memory: the same sites.
  void copy(pid_t parent, pid_t child);

 private:
  using FileKey = std::tuple<uint64_t, uint64_t, uint64_t, int64_t>;  // dev, inode, size, mtime
  // What a file holds (insn_scan::scan_tsc_file), once per recording, and
  // kept across recordings in ~/.cache/rrx/tsc-sites (tsc_sites.cpp).
  const insn_scan::TscScan& scan(const std::string& path);
  AppliedTscPatches after_map(Task& task, pid_t tgid, uint64_t lo, uint64_t hi);
  void unmapped(pid_t tgid, uint64_t lo, uint64_t hi);
  void patch_mapping(Task& task, std::map<uint64_t, Site>& sites, const ProcMapping& m, uint64_t lo, uint64_t hi,
                     AppliedTscPatches& out);

  std::map<pid_t, std::map<uint64_t, Site>> procs_;
  std::map<FileKey, insn_scan::TscScan> scans_;
};

// Whether the bytes at `ip` are still the patch of `site` (not code mapped
// there since).
bool tsc_site_stands(Task& task, uint64_t ip, const TscSites::Site& site);

// The warnings for the candidates left alone ("rdtsc at libx.so+0x1234 ...").
std::vector<std::string> tsc_unconfirmed_warnings(const AppliedTscPatches& p);

// The event's body.
void fill_tsc_patches(schema::TscPatches::Builder b, const AppliedTscPatches& p);

}  // namespace rrx::record
