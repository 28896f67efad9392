// Site patching for the recording fast path: after a traced syscall whose
// instruction is in a file-backed code mapping, the recorder asks SitePatches
// to send later calls from that site into the preload library (the patcher
// plans the jump and the stub, record/syscallbuf_hook.h the entry); what it
// did is one trace event (schema SitePatch), which replay/site_patch_replay.h
// applies at the same point. Refused sites keep the traced path.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <signal.h>

#include "core/elf_file.h"
#include "core/proc_maps.h"
#include "core/ptrace_task.h"
#include "core/syscall_table.h"
#include "patcher/patcher.h"
#include "trace_format/trace.capnp.h"

namespace rrx::record {

// One patch as it was applied to the tracee.
struct AppliedPatch {
  uint64_t site = 0;
  uint64_t arena_addr = 0, arena_len = 0;  // a stub arena mapped for it, or 0
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> writes;  // stub, then the jump at the site
  uint64_t new_ip = 0;  // where the thread goes on (0: unchanged)
};

class SitePatches {
 public:
  // `task` (of process `tgid`) is stopped at the exit of a traced call made by
  // the syscall instruction at `site`. Patches that site when it can: maps a
  // stub arena within rel32 reach where none has room, writes the stub and
  // the jump, moves the task's ip into the stub when it stands inside the
  // displaced bytes. `busy_ips`: where the process's other threads will
  // resume (a site whose displaced bytes hold one is left for later).
  // `in_call_ips`: where the threads now inside a traced call (whose exit
  // stop rrx will see) return to; one right after the site's syscall does
  // not hold the patch back: its exit moves it (resume_ip below).
  // Signals that arrive during an injected mmap are appended to *signals.
  // `known`: the site's mapping when the caller has read it (else it is asked for).
  // `regs`: the task's registers when the caller has read them (kept up to
  // date when the patch moves the task; else they are read).
  std::optional<AppliedPatch> patch(Task& task, pid_t tgid, uint64_t site, const std::vector<uint64_t>& busy_ips,
                                    const std::vector<uint64_t>& in_call_ips, std::vector<siginfo_t>* signals,
                                    const ProcMapping* known = nullptr, user_regs_struct* regs = nullptr);
  // The library just became ready in process `tgid` (its first thread's
  // buffer was set up; `task` stands at that call's exit, inside the
  // library): patches now every site that an earlier process of this
  // recording running the same program patched in the same file (same
  // device, inode and path), at the same file offset, so that their first
  // calls are not traced too (a program run many times, or bash, make or
  // git's many children, pay two stops a site per process otherwise). By
  // program: a process runs the sites the last run of its program ran,
  // where another program's sites in the same libc would mostly cost a
  // patch each for nothing (30 runs of /bin/true from bash: 24 of bash's
  // libc sites each, 10% more recording time). Each goes through patch(), so
  // the bytes there are decoded and checked again; a site it refuses stays
  // as it was. Returns what it applied, in order.
  std::vector<AppliedPatch> patch_known_sites(Task& task, pid_t tgid, const std::vector<uint64_t>& busy_ips,
                                              const std::vector<uint64_t>& in_call_ips,
                                              std::vector<siginfo_t>* signals);
  // The kernel's rule for a thread that comes back from a call: it goes on
  // right after its syscall instruction, or, when the call restarts, on the
  // instruction itself (ip - 2). A thread that entered a call at a site
  // patched while it was inside would do either in the middle of the jump.
  // For `ip`, the place right after a patched site's syscall in process
  // `tgid`: the same place in the site's stub (right after the hook
  // sequence, whose last instruction is a `syscall`: a restart makes the
  // call there, and the stub goes on as the original code would); else 0.
  uint64_t resume_ip(pid_t tgid, uint64_t ip) const;
  // The process's image is gone (exec, exit): its arenas and sites with it.
  void forget(pid_t tgid);
  // Whether patch() would do nothing at `site` of process `tgid` now: the
  // site is patched or refused for good, or the library is not ready in the
  // process (its hook entry slot is empty: the dynamic loader's calls
  // before the library's constructor, some 30 per exec).
  bool settled(Task& task, pid_t tgid, uint64_t site);
  // The program process `tgid` runs from now on (its exec: the
  // executable's path), which keys the sites it patches (patch_known_sites).
  void set_program(pid_t tgid, std::string program) { procs_[tgid].program = std::move(program); }
  // An address space may have changed (a call that runs for real on replay
  // returned: mmap, munmap, mprotect, brk, exec...; in any process, since
  // processes can share memory): the mappings read at the last patch are
  // read again at the next one.
  void maps_changed();
  // Whether a call (its row, null for one rrx has none for, and arguments)
  // that returned may have changed some process's mappings: a kMapsMemory
  // row, or one run for real on replay other than those that only change
  // signal state (rt_sigaction, rt_sigprocmask, rt_sigreturn: bash's dozens
  // per exec). Emulated calls cannot: replay does not run them.
  static bool may_change_mappings(const sys::SyscallDesc* desc, const uint64_t args[6]);
  // A fork copied the parent's memory: the same arenas, sites and refusals.
  void copy(pid_t parent, pid_t child);

  // Arena size and the reach every stub keeps from its site.
  static constexpr uint64_t kArenaBytes = 64 * 1024;
  static constexpr size_t kMaxPlans = 4096;

 private:
  struct Arena {
    uint64_t addr, len, used;
  };
  struct Process {
    std::vector<Arena> arenas;
    std::set<uint64_t> done;  // patched or refused for good
    std::map<uint64_t, uint64_t> resume;  // patched site + 2 -> its place in the stub (resume_ip)
    // Its /proc/PID/maps as read to place an arena, until maps_changed()
    // (each site's own mapping is asked for alone: query_proc_mapping).
    std::optional<std::vector<ProcMapping>> maps;
    uint64_t maps_generation = 0;  // maps_generation_ when `maps` was read
    std::string program;           // set_program (a fork's child: the parent's)
    uint64_t hook_entry = 0;       // the library's entry slot, once read non-zero
  };
  struct Image {
    std::vector<ElfFunction> functions;
      std::vector<std::pair<uint64_t, uint64_t>> loads;  // (p_offset, p_vaddr) of each PT_LOAD
  };
  const Image& image(const std::string& path);

  // Plans made, by all that patcher::plan_site reads (it is a function of
  // them): the processes of one program patch the same sites, at the same
  // addresses, into the same arena offsets, in the same order.
  struct PlanInput {
    uint64_t site = 0, stub_addr = 0, window = 0;
    bool from_symbol = false;
    std::vector<uint64_t> entries;
    std::vector<uint8_t> bytes;
    auto operator<=>(const PlanInput&) const = default;
  };
  const std::variant<patcher::SitePatch, patcher::Refusal>& plan(PlanInput in);
  std::map<PlanInput, std::variant<patcher::SitePatch, patcher::Refusal>> plans_;

  std::map<pid_t, Process> procs_;
  // While patch_known_sites patches a process's known sites: their stubs'
  // and jumps' bytes, written together at the end (the stubs first, runs of
  // them in one write; no code of the process runs meanwhile).
  struct Deferred {
    std::vector<std::pair<uint64_t, std::vector<uint8_t>>> stubs, jumps;
  };
  Deferred* deferring_ = nullptr;
  void write_deferred(Task& task, Deferred& d);
  // Raised by maps_changed() (after every call that can change mappings):
  // a process's `maps` read at an older one are read again.
  uint64_t maps_generation_ = 0;
  std::map<std::string, Image> images_;
  // A mapped file as the site's mapping names it, in a process running
  // `program`: the sites patched in it, by file offset (patch_known_sites).
  struct FileKey {
    std::string program;
    unsigned dev_major = 0, dev_minor = 0;
    uint64_t inode = 0;
    std::string path;
    auto operator<=>(const FileKey&) const = default;
  };
  static FileKey key_of(const std::string& program, const ProcMapping& m) {
    return {program, m.dev_major, m.dev_minor, m.inode, m.path};
  }
  std::map<FileKey, std::set<uint64_t>> known_sites_;
};

// Whether [lo, hi) is within a stub's reach of `site` (rel32, with a margin
// for the data its relocated instructions address near the site).
bool in_reach(uint64_t site, uint64_t lo, uint64_t hi);
// A free range of `len` bytes within reach of `site`, a page clear of its
// neighbours, the closest to the site (for a stub arena; record/cpuid_sites.h too).
std::optional<uint64_t> free_range_near(const std::vector<ProcMapping>& maps, uint64_t site, uint64_t len);

// The (p_offset, p_vaddr) of each PT_LOAD of the ELF file at `path` (none
// when it cannot be read).
std::vector<std::pair<uint64_t, uint64_t>> load_segments(const std::string& path);
// The load bias of mapping `m` of a file with those segments: its start
// minus the ELF address of its file offset (the PT_LOAD with the largest
// file offset at or below the mapping's); none when no segment holds it.
std::optional<uint64_t> load_bias(const std::vector<std::pair<uint64_t, uint64_t>>& loads, const ProcMapping& m);

// The event's body.
void fill_site_patch(schema::SitePatch::Builder b, const AppliedPatch& p);
// Memory writes (address, bytes) into an event's list of them.
void fill_mem_writes(capnp::List<schema::MemWrite>::Builder out,
                     const std::vector<std::pair<uint64_t, std::vector<uint8_t>>>& writes);

}  // namespace rrx::record
