// Stop-free replay of the syscall buffer's calls (core/syscallbuf_abi.h,
// "Stop-free replay"): before a thread runs on, the replayer writes the
// recorded records of the buffered calls it makes next into its buffer, and
// the preload library takes their results from there (preload/replay.c)
// instead of stopping at each; at the thread's next stop the replayer counts
// what it took, as events.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "core/ptrace_task.h"
#include "trace_format/trace_reader.h"

namespace rrx::replay {

// True when `addr` is in the rrx page or in librrx_preload.so's mappings of
// process `live_pid`: code a buffered call runs while it takes its record.
bool in_buffer_code(pid_t live_pid, uint64_t addr);

class BufferFeed {
 public:
  BufferFeed();
  ~BufferFeed();

  // Which recorded outputs may be written without a stop (none that a
  // debugger watches): false ends the stretch before that call. Empty: all.
  using WriteFilter = std::function<bool(uint64_t addr, uint64_t len)>;
  // The events from the replay's next one on: event `next + k`, or null past
  // the end of the trace. The session's own lookahead (each event is read
  // and decoded once; the ones fed are then consumed from there).
  using EventsAhead = std::function<const trace::EventRecord*(uint64_t k)>;
  // Where the bytes of the taken writes to rrx's output go: stream 1 or 2.
  using OutputSink = std::function<void(int stream, const uint8_t* bytes, size_t len)>;
  // The replay's copies of shared objects as the thread's process reaches
  // them: `fd` gives the descriptor of object `id`'s copy that the replayer
  // opened in the process (-1: none), `size` the copy's size now. With them
  // a buffered pwrite64 to an object (its event's one file write at the
  // call's offset, of its bytes) is fed as RRX_RECORD_EXECUTE |
  // RRX_RECORD_ON_FD: the library writes the copy itself, without a stop.
  struct ObjectCopies {
    std::function<int(uint32_t id)> fd;
    std::function<uint64_t(uint32_t id)> size;
  };

  // Writes the records of the recorded buffered calls of thread `tid` that
  // come next (`ahead`, at most `limit` of them) into its buffer at
  // `buffer`, as many as fit; returns how many. A stretch's last call is put
  // there only when the event after it is a syscall of the same thread
  // (which stops the thread where the replay handles it whatever came
  // before); else it stays for its own stop. None when the buffer is not one
  // this version of the library reads (an older trace's library).
  // `open_record`: bytes of a record the library has still to publish (the
  // thread stands at the exit of a buffered call replayed with its stop):
  // the records go after it. Writes to rrx's output are fed with room for
  // their bytes (core/syscallbuf_abi.h, "Output on replay"): over the
  // records the buffer published already when they are many, else after
  // the ones fed.
  // `may_execute`: records of calls that must take effect in the process
  // (RRX_REPLAY_EXEC_CALLS) are fed too, marked RRX_RECORD_EXECUTE: the
  // library makes them for real without a stop, which the caller must allow
  // (the replay's seccomp filter, and PTRACE_CONT, not PTRACE_SYSEMU, while
  // executes()). `objects` (with may_execute and no write filter): writes
  // to shared objects are fed too (ObjectCopies), to a library of
  // RRX_SYSCALLBUF_ON_FD_VERSION_MIN or later.
  size_t feed(Task& task, int tid, uint64_t buffer, uint32_t open_record, const EventsAhead& ahead, uint64_t limit,
              const WriteFilter& writable, bool may_execute, const ObjectCopies* objects = nullptr);
  // What the library still does to its buffer after the recorded syscall
  // `rec` returns, while the thread stands at its exit: the bytes of the
  // record it publishes (a buffered call made from the untraced
  // instruction), -1 when it may empty the buffer (a call of a buffered kind
  // made traced: the one that found the buffer full), 0 nothing.
  static int64_t after_call(schema::Syscall::Reader rec);
  // The shared object a buffered event wrote with a pwrite64
  // (RRX_RECORD_OBJECT_WRITE: its one file write, of the bytes the call
  // sent), or nullopt.
  static std::optional<uint32_t> object_written(schema::Syscall::Reader rec);
  // At the thread's next stop: how many of the fed records the library took
  // (in order); the bytes the taken writes to rrx's output sent go to
  // `output`, in order; replay_end is cleared (the rest stay past
  // bytes_used, as core/syscallbuf_abi.h says). Throws rrx::Error when the
  // buffer says something impossible.
  size_t take(Task& task, const OutputSink& output);
  // While the thread runs the calls fed (between its resumption and its
  // stop): reads the events after them from the trace (decompressed,
  // checked, into the session's lookahead), as many again as were fed, so
  // that the next feed finds them read. On another core that work overlaps
  // the thread's run instead of following it. An event that cannot be read
  // is left for the replay to meet where it comes.
  void read_ahead(const EventsAhead& ahead) const;
  // Whether records are in a thread's buffer now (between feed and take).
  bool pending() const { return pending_; }
  // While pending: the event right after the fed records when it is a
  // syscall of the same thread (where the thread stops next), else null.
  const trace::EventRecord* after_fed() const { return pending_ && fed_.after ? &*fed_.after : nullptr; }
  // While pending: whether a record fed is one the library makes for real
  // (the thread must go on with PTRACE_CONT: a sysemu stop comes before the
  // seccomp filter that lets the call run).
  bool executes() const {
    return pending_ && std::find(fed_.executes.begin(), fed_.executes.end(), true) != fed_.executes.end();
  }
  // How many records the last feed put in the buffer.
  size_t fed_count() const { return fed_.sizes.size(); }
  // Forget a feed whose thread is gone.
  void drop() { pending_ = false; }

 private:
  // What one feed put in a buffer. Its vectors keep their room from one
  // feed to the next: no allocation per feed.
  struct Fed {
    uint64_t buffer = 0;
    uint32_t start_count = 0;  // record_count when fed
    uint32_t start_bytes = 0;  // bytes_used when fed
    uint32_t out_start = 0;    // replay_out when fed: the output area, over the records published
                               // already or after the ones fed
    std::vector<uint32_t> sizes;  // of each record fed
    std::vector<bool> executes;   // of each record fed: marked RRX_RECORD_EXECUTE
    struct Output {
      uint32_t record;  // index in sizes
      int stream;       // 1 or 2
      uint32_t len;     // the bytes it sent (its recorded result)
    };
    std::vector<Output> outputs;  // the fed writes to rrx's output, in order
    std::vector<uint8_t> saved;      // the bytes the records were written over (read only for padding)
    std::vector<uint8_t> saved_out;  // what the output area held
    std::optional<trace::EventRecord> after;  // see after_fed()
  };
  Fed fed_;
  bool pending_ = false;  // fed_ describes records in a buffer now
  // feed's scratch: the records as they go into the buffer, written in
  // place (never zeroed first), RRX_BUFFER_BYTES of room.
  std::unique_ptr<uint8_t[]> bytes_;
  std::vector<std::pair<uint32_t, uint32_t>> padding_;  // [from, to) in bytes_: see append_record
  std::vector<uint8_t> out_;    // take's scratch
};

}  // namespace rrx::replay
