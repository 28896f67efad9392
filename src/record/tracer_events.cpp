// TracerStop and TracerResume events (tracer_events.h, trace.capnp).
#include "record/tracer_events.h"

#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include <capnp/message.h>

#include <cstring>
#include <string>

#include "core/ptrace_task.h"
#include "trace_format/regs_codec.h"
#include "trace_format/trace.capnp.h"
#include "trace_format/trace_writer.h"

namespace rrx::record {

void append_tracer_stop(trace::TraceWriter& w, Task& task, pid_t pid, StopPoint at, int signo, bool synchronous) {
  capnp::MallocMessageBuilder m;
  auto ev = m.initRoot<schema::Event>();
  ev.setTid(task.tid());
  ev.setPid(pid);
  auto s = ev.initTracerStop();
  s.setKind(at == StopPoint::SyscallEntry ? schema::TracerStop::Kind::SYSCALL_ENTRY
            : at == StopPoint::Signal     ? schema::TracerStop::Kind::SIGNAL
                                          : schema::TracerStop::Kind::STEP);
  s.setSigno(at == StopPoint::SyscallEntry ? 0 : signo);
  s.setSynchronous(synchronous);
  s.setIp(task.regs().rip);
  w.append(m);
}

bool needs_tracer_resume(const EmuRelease& how) {
  return how.stop == EmuStop::Signal || how.regs_before || how.xstate_written || how.sigmask;
}

void append_tracer_resume(trace::TraceWriter& w, Task& task, pid_t pid, const EmuRelease& how) {
  capnp::MallocMessageBuilder m;
  auto ev = m.initRoot<schema::Event>();
  ev.setTid(task.tid());
  ev.setPid(pid);
  auto r = ev.initTracerResume();
  r.setSignalStop(how.stop == EmuStop::Signal);
  r.setSig(how.stop == EmuStop::Signal ? how.sig : 0);
  if (how.regs_before) {
    const user_regs_struct now = task.regs();
    uint32_t changed = 0;
    const auto* a = reinterpret_cast<const uint64_t*>(&*how.regs_before);
    const auto* b = reinterpret_cast<const uint64_t*>(&now);
    for (unsigned i = 0; i < sizeof now / 8; ++i) {
      if (a[i] != b[i]) changed |= 1u << i;
    }
    r.setChangedRegs(changed);
    trace::regs_to_schema(now, ev.initRegs());
  }
  if (how.xstate_written) {
    std::string buf(1u << 16, '\0');
    struct iovec iov {buf.data(), buf.size()};
    if (::ptrace(PTRACE_GETREGSET, task.tid(), NT_X86_XSTATE, &iov) == 0) {
      r.setXstate(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(buf.data()), iov.iov_len));
    }
  }
  if (how.sigmask) {
    r.setSigmask(*how.sigmask);
    r.setHasSigmask(true);
  }
  w.append(m);
}

}  // namespace rrx::record
