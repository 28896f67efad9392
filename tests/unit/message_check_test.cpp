// Unit tests of message_certainly_fine (trace_format/message_check.h): it
// accepts the messages rrx writes, and nothing it accepts fails capnp's own
// walk of every pointer (the reader's full check).
#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

#include "trace_format/message_check.h"
#include "trace_format/trace.capnp.h"

using rrx::trace::message_certainly_fine;
namespace schema = rrx::schema;

namespace {

// What the reader's full check rejects (trace_reader.cpp's check_pointer),
// through capnp's readers: throws on any fault.
void full_walk(capnp::AnyPointer::Reader p) {
  switch (p.getPointerType()) {
    case capnp::PointerType::NULL_: return;
    case capnp::PointerType::CAPABILITY: throw std::runtime_error("capability");
    case capnp::PointerType::STRUCT:
      for (auto q : p.getAs<capnp::AnyStruct>().getPointerSection()) full_walk(q);
      return;
    case capnp::PointerType::LIST: {
      auto list = p.getAs<capnp::AnyList>();
      switch (list.getElementSize()) {
        case capnp::ElementSize::VOID:
          if (list.size() > 1024) throw std::runtime_error("voids");
          return;
        case capnp::ElementSize::POINTER:
          for (auto e : list.as<capnp::List<capnp::AnyPointer>>()) full_walk(e);
          return;
        case capnp::ElementSize::INLINE_COMPOSITE: {
          auto structs = list.as<capnp::List<capnp::AnyStruct>>();
          if (structs.size() > 1024 && structs[0].getDataSection().size() == 0 &&
              structs[0].getPointerSection().size() == 0)
            throw std::runtime_error("empty structs");
          for (auto e : structs)
            for (auto q : e.getPointerSection()) full_walk(q);
          return;
        }
        default: return;
      }
    }
  }
}

bool full_check(const std::vector<capnp::word>& words) {
  try {
    capnp::ReaderOptions o;
    o.traversalLimitInWords = uint64_t{1} << 30;
    o.nestingLimit = 64;
    capnp::FlatArrayMessageReader reader(kj::ArrayPtr<const capnp::word>(words.data(), words.size()), o);
    full_walk(reader.getRoot<capnp::AnyPointer>());
    return true;
  } catch (...) {
    return false;
  }
}

std::vector<capnp::word> flat(capnp::MessageBuilder& m) {
  auto a = capnp::messageToFlatArray(m);
  return std::vector<capnp::word>(a.begin(), a.end());
}

// A buffered read as the recorder writes it: args, one memory write, a path.
std::vector<capnp::word> syscall_event(size_t data_len, bool with_string) {
  capnp::MallocMessageBuilder m;
  auto ev = m.initRoot<schema::Event>();
  ev.setTid(1234);
  ev.setPid(1234);
  auto sc = ev.initSyscall();
  sc.setNr(0);
  auto args = sc.initArgs(6);
  for (unsigned i = 0; i < 6; ++i) args.set(i, 0x1000 * i + 7);
  sc.setRet(static_cast<int64_t>(data_len));
  sc.setFlags(1u << 7);
  auto writes = sc.initMemWrites(1);
  std::vector<uint8_t> data(data_len);
  for (size_t i = 0; i < data_len; ++i) data[i] = static_cast<uint8_t>(i * 31);
  writes[0].setAddr(0x7ffe0000);
  writes[0].setData(kj::arrayPtr(data.data(), data.size()));
  if (with_string) {
    auto strs = sc.initStrings(1);
    strs[0].setArg(1);
    const char path[] = "/etc/passwd";
    strs[0].setValue(kj::arrayPtr(reinterpret_cast<const uint8_t*>(path), sizeof path - 1));
  }
  return flat(m);
}

std::vector<capnp::word> words_of(std::initializer_list<uint64_t> v) {
  std::vector<capnp::word> w(v.size());
  std::memcpy(static_cast<void*>(w.data()), std::data(v), v.size() * 8);
  return w;
}

uint64_t one_segment(uint32_t words) { return uint64_t{words} << 32; }

}  // namespace

TEST_CASE("message_check: the messages rrx writes are certainly fine") {
  for (size_t len : {0, 1, 7, 8, 512, 4096}) {
    for (bool str : {false, true}) {
      auto w = syscall_event(len, str);
      CHECK(message_certainly_fine(w.data(), w.size()));
      CHECK(full_check(w));
    }
  }
  capnp::MallocMessageBuilder m;
  m.initRoot<schema::Event>().setWarning("a warning");
  auto w = flat(m);
  CHECK(message_certainly_fine(w.data(), w.size()));
}

TEST_CASE("message_check: not sure of what the full check rejects, and of more than one segment") {
  SECTION("an empty message, a segment table claiming too much") {
    auto w = words_of({one_segment(0)});
    CHECK(!message_certainly_fine(w.data(), w.size()));
    w = words_of({one_segment(5), 0});
    CHECK(!message_certainly_fine(w.data(), w.size()));
  }
  SECTION("root pointer out of bounds, or before the segment") {
    auto w = words_of({one_segment(1), (uint64_t{1000} << 2) | (uint64_t{1} << 32)});
    CHECK(!message_certainly_fine(w.data(), w.size()));
    w = words_of({one_segment(2), static_cast<uint64_t>(static_cast<uint32_t>(-8 * 4)) | (uint64_t{1} << 32), 0});
    CHECK(!message_certainly_fine(w.data(), w.size()));
  }
  SECTION("many empty structs or voids") {
    auto w = words_of({one_segment(3), uint64_t{1} << 48, 1 | (uint64_t{7} << 32), uint64_t{100000} << 2});
    CHECK(!message_certainly_fine(w.data(), w.size()));
    CHECK(!full_check(w));
    w = words_of({one_segment(2), uint64_t{1} << 48, 1 | (uint64_t{1000000} << 35)});
    CHECK(!message_certainly_fine(w.data(), w.size()));
    w = words_of({one_segment(2), uint64_t{1} << 48, 1 | (uint64_t{1000} << 35)});  // a thousand: fine
    CHECK(message_certainly_fine(w.data(), w.size()));
    CHECK(full_check(w));
  }
  SECTION("a capability") {
    auto w = words_of({one_segment(2), uint64_t{1} << 48, 3});
    CHECK(!message_certainly_fine(w.data(), w.size()));
    CHECK(!full_check(w));
  }
  SECTION("a far pointer (a message of two segments)") {
    capnp::MallocMessageBuilder m(1, capnp::AllocationStrategy::FIXED_SIZE);  // one-word segments
    auto ev = m.initRoot<schema::Event>();
    ev.initSyscall().initArgs(6);
    auto w = flat(m);
    REQUIRE(m.getSegmentsForOutput().size() > 1);
    CHECK(!message_certainly_fine(w.data(), w.size()));
    CHECK(full_check(w));  // (the full check decides: fine)
  }
  SECTION("pointers that share a target: more work than the message's size") {
    // Root: a list of 200 pointers, each to the same 1-word struct after it.
    std::vector<uint64_t> v{one_segment(203), 1 | (uint64_t{6} << 32) | (uint64_t{200} << 35)};
    for (uint64_t i = 0; i < 200; ++i) {
      const int64_t off = 201 - (static_cast<int64_t>(i) + 1 + 1);  // to word 201, from after word 1+i
      v.push_back((static_cast<uint64_t>(static_cast<uint32_t>(off << 2))) | (uint64_t{1} << 32));
    }
    v.push_back(42);
    v.push_back(0);
    std::vector<capnp::word> w(v.size());
    std::memcpy(static_cast<void*>(w.data()), v.data(), v.size() * 8);
    CHECK(!message_certainly_fine(w.data(), w.size()));
    CHECK(full_check(w));
  }
}

TEST_CASE("message_check: nothing it accepts fails the full check (random damage)") {
  std::mt19937_64 rng(12345);
  const std::vector<std::vector<capnp::word>> seeds = {syscall_event(0, true), syscall_event(13, false),
                                                       syscall_event(512, true)};
  size_t accepted = 0, damaged_accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    auto w = seeds[static_cast<size_t>(round) % seeds.size()];
    auto* bytes = reinterpret_cast<unsigned char*>(w.data());
    const size_t n = w.size() * 8;
    // Mostly the pointer words near the start (where damage changes the walk).
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < flips; ++i) {
      const size_t at = rng() % 2 ? rng() % std::min<size_t>(n, 96) : rng() % n;
      bytes[at] ^= static_cast<unsigned char>(1u << (rng() % 8));
    }
    if (message_certainly_fine(w.data(), w.size())) {
      ++accepted;
      INFO("round " << round);
      REQUIRE(full_check(w));
      const auto& seed = seeds[static_cast<size_t>(round) % seeds.size()];
      if (std::memcmp(w.data(), seed.data(), n) != 0) ++damaged_accepted;
    }
  }
  CHECK(accepted > 0);
  CHECK(damaged_accepted > 0);  // (damage to data bytes leaves a message well-formed)
}
