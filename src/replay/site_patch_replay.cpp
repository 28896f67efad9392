// The replay's side of the fast path's site patches (record/site_patch.h):
// at the event, the task sits at the exit of the call that was patched; the
// stub arena is mapped at the recorded address, the recorded bytes written
// and the ip moved exactly as the recorder did, so the replayed program runs
// the same code from there on.
#include <sys/mman.h>
#include <sys/syscall.h>

#include "core/remote_syscall.h"
#include "replay/event_text.h"
#include "replay/replay_session.h"

namespace rrx::replay {

void ReplaySession::apply_site_patch(RTask& t, schema::SitePatch::Reader patch) {
  Task& task = *t.task;
  const uint64_t site = patch.getSite();
  if (patch.getArenaLen() != 0) {
    // Injected from the site itself, which still holds its syscall instruction.
    int64_t got = remote_syscall(task, site, SYS_mmap,
                                 {patch.getArenaAddr(), patch.getArenaLen(), PROT_READ | PROT_EXEC,
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, static_cast<uint64_t>(-1), 0});
    if (got != static_cast<int64_t>(patch.getArenaAddr())) {
      diverge("patch of the syscall site 0x" + fmt_hex(site) + " with a stub arena at 0x" +
                  fmt_hex(patch.getArenaAddr()),
              "the arena's mmap returned " + std::to_string(got));
    }
  }
  for (auto w : patch.getWrites()) {
    auto d = w.getData();
    if (!task.write_mem(w.getAddr(), d.begin(), d.size())) {
      diverge("patch of the syscall site 0x" + fmt_hex(site), "cannot write 0x" + fmt_hex(w.getAddr()));
    }
  }
  if (patch.getNewIp() != 0) {
    user_regs_struct r = task.regs();
    r.rip = patch.getNewIp();
    task.set_regs(r);
  }
  // The debugger's breakpoints in the rewritten bytes (replay/breakpoints.h).
  if (address_space_hook) address_space_hook(t.tid, false);
}

}  // namespace rrx::replay
