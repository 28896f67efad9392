// cpuid answered inside the recorded process, without a trap (CPUID faulting
// on): at each exec the recorder maps a table of its answers (the masked
// values a trap gives, core/cpuid_table.h) and patches the cpuid
// instructions of the program and its interpreter (ld.so's cpu feature
// detection runs ~70 of them before any library exists) with jumps to stubs
// that look the answer up; a site that still traps (in a library mapped
// later) is patched at its first trap. What was done is one CpuidPatches
// event, which replay/cpuid_sites_replay.cpp applies at the same point.
// Refused sites, and lookups the table has no answer for, keep trapping.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <signal.h>

#include "core/elf_file.h"
#include "core/proc_maps.h"
#include "core/ptrace_task.h"
#include "record/site_patch.h"
#include "trace_format/trace.capnp.h"

namespace rrx::record {

// What one CpuidPatches event says.
struct AppliedCpuidPatches {
  uint64_t map_addr = 0, map_len = 0;  // the table's mapping, made now (0: none)
  uint64_t table_addr = 0;
  std::vector<uint8_t> table;
  std::vector<AppliedPatch> patches;  // site = the cpuid instruction
};

class CpuidSites {
 public:
  // Starts building the table in a thread of its own (~100 cpuid
  // instructions, ~1 ms on bare metal and several in a VM, where each one
  // exits to the hypervisor), while the recorder starts the program.
  void prepare();
  // At an exec's exit stop, with CPUID faulting enabled again and no code of
  // the new program run yet: maps the table (with room for stubs) near the
  // code the thread is about to run and patches every cpuid of the
  // executable file mappings (the program and its interpreter). nullopt
  // when nothing could be mapped. Signals that arrive during the injected
  // mmap are appended to *signals.
  std::optional<AppliedCpuidPatches> at_exec(Task& task, pid_t tgid, std::vector<siginfo_t>* signals);
  // A trapped cpuid at `site` was just answered (the thread stands after
  // it): patches that site when it can. `busy_ips`: where the process's
  // other threads will resume.
  std::optional<AppliedCpuidPatches> after_trap(Task& task, pid_t tgid, uint64_t site,
                                                const std::vector<uint64_t>& busy_ips, std::vector<siginfo_t>* signals);
  // The process's image is gone (exec): its table, stubs and sites with it.
  void forget(pid_t tgid);
  // A fork copied the parent's memory: the same table, stubs and sites.
  void copy(pid_t parent, pid_t child);
  // Some address space may have changed (see SitePatches::maps_changed).
  void maps_changed();

 private:
  struct Arena {
    uint64_t addr, len, used;
  };
  struct Process {
    uint64_t table_addr = 0;  // 0: no table, nothing is patched
    std::vector<Arena> arenas;
    std::set<uint64_t> done;  // patched or refused for good
    // The bytes each patch replaced, by address: sites are planned on the
    // code as it was, so that the branches a stub took away still count.
    std::map<uint64_t, std::vector<uint8_t>> originals;
    std::optional<std::vector<ProcMapping>> maps;
  };
  // What a file's code holds, read once per recording per distinct file.
  struct Image {
    std::vector<ElfFunction> functions;
    std::vector<std::pair<uint64_t, uint64_t>> loads;  // (p_offset, p_vaddr) of each PT_LOAD
    std::vector<uint64_t> cpuid_offsets;              // candidates (insn_scan::cpuid_candidates)
  };
  using FileKey = std::tuple<uint64_t, uint64_t, uint64_t, int64_t>;  // device, inode, size, mtime
  static std::optional<FileKey> file_key(const std::string& path);
  const Image& image(const std::string& path);
  // What patching one executable mapping at exec did, for the next exec that
  // maps the same file at the same place with the table and its stub room at
  // the same place (each exec of a recording, as a rule): the same bytes,
  // written without planning again (planning ld.so's sites costs ~4 ms).
  struct ExecKey {
    FileKey file;
    uint64_t start, end, offset, table_addr, arena_addr, arena_used, ip;
    auto tie() const { return std::tie(file, start, end, offset, table_addr, arena_addr, arena_used, ip); }
    bool operator<(const ExecKey& o) const { return tie() < o.tie(); }
  };
  struct ExecPlan {
    std::vector<AppliedPatch> patches;
    std::set<uint64_t> done;
    std::map<uint64_t, std::vector<uint8_t>> originals;
    uint64_t arena_used = 0;
  };
  void apply_plan(Task& task, Process& proc, const ExecPlan& plan, AppliedCpuidPatches& out);
  // Patches the cpuid at `site` of mapping `m` (read through `source`).
  // `confirmed`: the site is known to be an instruction (it trapped).
  bool patch_site(Task& task, pid_t tgid, Process& proc, const ProcMapping& m, const std::string& source,
                  uint64_t site, bool confirmed, const std::vector<uint64_t>& busy_ips,
                  std::vector<siginfo_t>* signals, AppliedCpuidPatches& out);
  const std::vector<uint8_t>& table();

  std::map<pid_t, Process> procs_;
  std::map<FileKey, Image> images_;
  std::map<ExecKey, ExecPlan> exec_plans_;
  std::optional<std::vector<uint8_t>> table_;
  std::future<std::vector<uint8_t>> building_;
};

// The event's body.
void fill_cpuid_patches(schema::CpuidPatches::Builder b, const AppliedCpuidPatches& p);

}  // namespace rrx::record
