// The syscall buffer's protocol: the preload library's list of buffered calls
// against the syscall table's kBuffered column, records encoded and parsed
// back, malformed records refused, the table check of each call, and the
// fast path's seccomp filter.
#include <catch2/catch.hpp>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <cstring>
#include <set>

#include "core/error.h"
#include "core/hash.h"
#include "core/output_digest.h"
#include "core/syscall_table.h"
#include "core/syscallbuf.h"
#include "core/syscallbuf_abi.h"
#include "record/syscallbuf_hook.h"
#include "record/syscallbuf_record.h"
#include "preload/sent_crc.h"

using namespace rrx;

namespace {
const rrx_buffered_call kLibraryCalls[] = {RRX_BUFFERED_CALLS};
}

namespace {
class NoMemory : public sys::MemReader {
 public:
  bool read(uint64_t, void*, size_t) override { return false; }
};

// Arguments that satisfy call `c`'s rule: distinct pointers, counts, zero
// timeouts, the argument value the rule wants.
void sample_args(const rrx_buffered_call& c, uint64_t args[6]) {
  for (int i = 0; i < 6; ++i) args[i] = 0x10000 * (i + 1);
  const sys::SyscallDesc* d = sys::lookup(c.nr);
  for (int i = 0; i < 6; ++i) {
    if (d->args[i] == sys::Arg::Size || d->args[i] == sys::Arg::UInt || d->args[i] == sys::Arg::Int) args[i] = 100;
    if (d->args[i] == sys::Arg::Fd || d->args[i] == sys::Arg::DirFd) args[i] = 3;
  }
  if (c.when == RRX_BW_ZERO) args[c.cond_arg] = 0;
  if (c.when == RRX_BW_ARG_EQ || c.when == RRX_BW_SIGMASK || c.when == RRX_BW_MMAP_ANON) args[c.cond_arg] = c.cond_value;
  if (c.when == RRX_BW_ARG_IN) args[c.cond_arg] = c.values[0];
  if (c.when == RRX_BW_FD_BELOW) args[c.cond_arg] = c.cond_value - 1;
}

// The argument values a library rule of RRX_BW_ARG_IN takes (one entry, -1, for other rules).
std::vector<int64_t> rule_values(const rrx_buffered_call& c) {
  if (c.when != RRX_BW_ARG_IN) return {-1};
  return std::vector<int64_t>(c.values, c.values + c.cond_value);
}
}  // namespace

TEST_CASE("syscallbuf: the library buffers exactly the table's kBuffered calls, with the table's rules and outputs") {
  std::set<int> table_set, library_set;
  std::set<std::pair<int, uint32_t>> table_values, library_values;  // RRX_BW_ARG_IN rules: (nr, value)
  for (const auto& d : sys::table()) {
    if (d.flags & sys::kBuffered) table_set.insert(d.nr);
    for (unsigned i = 0; i < d.buffered.value_count; ++i) table_values.insert({d.nr, d.buffered.values[i]});
  }
  int previous_nr = -1;
  for (const auto& c : kLibraryCalls) {
    // A call's rules are listed one after the other.
    CHECK((c.nr == previous_nr || !library_set.count(c.nr)));
    previous_nr = c.nr;
    library_set.insert(c.nr);
    const sys::SyscallDesc* d = sys::lookup(c.nr);
    REQUIRE(d);
    INFO(d->name);
    {
      uint64_t args[6];
      sample_args(c, args);
      // Replay skips a buffered call, but for the signal state ones, which take effect there
      // (rt_sigaction, rt_sigprocmask: executed when they set something, emulated as queries).
      // And the address-space ones (brk, munmap, mprotect without PROT_EXEC: buffered
      // when recording, run for real at their stop on replay, as the replay's memory must change).
      if (d->flags & (sys::kSetsSigaction | sys::kSetsSigmask)) {
        CHECK(d->replay_policy(args) == sys::Replay::Execute);
        args[1] = 0;
      }
      if (d->flags & sys::kMapsMemory) {
        CHECK(d->replay_policy(args) == sys::Replay::Execute);
      } else {
        CHECK(d->replay_policy(args) == sys::Replay::Emulate);
      }
    }
    CHECK(d->buffered.when == c.when);
    CHECK(d->buffered.desched == c.desched);
    // Only a call whose rule says when it could block has a desched column.
    if (c.desched != RRX_DS_NO) CHECK(c.when != RRX_BW_ALWAYS);
    if (c.when == RRX_BW_ARG_IN) {
      CHECK(d->buffered.arg == c.cond_arg);
      REQUIRE(c.cond_value >= 1);
      REQUIRE(c.cond_value <= RRX_MAX_RULE_VALUES);
      for (uint32_t i = 0; i < c.cond_value; ++i) CHECK(library_values.insert({c.nr, c.values[i]}).second);
    } else if (c.when == RRX_BW_ALWAYS || c.when == RRX_BW_FD_READ || c.when == RRX_BW_FD_WRITE) {
      CHECK(d->buffered.arg == -1);
    } else if (c.when == RRX_BW_OPEN) {
      CHECK(d->buffered.arg == c.cond_arg);
      CHECK(d->buffered.mask == c.cond_mask);
      CHECK(d->args[c.cond_arg] == sys::Arg::Path);
      CHECK(d->args[c.cond_mask] == sys::Arg::OpenFlags);
    } else {
      CHECK(d->buffered.arg == c.cond_arg);
      CHECK(d->buffered.mask == c.cond_mask);
      CHECK(d->buffered.value == c.cond_value);
    }
    // The path argument, recorded as a string, is the row's.
    int path = -1;
    for (int i = 0; i < 6; ++i) {
      if (d->args[i] == sys::Arg::Path && path < 0) path = i;
    }
    CHECK(c.path_arg == path);
    // The input column (core/syscallbuf_abi.h, "Signal state"): the table's, a pointer, never with a path.
    CHECK(d->buffered.in_len == c.in_len);
    if (c.in_len != 0) {
      CHECK(d->buffered.in_arg == c.in_arg);
      CHECK(d->args[c.in_arg] == sys::Arg::Ptr);
      CHECK(c.path_arg < 0);
      CHECK((d->flags & (sys::kSetsSigaction | sys::kSetsSigmask)));
    }
    // The bytes it sends (its record's data crc): the table's `sends`, at argument 1 with the count in 2.
    switch (c.sends) {
      case RRX_SENDS_NONE: CHECK(d->sends.shape == sys::Sends::None); break;
      case RRX_SENDS_BUF: CHECK(d->sends.shape == sys::Sends::Buf); break;
      case RRX_SENDS_IOVEC: CHECK(d->sends.shape == sys::Sends::Iovec); break;
      default: FAIL("sends " << int(c.sends));
    }
    if (c.sends != RRX_SENDS_NONE) {
      CHECK(d->sends.arg == 1);
      CHECK(d->sends.n == 2);
    }
    // Signal state changes are buffered only with their input recorded (the recorder's model needs it).
    if (d->flags & (sys::kSetsSigaction | sys::kSetsSigmask)) CHECK(c.in_len != 0);
    // A call that may block is buffered only under a rule that says when it cannot.
    if (d->flags & sys::kMayBlock) CHECK(c.when != RRX_BW_ALWAYS);
    // The ranges the library copies are the table's (kOutOnError included: poll), for a success and a failure,
    // with results below and above the count caps.
    for (int64_t value : rule_values(c))
    for (int64_t ret : {int64_t{0}, int64_t{40}, int64_t{5000}, int64_t{-22}}) {
      INFO("ret " << ret << ", argument value " << value);
      uint64_t args[6];
      sample_args(c, args);
      if (value >= 0) args[c.cond_arg] = static_cast<uint64_t>(value);
      rrx_out_range lib[2];
      unsigned n = rrx_buffered_outputs(&c, args, ret, lib);
      sys::CallView view{c.nr, {}, ret};
      std::memcpy(view.args, args, sizeof view.args);
      NoMemory none;
      auto want = sys::output_ranges(*d, view, none);
      REQUIRE(n == want.size());
      for (unsigned i = 0; i < n; ++i) {
        CHECK(lib[i].addr == want[i].addr);
        CHECK(lib[i].len == want[i].len);
      }
    }
  }
  CHECK(table_set == library_set);
  CHECK(table_values == library_values);
}

TEST_CASE("syscallbuf: calls outside their rule are refused") {
  auto call = [](int nr, std::initializer_list<uint64_t> a) {
    syscallbuf::Call c;
    c.nr = nr;
    int i = 0;
    for (uint64_t v : a) c.args[i++] = v;
    return c;
  };
  CHECK(syscallbuf::check_call(call(202, {0x1000, 129 /* FUTEX_WAKE_PRIVATE */, 1})).empty());
  CHECK_FALSE(syscallbuf::check_call(call(202, {0x1000, 128 /* FUTEX_WAIT_PRIVATE */, 0})).empty());
  CHECK(syscallbuf::check_call(call(72, {3, 3 /* F_GETFL */})).empty());
  CHECK(syscallbuf::check_call(call(72, {3, 1 /* F_GETFD */})).empty());
  CHECK(syscallbuf::check_call(call(72, {3, 4 /* F_SETFL */})).empty());
  CHECK(syscallbuf::check_call(call(72, {3, 1030 /* F_DUPFD_CLOEXEC */})).empty());
  CHECK_FALSE(syscallbuf::check_call(call(72, {3, 7 /* F_SETLKW: may block */})).empty());
  CHECK_FALSE(syscallbuf::check_call(call(72, {3, 8 /* F_SETOWN */})).empty());
  CHECK_FALSE(syscallbuf::check_call(call(7, {0, 0, 1000 /* a timeout */})).empty());
  CHECK(syscallbuf::check_call(call(7, {0, 0, 0})).empty());
  CHECK_FALSE(syscallbuf::check_call(call(16, {0, 0x5402 /* TCSETS */, 0})).empty());
  syscallbuf::Call tcgets = call(16, {0, 0x5401 /* TCGETS */, 0x1000});
  CHECK_FALSE(syscallbuf::check_call(tcgets).empty());  // the kernel's termios it wrote is missing
  tcgets.outputs.push_back({0x1000, std::vector<uint8_t>(36)});
  CHECK(syscallbuf::check_call(tcgets).empty());
  // Only a write goes to rrx's output, and to one stream.
  syscallbuf::Call w = call(1, {1, 0x1000, 0});
  w.flags = RRX_RECORD_TO_STDOUT;
  CHECK(syscallbuf::check_call(w).empty());
  w.flags = RRX_RECORD_TO_STDOUT | RRX_RECORD_TO_STDERR;
  CHECK_FALSE(syscallbuf::check_call(w).empty());
  syscallbuf::Call g = call(110, {});
  g.flags = RRX_RECORD_TO_STDERR;
  CHECK_FALSE(syscallbuf::check_call(g).empty());
  // With the desched event, the calls that may block by the desched column (and no others).
  CHECK(syscallbuf::check_call(call(202, {0x1000, 128 /* FUTEX_WAIT_PRIVATE */, 0}), true).empty());
  CHECK(syscallbuf::check_call(call(202, {0x1000, 137 /* FUTEX_WAIT_BITSET_PRIVATE */, 0}), true).empty());
  CHECK(syscallbuf::check_call(call(202, {0x1000, 129 /* FUTEX_WAKE_PRIVATE */, 1}), true).empty());
  CHECK_FALSE(syscallbuf::check_call(call(202, {0x1000, 134 /* FUTEX_LOCK_PI_PRIVATE */, 0}), true).empty());
  CHECK(syscallbuf::check_call(call(7, {0, 0, 1000}), true).empty());
  CHECK(syscallbuf::check_call(call(232, {3, 0x1000, 8, static_cast<uint64_t>(-1)}), true).empty());
  CHECK(syscallbuf::check_call(call(72, {3, 4 /* F_SETFL */}), true).empty());
  CHECK_FALSE(syscallbuf::check_call(call(72, {3, 7 /* F_SETLKW: no desched column */}), true).empty());
  CHECK_FALSE(syscallbuf::check_call(call(13, {10, 0x1000, 0}), true).empty());  // rt_sigaction, sigsetsize 0
  // rt_sigaction and rt_sigprocmask setting something: with their input, all of it.
  syscallbuf::Call act = call(13, {10, 0x1000, 0, 8});
  CHECK_FALSE(syscallbuf::check_call(act).empty());  // the act is missing
  act.strings.emplace_back(1, std::string(31, 'a'));
  CHECK_FALSE(syscallbuf::check_call(act).empty());  // not all of it
  act.strings[0].second.push_back('a');
  CHECK(syscallbuf::check_call(act).empty());
  act.strings[0].first = 0;
  CHECK_FALSE(syscallbuf::check_call(act).empty());  // for another argument
  syscallbuf::Call failed = call(13, {10, 0x1000, 0, 8});
  failed.ret = -22;
  CHECK(syscallbuf::check_call(failed).empty());  // a failure holds no input
  failed.strings.emplace_back(1, std::string(32, 'a'));
  CHECK_FALSE(syscallbuf::check_call(failed).empty());
  syscallbuf::Call mask = call(14, {2 /* SIG_SETMASK */, 0x1000, 0x2000, 8});
  mask.strings.emplace_back(1, std::string(8, 'm'));
  mask.outputs.push_back({0x2000, std::vector<uint8_t>(8)});
  CHECK(syscallbuf::check_call(mask).empty());
  CHECK_FALSE(syscallbuf::check_call(call(14, {2, 0x1000, 0, 16})).empty());  // sigsetsize 16: EINVAL, traced
  CHECK_FALSE(syscallbuf::check_call(call(16, {0, 0x5402 /* TCSETS */, 0}), true).empty());
}

TEST_CASE("syscallbuf: a shared object's pwrite64 says which object (RRX_RECORD_OBJECT_WRITE)") {
  syscallbuf::Call w;
  w.nr = 18;  // pwrite64(5, 0x1000, 6000, 8192) = 6000
  w.args[0] = 5;
  w.args[1] = 0x1000;
  w.args[2] = 6000;
  w.args[3] = 8192;
  w.ret = 6000;
  w.flags = RRX_RECORD_OBJECT_WRITE | RRX_RECORD_DATA_CRC;
  w.data_crc = 0x1234;
  w.reserved = 2;  // the second shared file of the facts
  auto bytes = syscallbuf::encode_record(w);
  auto got = syscallbuf::parse_records(bytes);
  REQUIRE(got.size() == 1);
  CHECK(got[0].reserved == 2);
  CHECK(got[0].strings.empty());
  CHECK(syscallbuf::check_call(got[0]).empty());
  syscallbuf::Call c = w;
  c.reserved = 0;  // which object: missing
  CHECK_FALSE(syscallbuf::check_call(c).empty());
  c.reserved = RRX_MAX_SHARED_FILES + 1;  // past the facts' list
  CHECK_FALSE(syscallbuf::check_call(c).empty());
  c = w;
  c.ret = 6001;  // more than it was given
  CHECK_FALSE(syscallbuf::check_call(c).empty());
  c = w;
  c.strings.emplace_back(1, "bytes");  // the bytes are the call's, not the record's
  CHECK_FALSE(syscallbuf::check_call(c).empty());
  c = w;
  c.ret = -28;  // ENOSPC: no crc of what it did not send
  c.flags = RRX_RECORD_OBJECT_WRITE;
  CHECK(syscallbuf::check_call(c).empty());
  c = w;
  c.nr = 1;  // write: its bytes go at the file position, which the record does not hold
  c.args[3] = 0;
  CHECK_FALSE(syscallbuf::check_call(c).empty());
  c = w;
  c.flags |= RRX_RECORD_TO_STDOUT;
  CHECK_FALSE(syscallbuf::check_call(c).empty());
}

TEST_CASE("syscallbuf: records round-trip and are checked against the table") {
  syscallbuf::Call a;
  a.nr = 228;  // clock_gettime(CLOCK_MONOTONIC, 0x1000)
  a.args[0] = 1;
  a.args[1] = 0x1000;
  a.outputs.push_back({0x1000, std::vector<uint8_t>(16, 0xab)});
  syscallbuf::Call b;
  b.nr = 110;  // getppid
  b.ret = 4242;
  syscallbuf::Call c;
  c.nr = 96;  // gettimeofday(0x2000, 0x3000): two outputs, the second 8 bytes (padding exercised)
  c.args[0] = 0x2000;
  c.args[1] = 0x3000;
  c.outputs.push_back({0x2000, std::vector<uint8_t>(16, 1)});
  c.outputs.push_back({0x3000, std::vector<uint8_t>(8, 2)});
  std::vector<uint8_t> bytes;
  for (const auto* call : {&a, &b, &c}) {
    auto r = syscallbuf::encode_record(*call);
    CHECK(r.size() % 8 == 0);
    bytes.insert(bytes.end(), r.begin(), r.end());
  }
  syscallbuf::Call d;
  d.nr = 262;  // newfstatat(AT_FDCWD, "/etc/passwd", 0x4000, 0): a path string and an output
  d.args[0] = static_cast<uint64_t>(-100);
  d.args[1] = 0x3000;
  d.args[2] = 0x4000;
  d.strings.emplace_back(1, "/etc/passwd");
  d.outputs.push_back({0x4000, std::vector<uint8_t>(144, 3)});
  {
    auto r = syscallbuf::encode_record(d);
    CHECK(r.size() % 8 == 0);
    bytes.insert(bytes.end(), r.begin(), r.end());
  }
  auto got = syscallbuf::parse_records(bytes);
  REQUIRE(got.size() == 4);
  CHECK(got[3].strings == d.strings);
  CHECK(got[3].outputs.size() == 1);
  CHECK(syscallbuf::check_call(got[3]).empty());
  syscallbuf::Call not_path = got[3];
  not_path.strings[0].first = 2;
  CHECK_FALSE(syscallbuf::check_call(not_path).empty());
  CHECK(got[0].nr == 228);
  CHECK(got[0].outputs.size() == 1);
  CHECK(got[0].outputs[0].bytes == std::vector<uint8_t>(16, 0xab));
  CHECK(got[1].ret == 4242);
  CHECK(got[2].outputs[1].addr == 0x3000);
  for (const auto& g : got) CHECK(syscallbuf::check_call(g).empty());

  SECTION("a record cut short is refused") {
    bytes.pop_back();
    CHECK_THROWS_AS(syscallbuf::parse_records(bytes), Error);
  }
  SECTION("a size that overruns its outputs is refused") {
    uint32_t size = 8;
    std::memcpy(bytes.data(), &size, 4);
    CHECK_THROWS_AS(syscallbuf::parse_records(bytes), Error);
  }
  SECTION("a call the table does not buffer is refused") {
    syscallbuf::Call mmap;
    mmap.nr = 9;
    CHECK_FALSE(syscallbuf::check_call(mmap).empty());
  }
  SECTION("outputs other than the table's are refused") {
    got[0].outputs[0].bytes.resize(8);
    CHECK_FALSE(syscallbuf::check_call(got[0]).empty());
    got[1].outputs.push_back({0x10, {1}});
    CHECK_FALSE(syscallbuf::check_call(got[1]).empty());
  }
  SECTION("a failed call has no outputs") {
    syscallbuf::Call failed = a;
    failed.ret = -22;
    CHECK_FALSE(syscallbuf::check_call(failed).empty());
    failed.outputs.clear();
    CHECK(syscallbuf::check_call(failed).empty());
  }
  SECTION("a null output pointer writes nothing") {
    syscallbuf::Call t;
    t.nr = 201;  // time(NULL)
    t.ret = 1700000000;
    CHECK(syscallbuf::check_call(t).empty());
  }
}

TEST_CASE("syscallbuf: the filter lets only the untraced instructions through, comparing the whole ip") {
  auto prog = record::fast_path_filter();
  seccomp::Data d;
  d.nr = 110;
  d.arch = AUDIT_ARCH_X86_64;
  d.ip = RRX_UNTRACED_IP;
  CHECK(seccomp::run(prog, d) == SECCOMP_RET_ALLOW);
  d.ip = RRX_RECORDING_ONLY_IP;  // the desched event's arm and disarm
  CHECK(seccomp::run(prog, d) == SECCOMP_RET_ALLOW);
  d.ip = RRX_TRACED_IP;
  CHECK(seccomp::run(prog, d) == SECCOMP_RET_TRACE);
  d.ip = RRX_UNTRACED_IP + (uint64_t{1} << 32);  // same low half
  CHECK(seccomp::run(prog, d) == SECCOMP_RET_TRACE);
  d.ip = RRX_RECORDING_ONLY_IP + (uint64_t{1} << 32);
  CHECK(seccomp::run(prog, d) == SECCOMP_RET_TRACE);
  d.ip = RRX_UNTRACED_IP;
  d.arch = AUDIT_ARCH_I386;
  CHECK(seccomp::run(prog, d) == SECCOMP_RET_TRACE);
}

TEST_CASE("syscallbuf: the hook sequence jumps through the entry slot, with a syscall for the calls it does not buffer") {
  const uint64_t site = 0x7ffff7e9a0b5;
  auto b = record::hook_sequence(0x7ffff7f00000, site);
  REQUIRE(b.size() == record::kHookSequenceBytes);
  // lea rcx, [rip + 9]: the end of the sequence (after the jmp and the syscall).
  CHECK(std::vector<uint8_t>(b.begin(), b.begin() + 7) == std::vector<uint8_t>{0x48, 0x8d, 0x0d, 9, 0, 0, 0});
  // jmp qword ptr [disp32] with the slot's address.
  CHECK(std::vector<uint8_t>(b.begin() + 7, b.begin() + 10) == std::vector<uint8_t>{0xff, 0x24, 0x25});
  uint32_t slot = 0;
  std::memcpy(&slot, &b[10], 4);
  CHECK(slot == RRX_HOOK_ENTRY_SLOT);
  // syscall: where the hook sends a call back to be made traced (rcx - 2).
  CHECK(b[14] == 0x0f);
  CHECK(b[15] == 0x05);
}

TEST_CASE("syscallbuf: the library's CRC of sent bytes is the recorder's digest, with and without the crc32 instruction") {
  std::string data;
  for (int i = 0; i < 5000; ++i) data.push_back(static_cast<char>((i * 131 + i / 7) & 0xff));
  struct Iov {
    const void* base;
    uint64_t len;
  } iov[3] = {{data.data(), 7}, {data.data() + 7, 0}, {data.data() + 7, data.size() - 7}};
  const bool insn_here = __builtin_cpu_supports("sse4.2");
  for (uint64_t len : {uint64_t{0}, uint64_t{1}, uint64_t{9}, uint64_t{4096}, uint64_t{5000}}) {
    INFO("len " << len);
    const uint32_t want = crc32c(data.data(), len);
    for (int insn : {0, 1}) {
      if (insn && !insn_here) continue;
      int ok = 0;
      uint64_t buf_args[6] = {1, reinterpret_cast<uint64_t>(data.data()), len, 0, 0, 0};
      CHECK(rrx_sent_crc(RRX_SENDS_BUF, buf_args, len, insn, &ok) == want);
      CHECK(ok);
      uint64_t iov_args[6] = {1, reinterpret_cast<uint64_t>(iov), 3, 0, 0, 0};
      CHECK(rrx_sent_crc(RRX_SENDS_IOVEC, iov_args, len, insn, &ok) == want);
      CHECK(ok);
      // The same as core/output_digest.h's digest of the same call.
      const sys::SyscallDesc* writev = sys::lookup(SYS_writev);
      sys::CallView call{SYS_writev, {}, static_cast<int64_t>(len)};
      std::memcpy(call.args, iov_args, sizeof call.args);
      class SelfMemory : public sys::MemReader {
       public:
        bool read(uint64_t addr, void* out, size_t n) override {
          std::memcpy(out, reinterpret_cast<const void*>(addr), n);
          return true;
        }
      } self;
      auto digest = sent_digest(*writev, call, self);
      REQUIRE(digest);
      CHECK(digest->crc == want);
    }
  }
  // Iovecs that hold fewer bytes than the result: no crc.
  int ok = 1;
  uint64_t short_args[6] = {1, reinterpret_cast<uint64_t>(iov), 1, 0, 0, 0};
  rrx_sent_crc(RRX_SENDS_IOVEC, short_args, 100, 0, &ok);
  CHECK(!ok);
}

TEST_CASE("syscallbuf: the replayer feeds the buffers of libraries whose replay side is this one's") {
  // Version 13 changed only the recording's side (INIT_BUFFER's answer, the
  // rules): traces recorded with version 12 still replay without a stop per call.
  CHECK(!rrx_feedable_version(11));
  CHECK(rrx_feedable_version(12));
  CHECK(rrx_feedable_version(RRX_SYSCALLBUF_VERSION));
  CHECK(!rrx_feedable_version(RRX_SYSCALLBUF_VERSION + 1));
}
