// The replay's side of the syscall buffer's early set-up (record/preload_early.h):
// at the event, the task sits where the recorder set the pages up (the exit
// of the loader's mmap of the library's last segment); the same memory is
// mapped at the same address, made r-x where it was, and written with the
// recorded bytes, and the thread's buffer is known from here on, as after
// an RRX_CALL_INIT_BUFFER. With writes alone: the set-up's end (a thread
// made before the library's constructor).
#include <sys/mman.h>
#include <sys/syscall.h>

#include "core/remote_syscall.h"
#include "replay/event_text.h"
#include "replay/replay_session.h"

namespace rrx::replay {

void ReplaySession::apply_preload_early(RTask& t, schema::PreloadEarly::Reader early) {
  Task& task = *t.task;
  const char* what = "the syscall buffer's early set-up";
  if (early.getMapLen() != 0) {
    const int64_t got = remote_syscall(task, early.getInjectAt(), SYS_mmap,
                                       {early.getMapAddr(), early.getMapLen(), PROT_READ | PROT_WRITE,
                                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, static_cast<uint64_t>(-1), 0},
                                       nullptr, nullptr, seccomp_entries_);
    if (got != static_cast<int64_t>(early.getMapAddr())) {
      diverge(what, "the mmap of 0x" + fmt_hex(early.getMapAddr()) + " returned " + std::to_string(got));
    }
    if (early.getCodeLen() != 0) {
      const int64_t r = remote_syscall(task, early.getInjectAt(), SYS_mprotect,
                                       {early.getCodeAddr(), early.getCodeLen(), PROT_READ | PROT_EXEC}, nullptr,
                                       nullptr, seccomp_entries_);
      if (r != 0) diverge(what, "the mprotect of 0x" + fmt_hex(early.getCodeAddr()) + " returned " + std::to_string(r));
    }
  }
  for (auto w : early.getWrites()) {
    auto d = w.getData();
    if (!task.write_mem(w.getAddr(), d.begin(), d.size())) diverge(what, "cannot write 0x" + fmt_hex(w.getAddr()));
  }
  if (early.getBuffer() != 0) t.syscallbuf = early.getBuffer();
}

}  // namespace rrx::replay
