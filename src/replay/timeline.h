// Moving backwards through a replay without performance counters.
//
// A position in the program is a Mark: the interval it lies in (interval N
// is the execution that ends with event N; only the task of event N runs
// user code in it), the thread, and that thread's registers there. rrx finds
// a mark again by restoring a checkpoint from before it, replaying to the
// start of its interval, and running with a breakpoint at the mark's address
// until the registers match (the k-th pass of that address, without having
// to count instructions).
//
// reverse-continue replays from the nearest earlier checkpoint up to the
// current position with gdb's breakpoints and watchpoints in place, notes
// every hit, and goes to the last one (for a watchpoint, to the instruction
// or syscall that wrote); with none, it tries the checkpoint before that, and
// so on back to the start. reverse-step finds the previous instruction of a
// thread by single-stepping forward from the last earlier pass of the same
// address (or from the start of the interval).
//
// A step back can cross other threads' events: the thread's previous
// instruction is a syscall that blocked while they ran (or it last ran in
// an earlier interval). The replay cannot hold them where they are, so they
// go back too, and a breakpoint or watchpoint of gdb's that one of them hit
// in the crossed stretch is a stop gdb must hear of:
// * a step that lets the other threads run (bs with Hc "any") is then a
//   reverse-continue and stops at the last such hit (as in rr);
// * a step of the thread alone (Hc THREAD: gdb steps it over a breakpoint
//   and expects no other thread to report) goes to its previous
//   instruction, and the crossed hits are held back: the next reverse
//   execution from there that lets the others run stops at the last of
//   them first (the other threads, held by gdb, had not yet gone back
//   over them).
//
// gdb's ^C (ReplaySession::request_interrupt) stops reverse-continue and
// reverse-step as it stops a forward continue: the replay the search is
// running stops where it has got to, and that is where the program stands.
#pragma once

#include <sys/user.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "replay/breakpoints.h"
#include "replay/replay_session.h"

namespace rrx::replay {

struct Mark {
  uint64_t interval = 0;
  int tid = 0;
  user_regs_struct regs{};
  bool process_ending = false;  // held at its exit_group (the end of the recording)
  // At a syscall's entry, before the replay handled it (a SyscallEntry
  // stop): found again by stopping at tid's syscall entry in `interval`.
  // (A syscall's return is the start of the next interval: a plain mark.)
  bool syscall_entry = false;
};

// Where automatic checkpoints go. What a checkpoint saves is replay time:
// going back to a position costs the replay from the checkpoint before it.
// So they are spaced by the replay time between them (the session's
// replay_seconds(): wall time inside cont()/step(), whatever it went to:
// syscalls, preemption points, single-steps), not by a count of events: a
// stretch of cheap events gets few, a hot loop replayed pass by pass gets
// many. A new one is taken at an interval start once interval_seconds of
// replay have passed since the replay last stood at a checkpoint (took,
// restored or passed one). When there are more than max_automatic, or all
// checkpoints together hold more than max_memory, rrx thins them instead of
// dropping the oldest: each has a cost coordinate (estimated replay seconds
// from the start of the recording to it), and the one whose removal leaves
// the smallest gap relative to its distance from the current position goes
// (distances beyond 16 intervals count as 16). The spread that remains is
// logarithmic near where the user is debugging and even beyond, so that
// the whole recording stays covered and going anywhere costs at most the
// replay of one gap (a 1,000,000-event recording that replays in a minute:
// ~0.3 s gaps with 256 checkpoints).
struct CheckpointPolicy {
  double interval_seconds = 0.5;     // replay time between automatic checkpoints
  uint64_t interval_events = 0;      // also one at least every this many events (0: by time only)
  size_t max_automatic = 256;        // beyond this, thinned
  uint64_t max_memory = 1ull << 30;  // and while all of them hold more than this
  // RRX_CHECKPOINT_SECONDS, RRX_CHECKPOINT_INTERVAL (events), RRX_CHECKPOINT_MAX,
  // RRX_CHECKPOINT_MEMORY_MB override the defaults.
  static CheckpointPolicy from_environment();
};

class Timeline {
 public:
  Timeline(ReplaySession& session, Breakpoints& breakpoints, CheckpointPolicy policy);
  ~Timeline();

  // A fresh session stands at its first instruction: keep that as the start.
  bool on_start(std::string& why);
  bool has_start() const { return start_ != nullptr; }
  // The session's interval_start_hook: automatic checkpoints.
  void on_interval_start();

  // The position of the stop the session just made.
  Mark mark_here(const ReplaySession::Stop& stop);

  struct Result {
    bool at_begin = false;        // nothing earlier: back at the start of the recording
    bool moved = false;           // false: the position could not be found; nothing changed
    Mark at;                      // where the program now stands
    Breakpoints::Hit hit;         // what stopped reverse-continue
    bool interrupted = false;     // request_interrupt(): `at` is where the search had got to
  };
  // Where gdb's history begins: reverse execution goes no further back
  // than the start of interval `event`, where thread `tid` stands (a
  // process gdb debugs began there: forked, or exec'd a new image that
  // gdb's symbols and breakpoints are of). event 0: the start of the
  // recording. Reaching it is at_begin, with `at` there.
  struct HistoryStart {
    uint64_t event = 0;
    int tid = 0;
  };
  Result reverse_continue(const Mark& from, HistoryStart history);
  Result reverse_step(const Mark& from, HistoryStart history, bool others_held = false);
  // From `at`, in the return path of a buffered call's hook entry (the
  // call's event consumed): back to that call's entry, the last pass of
  // at.tid at `entry` (the hook entry's first instruction) in the intervals
  // just before at's: true, `at` is there and the replay stands there. False:
  // none found, the replay back at `at`.
  bool back_to_hook_entry(Mark& at, uint64_t entry, HistoryStart history);
  // The program went forwards: hits held back by a step alone are void.
  void forget_held_hits() { held_.clear(); }
  // The start of event n's interval (user breakpoints out of the way).
  bool goto_event(uint64_t n, Mark& at, std::string& why);
  Mark goto_start();

  // Checkpoints asked for by the user.
  int add_checkpoint(const Mark& at, std::string& why);
  bool restart_checkpoint(int id, Mark& at, std::string& why);
  bool delete_checkpoint(int id);
  bool has_checkpoint(int id) const { return user_.count(id) != 0; }
  std::string describe() const;
  uint64_t memory_bytes() const;
  size_t automatic_count() const { return automatic_.size(); }

 private:
  struct HitMark {
    Mark mark;
    Breakpoints::Hit hit;
  };
  struct UserCheckpoint {
    std::shared_ptr<Checkpoint> checkpoint;
    Mark at;
  };

  // A search stopped by request_interrupt(), at `stop`.
  struct SearchInterrupted {
    ReplaySession::Stop stop;
  };
  ReplaySession::Stop forward();
  // Throws SearchInterrupted for an Interrupted stop while interruptible_.
  ReplaySession::Stop checked(const ReplaySession::Stop& s);
  Result interruptible_search(Result (Timeline::*search)(const Mark&), const Mark& from);
  Result reverse_continue_search(const Mark& from);
  bool hook_entry_search(Mark& at, uint64_t entry, HistoryStart history);
  Result reverse_step_search(const Mark& from);
  bool at_patch_move_of(const Mark& m);
  // Seeks to the hit reverse-continue stops at (for a watchpoint: the
  // instruction or syscall that wrote).
  Result go_to_hit(const HitMark& target);
  // The last hit held back by the steps alone that ended at `from`, if any
  // (found with gdb's breakpoints as they are now).
  std::optional<HitMark> held_hit(const Mark& from);
  bool still_at(const Mark& m, const Mark& from);
  struct HeldHits;
  bool stay(const Mark& from, std::vector<HeldHits>& chain);
  Result interrupted(const ReplaySession::Stop& stop);
  // Runs on with rrx's int3 at `addr` (none: 0) until `visit` returns true or
  // the replay cannot go on (at event `last_event` at the latest). Traps and
  // kernel writes come to `visit` classified.
  using StopVisitor = std::function<bool(const ReplaySession::Stop&, const Breakpoints::Hit&)>;
  // `tid`: the thread whose process takes the int3.
  void run_watching(int tid, uint64_t addr, uint64_t last_event, const StopVisitor& visit);
  bool aim(const Mark& m, uint64_t trap_at_pass = 0, bool count = false);
  bool to_pass_before(const Mark& at);
  Mark history_start();  // goes to history_'s start
  bool is_at(const Mark& m, const ReplaySession::Stop* stop);
  std::shared_ptr<Checkpoint> latest_checkpoint_until(uint64_t event, bool strictly_before) const;
  void restore(const std::shared_ptr<Checkpoint>& cp);
  bool goto_interval(uint64_t event);
  bool seek(const Mark& m);
  std::vector<HitMark> scan(const std::shared_ptr<Checkpoint>& from, uint64_t end_event, const Mark* end);
  std::vector<HitMark> scan_on(uint64_t end_event, const Mark* end);
  // From here to `end`: the hits of threads other than end.tid.
  std::vector<HitMark> others_hits_until(const Mark& end);
  std::optional<Mark> previous(const Mark& m, bool& at_begin);
  std::optional<Mark> step_until(const Mark& m);
  void add_automatic(std::shared_ptr<Checkpoint> cp);
  void remember_interval_start(uint64_t event);
  void enforce_limits();
  // Drops the automatic checkpoint whose loss costs least (see CheckpointPolicy).
  void thin_one();
  // The replay stands at (the start of) event `event`, a checkpoint's place.
  void anchor_at(uint64_t event);
  double cost_here() const;
  void begin();   // output echo off
  void finish();  // gdb's breakpoints back in, rrx's out, echo as it was

  ReplaySession& session_;
  Breakpoints& bps_;
  CheckpointPolicy policy_;
  std::shared_ptr<Checkpoint> start_;
  std::map<uint64_t, std::shared_ptr<Checkpoint>> automatic_;  // by event
  // Cost coordinates: estimated replay seconds from the start to each
  // checkpoint's event. The anchor is the last checkpoint the replay stood
  // at; it has replayed forward from there since, for replay_seconds() -
  // anchor_.busy seconds.
  std::map<uint64_t, double> cost_at_;
  struct Anchor {
    uint64_t event = 0;
    double busy = 0;
    double cost = 0;
  } anchor_;
  std::map<uint64_t, std::shared_ptr<Checkpoint>> recent_;     // interval starts rrx went to lately
  std::map<int, UserCheckpoint> user_;
  int next_user_id_ = 1;
  int step_over_tid_ = 0;
  HistoryStart history_;  // of the reverse search under way
  bool others_held_ = false;  // the reverse step under way moves its thread alone
  // The stretch a step alone went back over: from `at` (where it stopped)
  // to `until` (where it started); the hits in it of threads other than
  // until.tid are due (none when it crossed no other thread's events).
  // Steps alone one after the other, of one thread or of several (gdb
  // steps A alone, then B alone), make a chain: each stretch ends where
  // the one before it began, the latest in time first. The next reverse
  // execution that lets the others run stops at the last hit of the latest
  // stretch that has one.
  struct HeldHits {
    Mark at, until;
    bool crossed = false;
  };
  std::vector<HeldHits> held_;
  bool moving_ = false;
  bool interruptible_ = false;  // inside reverse_continue()/reverse_step()
  std::optional<std::pair<uint64_t, size_t>> last_restored_;  // event, threads (describe())
  bool echo_was_ = true;  // the last forward() stop was at an int3 in this thread
  // The last reverse-continue: the hits before the one it went to, to go
  // on to the one before without replaying again while gdb's breakpoints
  // stay the same (a conditional breakpoint whose condition is false).
  struct HitCache {
    bool valid = false;
    std::vector<HitMark> earlier;  // hits between segment_start and `returned`
    uint64_t segment_start = 0;
    Mark returned;
    std::string breakpoint_set;
  } cache_;
};

}  // namespace rrx::replay
