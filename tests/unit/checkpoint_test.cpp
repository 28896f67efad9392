// Checkpoints of a replay (ReplaySession::checkpoint/restore) on recordings
// of the test programs: a restored checkpoint replays to identical registers
// and memory, any number of times, and to the recorded end.
#include <catch2/catch.hpp>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "replay/replay_session.h"

using rrx::replay::ReplaySession;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/rrx-checkpoint-test.XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::filesystem::path record(const TempDir& dir, const std::string& program) {
  std::filesystem::path trace = dir.path / (program + ".trace");
  std::string cmd = std::string(RRX_BIN) + " record -q -o " + trace.string() + " -- " + RRX_TEST_PROGRAMS_DIR + "/" +
                    program + " >/dev/null 2>&1";
  int rc = std::system(cmd.c_str());
  (void)rc;
  REQUIRE(std::filesystem::exists(trace / "trace"));
  return trace;
}

// The writable memory of the task's process, mapping by mapping.
std::vector<std::string> writable_memory(ReplaySession& s) {
  std::vector<std::string> out;
  uint64_t last_hi = 0;
  std::ifstream maps("/proc/" + std::to_string(s.task().tid()) + "/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string range, perms;
    in >> range >> perms;
    if (perms.size() < 2 || perms[0] != 'r' || perms[1] != 'w') continue;
    uint64_t lo = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
    uint64_t hi = std::stoull(range.substr(range.find('-') + 1), nullptr, 16);
    std::string bytes(hi - lo, '\0');
    bytes.resize(s.task().read_mem(lo, bytes.data(), bytes.size()));
    // Adjacent mappings are one range: after a fork the kernel may keep
    // apart mappings it had merged (the program cannot tell).
    if (!out.empty() && last_hi == lo) {
      out.back() += bytes;
    } else {
      out.push_back(std::to_string(lo) + ":" + bytes);
    }
    last_hi = hi;
  }
  return out;
}

rrx::replay::ReplayOptions quiet_replay_of(const std::filesystem::path& trace) {
  rrx::replay::ReplayOptions options;
  options.trace_dir = trace;
  options.echo_output = false;
  return options;
}

bool same_regs(const user_regs_struct& a, const user_regs_struct& b) { return rrx::replay::same_position_regs(a, b); }

}  // namespace

TEST_CASE("a restored checkpoint replays to identical registers and memory, twice", "[checkpoint]") {
  TempDir dir;
  ReplaySession s(quiet_replay_of(record(dir, "reverse_demo")));
  s.start();
  s.set_stop_at_event(20);
  REQUIRE(s.cont().kind == ReplaySession::StopKind::EventReached);
  std::string why;
  auto cp = s.checkpoint(&why);
  INFO(why);
  REQUIRE(cp);
  CHECK(cp->event() == 20);
  CHECK(cp->at_interval_start());
  CHECK(cp->memory_bytes() > 0);
  user_regs_struct at20 = s.task().regs();
  auto mem20 = writable_memory(s);

  s.set_stop_at_event(45);
  REQUIRE(s.cont().kind == ReplaySession::StopKind::EventReached);
  user_regs_struct at45 = s.task().regs();
  auto mem45 = writable_memory(s);
  CHECK(mem45 != mem20);

  for (int round = 0; round < 2; ++round) {
    s.restore(*cp);
    CHECK(s.next_event() == 20);
    CHECK(same_regs(s.task().regs(), at20));
    CHECK(writable_memory(s) == mem20);
    REQUIRE(s.cont().kind == ReplaySession::StopKind::EventReached);
    CHECK(s.next_event() == 45);
    CHECK(same_regs(s.task().regs(), at45));
    auto again = writable_memory(s);
    auto ranges = [](const std::vector<std::string>& m) {
      std::string r;
      for (const auto& x : m) r += x.substr(0, x.find(':')) + " ";
      return r;
    };
    INFO("first: " << ranges(mem45) << "\nagain: " << ranges(again));
    REQUIRE(again.size() == mem45.size());
    for (size_t i = 0; i < again.size(); ++i) {
      if (again[i] == mem45[i]) continue;
      size_t at = 0;
      while (at < again[i].size() && again[i][at] == mem45[i][at]) ++at;
      FAIL_CHECK("mapping " << mem45[i].substr(0, mem45[i].find(':')) << " differs at byte " << at);
    }
  }

  // From the checkpoint to the recorded end.
  s.restore(*cp);
  s.set_stop_at_event(std::nullopt);
  ReplaySession::Stop end;
  do {
    end = s.cont();
  } while (end.kind != ReplaySession::StopKind::Exited && end.kind != ReplaySession::StopKind::TraceEnd);
  CHECK(end.kind == ReplaySession::StopKind::Exited);
  CHECK(end.exit_code == 1);
}

namespace {

// Registers of every thread, by recorded tid.
std::map<int, user_regs_struct> all_regs(ReplaySession& s) {
  std::map<int, user_regs_struct> out;
  for (int tid : s.tids()) out[tid] = s.task(tid).regs();
  return out;
}

void check_same_threads(ReplaySession& s, const std::map<int, user_regs_struct>& want) {
  auto got = all_regs(s);
  REQUIRE(got.size() == want.size());
  for (const auto& [tid, regs] : want) {
    INFO("thread " << tid);
    REQUIRE(got.count(tid));
    CHECK(same_regs(got[tid], regs));
    CHECK(got[tid].fs_base == regs.fs_base);
  }
}

}  // namespace

TEST_CASE("a checkpoint of a multi-threaded process restores every thread", "[checkpoint]") {
  // A one-stop and a two-stop skip strategy: threads waiting in a futex sit
  // at different stops (with two stops, at the skipped syscall's entry,
  // which restore() enters again).
  rrx::SkipStrategy strategy = GENERATE(rrx::SkipStrategy::Sysemu, rrx::SkipStrategy::Regs);
  INFO("skip strategy " << static_cast<int>(strategy));
  TempDir dir;
  auto options = quiet_replay_of(record(dir, "mt_reverse"));
  options.skip = strategy;
  ReplaySession s(options);
  s.start();
  // The first event at which all five threads exist.
  uint64_t e1 = 0;
  for (uint64_t e = s.next_event() + 1; e < s.event_count(); ++e) {
    s.set_stop_at_event(e);
    REQUIRE(s.cont().kind == ReplaySession::StopKind::EventReached);
    if (s.tids_of(s.recorded_pid()).size() == 5) {
      e1 = e;
      break;
    }
  }
  REQUIRE(e1 != 0);
  // Six checkpoints about 10 events apart: threads run, wait in futexes,
  // take locks. Where one cannot be taken (a thread inside a syscall that
  // runs for real: how many there are depends on how the recording's
  // threads interleaved) the next event is tried. Each restores to the same
  // registers and replays on to the same registers and memory.
  int taken = 0;
  std::string refusals;
  for (uint64_t e = e1 + 10; taken < 6 && e + 30 < s.event_count();) {
    s.set_stop_at_event(e);
    REQUIRE(s.cont().kind == ReplaySession::StopKind::EventReached);
    std::string why;
    auto cp = s.checkpoint(&why);
    if (!cp) {
      refusals += "event " + std::to_string(e) + ": " + why + "\n";
      e += 1;
      continue;
    }
    ++taken;
    auto here = all_regs(s);
    auto mem = writable_memory(s);
    s.set_stop_at_event(e + 30);
    REQUIRE(s.cont().kind == ReplaySession::StopKind::EventReached);
    auto later = all_regs(s);
    auto mem_later = writable_memory(s);
    for (int round = 0; round < 2; ++round) {
      INFO("checkpoint at event " << e << ", round " << round);
      s.restore(*cp);
      CHECK(s.next_event() == e);
      check_same_threads(s, here);
      CHECK(writable_memory(s) == mem);
      REQUIRE(s.cont().kind == ReplaySession::StopKind::EventReached);
      CHECK(s.next_event() == e + 30);
      check_same_threads(s, later);
      CHECK(writable_memory(s) == mem_later);
    }
    s.restore(*cp);  // goes on from e
    e += 10;
  }
  INFO("checkpoints refused:\n" << refusals);
  CHECK(taken >= 6);

  // A checkpoint with five threads, restored, replays to the recorded end.
  s.set_stop_at_event(e1 + 200);
  REQUIRE(s.cont().kind == ReplaySession::StopKind::EventReached);
  std::shared_ptr<rrx::replay::Checkpoint> cp;
  while (!cp) {
    cp = s.checkpoint();
    if (!cp) {
      s.set_stop_at_event(s.next_event() + 1);
      REQUIRE(s.cont().kind == ReplaySession::StopKind::EventReached);
    }
  }
  CHECK(s.tids_of(s.recorded_pid()).size() == 5);
  for (int round = 0; round < 2; ++round) {
    s.restore(*cp);
    s.set_stop_at_event(std::nullopt);
    ReplaySession::Stop end;
    do {
      end = s.cont();
    } while (end.kind != ReplaySession::StopKind::Exited && end.kind != ReplaySession::StopKind::TraceEnd);
    CHECK(end.kind == ReplaySession::StopKind::Exited);
    CHECK(end.exit_code == s.recorded_exit_status());
  }
}
