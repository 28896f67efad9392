// The syscall buffer's protocol: the preload library's list of buffered calls
// against the syscall table's kBuffered column, records encoded and parsed
// back, malformed records refused, the table check of each call, and the
// fast path's seccomp filter.
#include <catch2/catch.hpp>
#include <linux/audit.h>
#include <linux/seccomp.h>

#include <cstring>
#include <set>

#include "core/error.h"
#include "core/syscall_table.h"
#include "core/syscallbuf.h"
#include "core/syscallbuf_abi.h"
#include "record/syscallbuf_hook.h"
#include "record/syscallbuf_record.h"

using namespace rrx;

namespace {
const rrx_buffered_call kLibraryCalls[] = {RRX_BUFFERED_CALLS};
}

TEST_CASE("syscallbuf: the library buffers exactly the table's kBuffered calls, with the table's outputs") {
  std::set<int> table_set, library_set;
  for (const auto& d : sys::table()) {
    if (d.flags & sys::kBuffered) table_set.insert(d.nr);
  }
  for (const auto& c : kLibraryCalls) {
    library_set.insert(c.nr);
    const sys::SyscallDesc* d = sys::lookup(c.nr);
    REQUIRE(d);
    INFO(d->name);
    CHECK_FALSE(d->flags & sys::kMayBlock);
    CHECK(d->replay == sys::Replay::Emulate);
    CHECK(d->outputs == nullptr);
    for (int i = 0; i < 2; ++i) {
      if (c.out_arg[i] < 0) {
        CHECK(d->out[i].size == sys::SizeFrom::None);
        continue;
      }
      CHECK(d->out[i].size == sys::SizeFrom::Fixed);
      CHECK(d->out[i].arg == c.out_arg[i]);
      CHECK(d->out[i].n == c.out_len[i]);
    }
    CHECK(d->out[2].size == sys::SizeFrom::None);
  }
  CHECK(table_set == library_set);
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
  auto got = syscallbuf::parse_records(bytes);
  REQUIRE(got.size() == 3);
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
    syscallbuf::Call open;
    open.nr = 2;
    CHECK_FALSE(syscallbuf::check_call(open).empty());
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

TEST_CASE("syscallbuf: the filter lets only the untraced instruction through, comparing the whole ip") {
  auto prog = record::fast_path_filter();
  seccomp::Data d;
  d.nr = 110;
  d.arch = AUDIT_ARCH_X86_64;
  d.ip = RRX_UNTRACED_IP;
  CHECK(seccomp::run(prog, d) == SECCOMP_RET_ALLOW);
  d.ip = RRX_TRACED_IP;
  CHECK(seccomp::run(prog, d) == SECCOMP_RET_TRACE);
  d.ip = RRX_UNTRACED_IP + (uint64_t{1} << 32);  // same low half
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
