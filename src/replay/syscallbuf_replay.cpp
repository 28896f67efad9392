// Stop-free replay of the syscall buffer's calls: see syscallbuf_replay.h.
#include "replay/syscallbuf_replay.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <optional>
#include <utility>

#include "core/error.h"
#include "core/forced_signal.h"
#include "core/proc_maps.h"
#include "core/syscall_table.h"
#include "core/syscallbuf.h"
#include "core/syscallbuf_abi.h"
#include "replay/event_text.h"
#include "replay/replay_session.h"
#include "replay/replay_stats.h"
#include "replay/shared_memory.h"
#include "replay/skip_strategy.h"
#include "trace_format/format.h"

namespace rrx::replay {

bool in_buffer_code(pid_t live_pid, uint64_t addr) {
  if (addr >= RRX_PAGE_ADDR && addr < RRX_PAGE_ADDR + RRX_PAGE_SIZE) return true;
  auto m = proc_mapping_at(live_pid, addr);
  return m && m->path.find("librrx_preload.so") != std::string::npos;
}

BufferFeed::BufferFeed() = default;
BufferFeed::~BufferFeed() = default;

namespace {

constexpr uint64_t kReplayEndOffset = offsetof(rrx_buffer_header, replay_end);
static_assert(offsetof(rrx_buffer_header, trace_all) == kReplayEndOffset + 4 &&
                  offsetof(rrx_buffer_header, replay_out) == kReplayEndOffset + 8 &&
                  offsetof(rrx_buffer_header, replay_out_end) == kReplayEndOffset + 12,
              "the replay fields are written in one go");

// The output area goes over the records already published when they are
// at least this many bytes (core/syscallbuf_abi.h, "Output on replay").
constexpr uint32_t kOutputBeforeMin = 64 * 1024;

// The bytes of the library's record of a buffered call with these path
// strings and outputs (core/syscallbuf_abi.h): its header, the strings, the
// outputs, each padded to 8.
uint64_t record_size(capnp::List<schema::ArgString>::Reader strings, capnp::List<schema::MemWrite>::Reader writes) {
  uint64_t size = RRX_ALIGN8(sizeof(rrx_buffer_record));
  for (auto str : strings) size += sizeof(rrx_buffer_string) + RRX_ALIGN8(str.getValue().size());
  for (auto w : writes) size += sizeof(rrx_buffer_output) + RRX_ALIGN8(w.getData().size());
  return size;
}

// A recorded call the library can take, as the feed reads it: each part of
// the trace's message looked up once.
struct TakeableCall {
  schema::Syscall::Reader sc;
  uint64_t args[6] = {};
  capnp::List<schema::ArgString>::Reader strings;
  capnp::List<schema::MemWrite>::Reader writes;
  int stream = 0;          // a write to rrx's stdout (1) or stderr (2), else 0
  bool execute = false;    // made for real by the library (RRX_RECORD_EXECUTE)
  bool watched = false;    // an output over a range the debugger watches
  uint64_t size = 0;       // record_size
  int on_fd = -1;          // a shared object's write, made to the replay's copy at this fd (RRX_RECORD_ON_FD)
};

// Feed's view of the shared objects (BufferFeed::ObjectCopies) for one
// stretch: the size each copy will have once the writes fed before reach it.
struct ObjectStretch {
  const BufferFeed::ObjectCopies* copies = nullptr;
  std::vector<std::pair<uint32_t, uint64_t>> sizes;  // (object, size after the writes fed so far)
  uint64_t& size_of(uint32_t id) {
    for (auto& [o, size] : sizes) {
      if (o == id) return size;
    }
    sizes.emplace_back(id, copies->size(id));
    return sizes.back().second;
  }
};

// Whether buffered pwrite64 `c.sc` to a shared object can be made by the
// library to the replay's copy (c.on_fd): the copy is open in the process,
// and the write's change is its bytes at its offset, growing the copy to the
// recorded size (no outside writer changed it in between). The bytes are the
// call's own (the file write's `sent`), which the record's data crc checks.
bool object_write_takeable(TakeableCall& c, ObjectStretch* objects) {
  if (!objects) return false;
  auto writes = c.sc.getFileWrites();
  auto w = writes[0];
  const int64_t ret = c.sc.getRet();
  if (ret <= 0 || w.getOffset() != c.args[3] || w.getLength() != static_cast<uint64_t>(ret) ||
      !c.sc.getHasDataCrc()) {
    return false;
  }
  const int fd = objects->copies->fd(w.getObject());
  if (fd < 0) return false;
  uint64_t& size = objects->size_of(w.getObject());
  const uint64_t after = std::max(size, w.getOffset() + w.getLength());
  if (after != w.getSize()) return false;
  size = after;
  c.on_fd = fd;
  return true;
}

// True for a call the library may make for real on replay, without a stop
// (RRX_REPLAY_EXEC_CALLS; the replay's filter lets those run): one whose
// replay runs it (it changes the address space or a signal action) and
// leaves nothing to do after it.
bool executable_in_process(int64_t nr) {
  static constexpr int64_t kCalls[] = {RRX_REPLAY_EXEC_CALLS};
  return std::find(std::begin(kCalls), std::end(kCalls), nr) != std::end(kCalls);
}

// Whether the library can take recorded event `ev` without the replayer: a
// buffered syscall of `tid` whose whole effect is its result and the memory
// it wrote in its own process, or a buffered write to rrx's stdout or stderr
// (stream 1 or 2), whose bytes the library copies for the replayer to
// show, or (`may_execute`) one of the calls it makes for real (c.execute).
// Not one that changes a shared object (file writes), but a pwrite64 to one
// that `objects` lets the library make to the replay's copy
// (object_write_takeable). (A recorded digest of the sent bytes goes in the
// record: the library compares it.)
bool takeable(schema::Event::Reader ev, int tid, const BufferFeed::WriteFilter& writable, bool may_execute,
              ObjectStretch* objects, TakeableCall& c) {
  if (ev.which() != schema::Event::SYSCALL || ev.getTid() != tid) return false;
  c.sc = ev.getSyscall();
  const uint32_t flags = c.sc.getFlags();
  c.stream = 0;
  if (flags == (trace::kSyscallBuffered | trace::kSyscallToOutput | trace::kSyscallToStdout)) {
    c.stream = 1;
  } else if (flags == (trace::kSyscallBuffered | trace::kSyscallToOutput | trace::kSyscallToStderr)) {
    c.stream = 2;
  } else if (flags != trace::kSyscallBuffered) {
    return false;
  }
  c.on_fd = -1;
  const bool object_write = BufferFeed::object_written(c.sc).has_value();
  if (!object_write && c.sc.hasFileWrites() && c.sc.getFileWrites().size() != 0) return false;
  const int64_t nr = c.sc.getNr();
  if (c.stream != 0 && ((nr != SYS_write && nr != SYS_pwrite64 && nr != SYS_writev) || c.sc.getRet() < 0)) {
    return false;
  }
  const sys::SyscallDesc* d = sys::lookup(nr);
  if (!d || !(d->flags & sys::kBuffered)) return false;
  {
    auto a = c.sc.getArgs();  // (once: each getter call checks the pointer again)
    if (a.size() != 6) return false;
    for (unsigned i = 0; i < 6; ++i) c.args[i] = a[i];
  }
  c.execute = false;
  if (object_write) {
    if (c.stream != 0 || !object_write_takeable(c, objects)) return false;  // (objects: only with may_execute)
    c.execute = true;
  } else if ((d->flags & sys::kMapsMemory) || d->replay_policy(c.args) == sys::Replay::Execute) {
    // The address-space calls, and rt_sigaction setting an action, must
    // take effect in the replayed process: the library makes them for real
    // where the replay's filter lets it (the session says so), with a stop
    // of their own elsewhere. Not an mmap that failed (replay emulates it).
    const bool sets_mask = (d->flags & sys::kSetsSigmask) && c.sc.getRet() == 0;
    if (!sets_mask) {
      if (!may_execute || !executable_in_process(nr) || c.stream != 0) return false;
      if (nr == SYS_mmap && sys::is_error_return(c.sc.getRet())) return false;
      c.execute = true;
    }
  }
  // (Without may_execute such a call is made by the library from the
  // untraced instruction, which stops there like any syscall under the
  // replay's ptrace: its own stop, where the replayer makes and checks it.
  // An rt_sigprocmask that succeeded is taken: the replayer gives the thread
  // the mask its taken calls left at the thread's next stop (take_buffer),
  // where the mask is next looked at: signals are delivered at stops only.)
  c.strings = c.sc.getStrings();
  c.writes = c.sc.getMemWrites();
  c.size = RRX_ALIGN8(sizeof(rrx_buffer_record));
  for (auto str : c.strings) c.size += sizeof(rrx_buffer_string) + RRX_ALIGN8(str.getValue().size());
  c.watched = false;
  for (auto w : c.writes) {
    if (w.getTid() != 0 && w.getTid() != tid) return false;
    const uint64_t len = w.getData().size();
    c.size += sizeof(rrx_buffer_output) + RRX_ALIGN8(len);
    if (writable && !writable(w.getAddr(), len)) c.watched = true;
  }
  return true;
}

// Writes the record of `c` (c.size bytes, as syscallbuf::encode_record
// makes it, with `flags`) at `p` (offset `base` of the fed bytes), straight
// from the trace's message, and notes in `padding` the padding after its
// strings and outputs (not the record's own bytes: the buffer keeps what it
// held there).
void put_record(const TakeableCall& c, uint8_t flags, uint8_t* p, uint32_t base,
                std::vector<std::pair<uint32_t, uint32_t>>& padding) {
  rrx_buffer_record r{};
  r.size = static_cast<uint32_t>(c.size);
  r.flags = flags;
  if (c.sc.getHasDataCrc()) {
    // The library compares it with the bytes the replayed program sends.
    r.flags |= RRX_RECORD_DATA_CRC;
    r.data_crc = c.sc.getDataCrc();
  }
  r.nr = c.sc.getNr();
  for (unsigned i = 0; i < 6; ++i) r.args[i] = c.args[i];
  r.ret = c.sc.getRet();
  r.string_count = static_cast<uint8_t>(c.strings.size());
  r.output_count = static_cast<uint16_t>(c.writes.size());
  if (c.on_fd >= 0) {
    r.flags |= RRX_RECORD_ON_FD;
    r.reserved = static_cast<uint32_t>(c.on_fd);
  }
  std::memcpy(p, &r, sizeof r);
  static_assert(RRX_ALIGN8(sizeof r) == sizeof r, "no padding after the record's header");
  uint32_t at = RRX_ALIGN8(sizeof r);
  auto piece = [&](const void* head, size_t head_len, const uint8_t* data, size_t len) {
    std::memcpy(p + at, head, head_len);
    at += head_len;
    if (len) std::memcpy(p + at, data, len);
    if (len % 8) padding.emplace_back(base + at + len, base + at + RRX_ALIGN8(len));
    at += RRX_ALIGN8(len);
  };
  for (auto str : c.strings) {
    auto v = str.getValue();
    rrx_buffer_string h{str.getArg(), static_cast<uint32_t>(v.size())};
    piece(&h, sizeof h, v.begin(), v.size());
  }
  for (auto w : c.writes) {
    auto d = w.getData();
    rrx_buffer_output h{w.getAddr(), d.size()};
    piece(&h, sizeof h, d.begin(), d.size());
  }
}

// An event of `tid` that the thread reaches at a syscall's stop: a syscall,
// or a clone (the thread stops at the entry of the clone call first).
// An exec event too: the thread stops at its execve's entry (how vfork and
// posix_spawn children end their buffered calls).
bool syscall_of(schema::Event::Reader ev, int tid) {
  return ev.getTid() == tid && (ev.which() == schema::Event::SYSCALL || ev.which() == schema::Event::SYSCALL_ENTRY ||
                                ev.which() == schema::Event::CLONE || ev.which() == schema::Event::EXEC);
}

}  // namespace

int64_t BufferFeed::after_call(schema::Syscall::Reader rec) {
  // The record as the library writes it: path strings included (a
  // buffered open or stat replayed with its own stop, e.g. the first after
  // the buffer wrapped, is followed by records fed at its exit).
  if (rec.getFlags() & trace::kSyscallBuffered) {
    return static_cast<int64_t>(record_size(rec.getStrings(), rec.getMemWrites()));
  }
  const sys::SyscallDesc* d = sys::lookup(rec.getNr());
  return d && (d->flags & sys::kBuffered) ? -1 : 0;
}

std::optional<uint32_t> BufferFeed::object_written(schema::Syscall::Reader rec) {
  if (!(rec.getFlags() & trace::kSyscallBuffered) || rec.getNr() != SYS_pwrite64 || !rec.hasFileWrites()) {
    return std::nullopt;
  }
  auto writes = rec.getFileWrites();
  if (writes.size() != 1 || !writes[0].getSent()) return std::nullopt;
  return writes[0].getObject();
}

size_t BufferFeed::feed(Task& task, int tid, uint64_t buffer, uint32_t open_record, const EventsAhead& ahead,
                        uint64_t limit, const WriteFilter& writable, bool may_execute, const ObjectCopies* objects) {
  pending_ = false;
  if (limit == 0) return 0;  // (the event after the limit is read only as what follows)
  rrx_buffer_header h;
  if (!task.read_exact(buffer, &h, sizeof h)) return 0;
  if (h.magic != RRX_BUFFER_MAGIC || !rrx_feedable_version(h.version) || h.header_size != sizeof h ||
      h.capacity > RRX_BUFFER_BYTES - sizeof h || h.bytes_used > h.capacity || h.replay_end != 0 ||
      h.replay_out != 0 || h.replay_out_end != 0) {
    return 0;  // a library of another version (an older trace's), or not ours to write
  }
  if (open_record > h.capacity - h.bytes_used) return 0;
  ObjectStretch stretch;
  stretch.copies = objects;
  ObjectStretch* object_writes =
      objects && may_execute && !writable && h.version >= RRX_SYSCALLBUF_ON_FD_VERSION_MIN ? &stretch : nullptr;
  // The records this generation published already: the library does not
  // touch them again, so the output area goes there when they are many
  // (else after the fed records). Either way it is put back at take.
  const uint32_t published = h.bytes_used;
  const bool out_before = published >= kOutputBeforeMin;
  if (open_record != 0) {
    // As the library will have it once it published the open record.
    h.bytes_used += open_record;
    h.record_count++;
  }
  if (!bytes_) bytes_ = std::make_unique_for_overwrite<uint8_t[]>(RRX_BUFFER_BYTES);
  uint64_t used = 0;  // bytes of records in bytes_
  padding_.clear();
  Fed& f = fed_;
  f.sizes.clear();
  f.executes.clear();
  f.outputs.clear();
  f.after.reset();
  uint64_t out_total = 0;  // bytes of the output area
  bool last_may_go = false;  // the event after the stretch stops the thread at a syscall
  const trace::EventRecord* after = nullptr;  // that event: where the thread stops after the records fed
  const uint64_t room = h.capacity - h.bytes_used;  // < RRX_BUFFER_BYTES
  TakeableCall c;
  const trace::EventRecord* last_fed = nullptr;
  for (uint64_t k = 0; k <= limit; ++k) {
    const trace::EventRecord* rec = ahead(k);
    if (!rec) break;
    auto ev = rec->get();
    if (k == limit || !takeable(ev, tid, writable, may_execute, object_writes, c)) {
      last_may_go = syscall_of(ev, tid);
      if (last_may_go) after = rec;
      break;
    }
    const uint64_t sent = c.stream != 0 ? static_cast<uint64_t>(c.sc.getRet()) : 0;
    const bool fits = out_before ? c.size <= room - used && sent <= published - out_total
                                 : c.size <= room - used - out_total && sent <= room - used - out_total - c.size;
    if (c.watched || !fits) {
      // Left for its own stop (a buffered syscall of tid: the library makes
      // it when it finds no record). A record that does not fit the buffer
      // on its own never happens: the recording's buffer held it.
      last_may_go = true;
      break;
    }
    const uint8_t flags = c.execute ? RRX_RECORD_EXECUTE
                          : c.stream == 1 ? RRX_RECORD_TO_STDOUT
                          : c.stream == 2 ? RRX_RECORD_TO_STDERR
                                          : 0;
    put_record(c, flags, bytes_.get() + used, static_cast<uint32_t>(used), padding_);
    used += c.size;
    f.sizes.push_back(static_cast<uint32_t>(c.size));
    f.executes.push_back(c.execute);
    last_fed = rec;
    if (sent > 0) {
      f.outputs.push_back({static_cast<uint32_t>(f.sizes.size() - 1), c.stream, static_cast<uint32_t>(sent)});
      out_total += sent;
    }
  }
  if (!last_may_go && !f.sizes.empty()) {
    used -= f.sizes.back();
    if (!f.outputs.empty() && f.outputs.back().record == f.sizes.size() - 1) {
      out_total -= f.outputs.back().len;
      f.outputs.pop_back();
    }
    f.sizes.pop_back();
    f.executes.pop_back();
    after = last_fed;  // the thread stops at that call, made the ordinary way
    last_may_go = true;
  }
  if (f.sizes.empty()) return 0;
  if (last_may_go && after) f.after = *after;
  f.buffer = buffer;
  f.start_count = h.record_count;
  f.start_bytes = h.bytes_used;
  const uint32_t replay_end = h.bytes_used + static_cast<uint32_t>(used);
  f.out_start = out_before ? 0 : replay_end;
  // What the records go over: read only when a record has padding, which
  // keeps what the buffer held there (as the library's own copy does).
  // Else not at all (a MiB per feed): the bytes under records the thread
  // did not take matter to no one (see take).
  while (!padding_.empty() && padding_.back().second > used) padding_.pop_back();  // (the record dropped)
  f.saved.resize(padding_.empty() ? 0 : used);
  f.saved_out.resize(out_total);
  const uint64_t records = buffer + sizeof h;
  const uint64_t at = records + h.bytes_used;
  if (!task.read_exact(at, f.saved.data(), f.saved.size()) ||
      !task.read_exact(records + f.out_start, f.saved_out.data(), f.saved_out.size())) {
    return 0;
  }
  for (auto [from, to] : padding_) std::memcpy(bytes_.get() + from, f.saved.data() + from, to - from);
  const uint32_t fields[4] = {replay_end, h.trace_all, f.out_start, f.out_start + static_cast<uint32_t>(out_total)};
  if (!task.write_mem(at, bytes_.get(), used) || !task.write_mem(buffer + kReplayEndOffset, fields, sizeof fields)) {
    throw Error("cannot write the syscall buffer of thread " + std::to_string(tid));
  }
  pending_ = true;
  return f.sizes.size();
}

void BufferFeed::read_ahead(const EventsAhead& ahead) const {
  if (!pending_) return;
  constexpr uint64_t kMaxAhead = 8192;  // events: a few MiB of the trace
  const uint64_t fed = fed_.sizes.size();
  try {
    (void)ahead(fed + std::min(fed, kMaxAhead));
  } catch (const std::exception&) {
    // (A damaged chunk: the reader throws again when the replay gets there.)
  }
}

size_t BufferFeed::take(Task& task, const OutputSink& output) {
  if (!pending_) return 0;
  pending_ = false;
  const Fed& f = fed_;
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
  size_t outputs = 0;
  uint64_t sent = 0;
  while (outputs < f.outputs.size() && f.outputs[outputs].record < taken) sent += f.outputs[outputs++].len;
  if (h.replay_out != f.out_start + sent) {
    throw Error("the syscall buffer at 0x" + fmt_hex(f.buffer) + " holds " +
                std::to_string(static_cast<int64_t>(h.replay_out) - f.out_start) + " bytes of output for the " +
                std::to_string(outputs) + " writes it took, not " + std::to_string(sent));
  }
  const uint64_t records = f.buffer + sizeof h;
  if (sent > 0) {
    out_.resize(sent);
    if (!task.read_exact(records + f.out_start, out_.data(), sent)) {
      throw Error("cannot read the syscall buffer at 0x" + fmt_hex(f.buffer));
    }
    // In order, a run of writes to the same stream at once.
    size_t from = 0, len = 0;
    for (size_t i = 0; i < outputs; ++i) {
      len += f.outputs[i].len;
      if (i + 1 == outputs || f.outputs[i + 1].stream != f.outputs[i].stream) {
        output(f.outputs[i].stream, out_.data() + from, len);
        from += len;
        len = 0;
      }
    }
  }
  const uint64_t at = records + f.start_bytes;
  const uint32_t fields[4] = {0, h.trace_all, 0, 0};
  if ((taken_bytes < f.saved.size() &&
       !task.write_mem(at + taken_bytes, f.saved.data() + taken_bytes, f.saved.size() - taken_bytes)) ||
      (!f.saved_out.empty() && !task.write_mem(records + f.out_start, f.saved_out.data(), f.saved_out.size())) ||
      !task.write_mem(f.buffer + kReplayEndOffset, fields, sizeof fields)) {
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
  uint64_t limit = UINT64_MAX;  // how many may be fed
  if (stop_at_event_) {
    // Event stop_at-1 ends with a stop of its own: the replay stands right after it.
    if (*stop_at_event_ < next_number_ + 2) return false;
    limit = *stop_at_event_ - 1 - next_number_;
  }
  if (stop_free_hook && !stop_free_hook(t.tid)) return false;
  // A watch on the buffer itself: the library writes other bytes of it when it takes a record.
  if (memory_write_hook && memory_write_hook(t.tid, t.syscallbuf, RRX_BUFFER_BYTES)) return false;
  // Stopped inside a buffered call's transaction (at the exit of its
  // syscall, in the rrx page), the library has its own record still to
  // publish: the fed ones go after it. After a call that may empty the
  // buffer, nothing is fed until the next stop.
  uint32_t open_record = 0;
  uint64_t rip = program_rip(t);
  if (rip >= RRX_PAGE_ADDR && rip < RRX_PAGE_ADDR + RRX_PAGE_SIZE) {
    if (t.buffer_after_call < 0) return false;
    if (rip == RRX_UNTRACED_IP) open_record = static_cast<uint32_t>(t.buffer_after_call);
  }
  BufferFeed::WriteFilter writable;  // none without a debugger's watches: every output may be written
  if (memory_write_hook) {
    writable = [&](uint64_t addr, uint64_t len) { return !memory_write_hook(t.tid, addr, len); };
  }
  auto ahead = [this](uint64_t k) { return event_ahead(k); };
  const uint64_t t0 = stats_ ? stats_clock_ns() : 0;
  // The calls that must take effect are made by the library for real where
  // the replay's filter lets them run and the thread goes on with
  // PTRACE_CONT (seccomp_entries_: resume() sees executes()).
  // Writes to shared objects whose copy the process has open (opened at
  // the first such write of the thread, replayed with its stop).
  BufferFeed::ObjectCopies objects;
  objects.fd = [&t](uint32_t id) {
    auto it = t.object_fds.find(id);
    return it == t.object_fds.end() ? -1 : it->second;
  };
  objects.size = [this](uint32_t id) { return shared_->copy_size(id); };
  const bool fed = buffer_feed_->feed(*t.task, t.tid, t.syscallbuf, open_record, ahead, limit, writable,
                                      seccomp_entries_, t.object_fds.empty() ? nullptr : &objects) > 0;
  if (stats_) stats_->feeding(stats_clock_ns() - t0);
  return fed;
}

namespace {
// What buffered event `sc` did to its thread's blocked mask: (how, set) of
// an rt_sigprocmask that succeeded with a set (its input, a string of the
// record); nullopt for any other call (a query among them).
std::optional<std::pair<uint64_t, uint64_t>> sigmask_change(schema::Syscall::Reader sc) {
  if (sc.getNr() != SYS_rt_sigprocmask || sc.getRet() != 0) return std::nullopt;
  const auto args = sc.getArgs();
  if (args.size() != 6 || args[1] == 0) return std::nullopt;
  for (auto str : sc.getStrings()) {
    if (str.getArg() != 1 || str.getValue().size() != sizeof(uint64_t)) continue;
    uint64_t set;
    std::memcpy(&set, str.getValue().begin(), sizeof set);
    return std::make_pair(uint64_t{args[0]}, set);
  }
  return std::nullopt;
}
}  // namespace

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
  const uint64_t t0 = stats_ ? stats_clock_ns() : 0;
  const size_t fed = buffer_feed_->fed_count();
  size_t taken = buffer_feed_->take(*t.task, [this](int stream, const uint8_t* bytes, size_t len) {
    if (options_.echo_output) echo(stream, bytes, len);
  });
  if (stats_) stats_->taken(taken);
  // The blocked mask the taken rt_sigprocmask calls left (the library took
  // their results; the kernel's mask is the thread's from before them).
  std::optional<uint64_t> mask, mask_before;
  for (size_t i = 0; i < taken; ++i) {
    auto ev = peek();
    if (ev.which() != schema::Event::SYSCALL || ev.getTid() != t.tid ||
        !(ev.getSyscall().getFlags() & trace::kSyscallBuffered)) {
      diverge(describe_event(ev), "a buffered call of thread " + std::to_string(t.tid) + " taken from its buffer");
    }
    note_vdso_mapping_call(t, ev.getSyscall());
    if (auto change = sigmask_change(ev.getSyscall())) {
      if (!mask) mask = mask_before = t.task->blocked_signals();
      mask = blocked_after_sigprocmask(*mask, change->first, change->second);
    }
    consume();
  }
  if (mask && *mask != *mask_before) t.task->set_blocked_signals(*mask);
  t.untaken_fed = taken < fed ? next_number_ : UINT64_MAX;
  stop_free_calls_ += taken;
  if (stats_) stats_->feeding(stats_clock_ns() - t0);
  if (taken > 0) at_interval_start_ = false;  // the thread ran on after the last of them
  return w;
}

}  // namespace rrx::replay
