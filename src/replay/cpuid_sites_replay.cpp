// The replay's side of the cpuid site patches (record/cpuid_sites.h): at the
// event the task stands where the recorder patched (an exec's exit stop, or
// right after a trapped cpuid); the table's mapping is made at the recorded
// address, the recorded table written and each patch applied as a syscall
// site patch is (site_patch_replay.cpp: the debugger sees the original bytes),
// so the replayed program looks up the recorded answers.
#include <sys/mman.h>
#include <sys/syscall.h>

#include <algorithm>

#include "core/cpuid_table.h"
#include "core/remote_syscall.h"
#include "replay/event_text.h"
#include "replay/replay_session.h"

namespace rrx::replay {

void ReplaySession::apply_cpuid_patches(RTask& t, schema::CpuidPatches::Reader patches) {
  Task& task = *t.task;
  // The recorder patched at the execve's exit stop.
  to_exec_exit(t, "the cpuid site patches after an exec");
  if (patches.getMapLen() != 0) {
    const uint64_t ip = task.regs().rip;
    int64_t got = remote_syscall(task, ip, SYS_mmap,
                                 {patches.getMapAddr(), patches.getMapLen(), PROT_READ | PROT_EXEC,
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, static_cast<uint64_t>(-1), 0});
    if (got != static_cast<int64_t>(patches.getMapAddr())) {
      diverge("the cpuid table's mapping at 0x" + fmt_hex(patches.getMapAddr()),
              "its mmap returned " + std::to_string(got));
    }
  }
  auto table = patches.getTable();
  if (table.size() != 0 && !task.write_mem(patches.getTableAddr(), table.begin(), table.size())) {
    diverge("the cpuid table at 0x" + fmt_hex(patches.getTableAddr()), "it cannot be written");
  }
  for (auto p : patches.getPatches()) {
    apply_site_patch(t, p);
    // Where the stub looks the answer up: gdb sees the program at the cpuid
    // there, and after it at the lookup's end.
    if (p.getWrites().size() < 2) continue;
    auto stub = p.getWrites()[0];
    const std::vector<uint8_t> head = cpuid_lookup_sequence(patches.getTableAddr());
    auto d = stub.getData();
    for (auto& j : patched_jumps_[t.pid]) {
      if (j.from != p.getWrites()[p.getWrites().size() - 1].getAddr() || j.event != next_number_) continue;
      for (size_t k = 0; k + kCpuidLookupBytes <= d.size(); ++k) {
        if (std::equal(head.begin(), head.end(), d.begin() + k)) {
          j.cpuid_site = p.getSite();
          j.lookup = stub.getAddr() + k;
          break;
        }
      }
    }
  }
}

}  // namespace rrx::replay
