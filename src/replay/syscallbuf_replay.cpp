// Stop-free replay of the syscall buffer's calls: see syscallbuf_replay.h.
#include "replay/syscallbuf_replay.h"

#include <signal.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

#include "core/error.h"
#include "core/proc_maps.h"
#include "core/syscall_table.h"
#include "core/syscallbuf.h"
#include "core/syscallbuf_abi.h"
#include "replay/event_text.h"
#include "replay/replay_session.h"
#include "replay/skip_strategy.h"
#include "trace_format/format.h"

namespace rrx::replay {

bool in_buffer_code(pid_t live_pid, uint64_t addr) {
  if (addr >= RRX_PAGE_ADDR && addr < RRX_PAGE_ADDR + RRX_PAGE_SIZE) return true;
  auto m = proc_mapping_at(live_pid, addr);
  return m && m->path.find("librrx_preload.so") != std::string::npos;
}

BufferFeed::BufferFeed(std::filesystem::path trace_dir) : trace_dir_(std::move(trace_dir)) {}
BufferFeed::~BufferFeed() = default;

namespace {

constexpr uint64_t kReplayEndOffset = offsetof(rrx_buffer_header, replay_end);

// The library's record of buffered call `sc` as the recording's buffer held
// it: its number, arguments, result, path strings and outputs.
syscallbuf::Call buffered_call(schema::Syscall::Reader sc) {
  syscallbuf::Call c;
  c.nr = sc.getNr();
  auto args = sc.getArgs();
  for (unsigned i = 0; i < 6 && i < args.size(); ++i) c.args[i] = args[i];
  c.ret = sc.getRet();
  // The path arguments the library's record holds (core/syscallbuf_abi.h).
  for (auto str : sc.getStrings()) {
    auto v = str.getValue();
    c.strings.emplace_back(str.getArg(), std::string(reinterpret_cast<const char*>(v.begin()), v.size()));
  }
  for (auto w : sc.getMemWrites()) {
    auto d = w.getData();
    c.outputs.push_back({w.getAddr(), std::vector<uint8_t>(d.begin(), d.end())});
  }
  return c;
}

// The call of a recorded event that the library can take without the
// replayer (a buffered syscall of `tid` whose whole effect is its result and
// the memory it wrote in its own process), or nullopt. A write qualifies:
// the library buffers none that the replay shows again (rrx's own stdout
// and stderr, which flags other than kSyscallBuffered would mark) or that
// changes a shared object (file writes); only a recorded digest of the sent
// bytes would need the replayer to look at them.
std::optional<syscallbuf::Call> takeable(schema::Event::Reader ev, int tid) {
  if (ev.which() != schema::Event::SYSCALL || ev.getTid() != tid) return std::nullopt;
  auto sc = ev.getSyscall();
  if (sc.getFlags() != trace::kSyscallBuffered || sc.getFileWrites().size() != 0 || sc.getHasDataCrc()) {
    return std::nullopt;
  }
  const sys::SyscallDesc* d = sys::lookup(sc.getNr());
  if (!d || !(d->flags & sys::kBuffered) || (d->flags & sys::kMapsMemory)) return std::nullopt;
  if (sc.getArgs().size() != 6) return std::nullopt;
  for (auto w : sc.getMemWrites()) {
    if (w.getTid() != 0 && w.getTid() != tid) return std::nullopt;
  }
  return buffered_call(sc);
}

bool syscall_of(schema::Event::Reader ev, int tid) {
  return ev.getTid() == tid && (ev.which() == schema::Event::SYSCALL || ev.which() == schema::Event::SYSCALL_ENTRY);
}

}  // namespace

int64_t BufferFeed::after_call(schema::Syscall::Reader rec) {
  // The record as the library writes it: path strings included (a
  // buffered open or stat replayed with its own stop, e.g. the first after
  // the buffer wrapped, is followed by records fed at its exit).
  if (rec.getFlags() & trace::kSyscallBuffered) return static_cast<int64_t>(syscallbuf::encode_record(buffered_call(rec)).size());
  const sys::SyscallDesc* d = sys::lookup(rec.getNr());
  return d && (d->flags & sys::kBuffered) ? -1 : 0;
}

size_t BufferFeed::feed(Task& task, int tid, uint64_t buffer, uint32_t open_record, uint64_t first, uint64_t end,
                        const WriteFilter& writable) {
  fed_.reset();
  if (first >= end) return 0;  // (event `end` is read only as what follows)
  rrx_buffer_header h;
  if (!task.read_exact(buffer, &h, sizeof h)) return 0;
  if (h.magic != RRX_BUFFER_MAGIC || h.version != RRX_SYSCALLBUF_VERSION || h.header_size != sizeof h ||
      h.capacity > RRX_BUFFER_BYTES - sizeof h || h.bytes_used > h.capacity || h.replay_end != 0) {
    return 0;  // a library of another version (an older trace's), or not ours to write
  }
  if (open_record > h.capacity - h.bytes_used) return 0;
  if (open_record != 0) {
    // As the library will have it once it published the open record.
    h.bytes_used += open_record;
    h.record_count++;
  }
  if (!reader_) reader_ = std::make_unique<trace::TraceReader>(trace_dir_);
  // Mostly a little ahead of where it stopped last time: read on rather
  // than seek (a seek loads its chunk again).
  if (reader_->position() > first || first - reader_->position() > 1024) reader_->seek(first);
  while (reader_->position() < first && reader_->next()) {
  }
  if (reader_->position() != first) return 0;
  std::vector<uint8_t> bytes;
  std::vector<uint32_t> sizes;
  std::vector<std::pair<uint32_t, uint32_t>> padding;  // [from, to) in `bytes`: not the record's own bytes
  bool last_may_go = false;  // the event after the stretch stops the thread at a syscall
  std::optional<trace::EventRecord> after;  // that event, when it is not a buffered call
  uint32_t room = h.capacity - h.bytes_used;
  for (uint64_t n = first; n <= end; ++n) {
    auto rec = reader_->next();
    if (!rec) break;
    auto ev = rec->get();
    auto call = n < end ? takeable(ev, tid) : std::nullopt;
    if (!call) {
      last_may_go = syscall_of(ev, tid);
      if (last_may_go) after = std::move(rec);
      break;
    }
    bool watched = false;
    for (const auto& o : call->outputs) watched = watched || !writable(o.addr, o.bytes.size());
    std::vector<uint8_t> r = syscallbuf::encode_record(*call);
    if (watched || r.size() > room - bytes.size()) {
      // Left for its own stop (a buffered syscall of tid: the library makes
      // it when it finds no record). A record that does not fit never
      // happens: the recording's buffer held it.
      last_may_go = true;
      break;
    }
    uint32_t pos = static_cast<uint32_t>(bytes.size()) + RRX_ALIGN8(sizeof(rrx_buffer_record));
    for (const auto& [arg, str] : call->strings) {
      pos += sizeof(rrx_buffer_string);
      if (str.size() % 8) padding.emplace_back(pos + str.size(), pos + RRX_ALIGN8(str.size()));
      pos += RRX_ALIGN8(str.size());
    }
    for (const auto& o : call->outputs) {
      pos += sizeof(rrx_buffer_output);
      if (o.bytes.size() % 8) padding.emplace_back(pos + o.bytes.size(), pos + RRX_ALIGN8(o.bytes.size()));
      pos += RRX_ALIGN8(o.bytes.size());
    }
    bytes.insert(bytes.end(), r.begin(), r.end());
    sizes.push_back(static_cast<uint32_t>(r.size()));
  }
  if (!last_may_go && !sizes.empty()) {
    bytes.resize(bytes.size() - sizes.back());
    sizes.pop_back();
  }
  if (!last_may_go) after.reset();
  if (sizes.empty()) return 0;
  Fed f;
  f.buffer = buffer;
  f.start_count = h.record_count;
  f.start_bytes = h.bytes_used;
  f.sizes = std::move(sizes);
  f.after = std::move(after);
  f.saved.resize(bytes.size());
  uint64_t at = buffer + sizeof h + h.bytes_used;
  if (!task.read_exact(at, f.saved.data(), f.saved.size())) return 0;
  // Padding keeps what the buffer held there, as the library's own copy does.
  for (auto [from, to] : padding) {
    if (to <= bytes.size()) std::memcpy(bytes.data() + from, f.saved.data() + from, to - from);
  }
  uint32_t replay_end = h.bytes_used + static_cast<uint32_t>(bytes.size());
  if (!task.write_mem(at, bytes.data(), bytes.size()) ||
      !task.write_mem(buffer + kReplayEndOffset, &replay_end, sizeof replay_end)) {
    throw Error("cannot write the syscall buffer of thread " + std::to_string(tid));
  }
  size_t n = f.sizes.size();
  fed_ = std::move(f);
  return n;
}

size_t BufferFeed::take(Task& task) {
  if (!fed_) return 0;
  Fed f = std::move(*fed_);
  fed_.reset();
  rrx_buffer_header h;
  if (!task.read_exact(f.buffer, &h, sizeof h)) return 0;  // gone
  uint32_t taken = h.record_count - f.start_count;
  if (taken > f.sizes.size()) {
    throw Error("the syscall buffer at 0x" + fmt_hex(f.buffer) + " took " + std::to_string(taken) +
                " records of the " + std::to_string(f.sizes.size()) + " rrx put there");
  }
  uint32_t taken_bytes = 0;
  for (uint32_t i = 0; i < taken; ++i) taken_bytes += f.sizes[i];
  if (h.bytes_used != f.start_bytes + taken_bytes) {
    throw Error("the syscall buffer's length (" + std::to_string(h.bytes_used) + ") at 0x" + fmt_hex(f.buffer) +
                " does not match the " + std::to_string(taken) + " records it took");
  }
  uint64_t at = f.buffer + sizeof h + f.start_bytes;
  uint32_t zero = 0;
  if ((taken_bytes < f.saved.size() &&
       !task.write_mem(at + taken_bytes, f.saved.data() + taken_bytes, f.saved.size() - taken_bytes)) ||
      !task.write_mem(f.buffer + kReplayEndOffset, &zero, sizeof zero)) {
    throw Error("cannot write the syscall buffer at 0x" + fmt_hex(f.buffer));
  }
  return taken;
}

}  // namespace rrx::replay

// ---- The session's side: when to feed, and the events taken. ----

namespace rrx::replay {

// Feeds only where the thread's stretch of buffered calls runs exactly as
// with a stop per call: nothing is being done to it (no syscall in
// progress, no signal to deliver), it is not single-stepped, the debugger
// has no stop that could fall inside the stretch, and the last event before
// stop_at_event() has its own stop.
bool ReplaySession::feed_buffer(RTask& t, bool stepping) {
  if (!buffer_feed_ || t.syscallbuf == 0 || stepping) return false;
  if (t.cur.action != Action::None || t.next_resume != NextResume::Normal || t.deliver_on_resume != 0 ||
      t.injecting_signal != 0 || t.restart_nr != -1 || t.exiting) {
    return false;
  }
  if (!load_next()) return false;
  auto ev = next_->get();
  if (ev.which() != schema::Event::SYSCALL || ev.getTid() != t.tid ||
      !(ev.getSyscall().getFlags() & trace::kSyscallBuffered)) {
    return false;
  }
  uint64_t first = next_->number;
  uint64_t end = UINT64_MAX;
  if (stop_at_event_) {
    // Event stop_at-1 ends with a stop of its own: the replay stands right after it.
    if (*stop_at_event_ < next_number_ + 2) return false;
    end = first + (*stop_at_event_ - 1 - next_number_);
  }
  if (stop_free_hook && !stop_free_hook(t.tid)) return false;
  // A watch on the buffer itself: the library writes other bytes of it when it takes a record.
  if (memory_write_hook && memory_write_hook(t.tid, t.syscallbuf, RRX_BUFFER_BYTES)) return false;
  // Stopped inside a buffered call's transaction (at the exit of its
  // syscall, in the rrx page), the library has its own record still to
  // publish: the fed ones go after it. After a call that may empty the
  // buffer, nothing is fed until the next stop.
  uint32_t open_record = 0;
  uint64_t rip = t.task->regs().rip;
  if (rip >= RRX_PAGE_ADDR && rip < RRX_PAGE_ADDR + RRX_PAGE_SIZE) {
    if (t.buffer_after_call < 0) return false;
    if (rip == RRX_UNTRACED_IP) open_record = static_cast<uint32_t>(t.buffer_after_call);
  }
  auto writable = [&](uint64_t addr, uint64_t len) {
    return !(memory_write_hook && memory_write_hook(t.tid, addr, len));
  };
  return buffer_feed_->feed(*t.task, t.tid, t.syscallbuf, open_record, first, end, writable) > 0;
}

WaitStatus ReplaySession::take_buffer(RTask& t, WaitStatus w) {
  if (w.kind == WaitStatus::Kind::Exited || w.kind == WaitStatus::Kind::Killed) {
    buffer_feed_->drop();
    return w;
  }
  // gdb's ^C (request_interrupt) inside the library: let the thread finish
  // the call it is taking (a position between two events is only ever in
  // the program's code), the interrupt is reported at its next stop.
  while (w.kind == WaitStatus::Kind::SignalStop && w.sig == SIGSTOP) {
    siginfo_t si{};
    try {
      si = t.task->siginfo();
    } catch (const Error&) {
      break;
    }
    if (si.si_code != SI_TKILL || si.si_pid != ::getpid() || !in_buffer_code(t.task->tid(), t.task->regs().rip)) {
      break;
    }
    interrupt_requested_ = true;
    skipper_->resume(*t.task, false, 0);
    t.running = true;
    w = take_stop(t);
  }
  size_t taken = buffer_feed_->take(*t.task);
  if (stats_) stats_->taken(taken);
  for (size_t i = 0; i < taken; ++i) {
    auto ev = peek();
    if (ev.which() != schema::Event::SYSCALL || ev.getTid() != t.tid ||
        !(ev.getSyscall().getFlags() & trace::kSyscallBuffered)) {
      diverge(describe_event(ev), "a buffered call of thread " + std::to_string(t.tid) + " taken from its buffer");
    }
    consume();
  }
  stop_free_calls_ += taken;
  if (taken > 0) at_interval_start_ = false;  // the thread ran on after the last of them
  return w;
}

}  // namespace rrx::replay
