// Shared by the syscall table's unit tests: a fake tracee (memory regions at
// fixed addresses, and the kernel facts a handler may ask for) and helpers
// that compute a call's output ranges from its row.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/syscall_table.h"

namespace rrx::sys::test {

// Tracee memory for the walks: a few regions at fixed addresses.
class FakeMem : public MemReader {
 public:
  void put(uint64_t addr, const void* data, size_t len) {
    regions_[addr].assign(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + len);
  }
  template <typename T>
  void put_value(uint64_t addr, const T& v) {
    put(addr, &v, sizeof v);
  }
  bool read(uint64_t addr, void* buf, size_t len) override {
    ++reads;
    for (const auto& [base, bytes] : regions_) {
      if (addr >= base && addr + len <= base + bytes.size()) {
        std::memcpy(buf, bytes.data() + (addr - base), len);
        return true;
      }
    }
    return false;
  }
  std::optional<uint64_t> semaphore_count(int semid) override {
    auto it = semaphores.find(semid);
    if (it == semaphores.end()) return std::nullopt;
    return it->second;
  }
  std::vector<Range> backed_ranges(uint64_t addr, uint64_t len) override {
    std::vector<Range> out;
    for (const Range& b : backed) {
      const uint64_t from = std::max(addr, b.addr), to = std::min(addr + len, b.addr + b.len);
      if (from < to) out.push_back({from, to - from});
    }
    return out;
  }
  std::optional<MemFile> mem_file(int fd) override {
    auto it = mem_files.find(fd);
    if (it == mem_files.end()) return std::nullopt;
    return it->second;
  }
  int reads = 0;
  std::map<int, uint64_t> semaphores;  // semid -> sem_nsems
  std::vector<Range> backed;           // file or shared mappings
  std::map<int, MemFile> mem_files;    // fd -> /proc/P/mem

 private:
  std::map<uint64_t, std::vector<uint8_t>> regions_;
};

inline CallView call(int64_t nr, std::initializer_list<uint64_t> args, int64_t ret) {
  CallView c{};
  c.nr = nr;
  int i = 0;
  for (uint64_t a : args) c.args[i++] = a;
  c.ret = ret;
  return c;
}

inline std::vector<Range> ranges(int64_t nr, std::initializer_list<uint64_t> args, int64_t ret, MemReader& mem) {
  const SyscallDesc* d = lookup(nr);
  REQUIRE(d != nullptr);
  return output_ranges(*d, call(nr, args, ret), mem);
}

inline std::vector<Range> ranges(int64_t nr, std::initializer_list<uint64_t> args, int64_t ret) {
  FakeMem mem;
  return ranges(nr, args, ret, mem);
}

using Ranges = std::vector<Range>;

}  // namespace rrx::sys::test

namespace Catch {
template <>
struct StringMaker<rrx::sys::Range> {
  static std::string convert(const rrx::sys::Range& r) {
    char buf[96];
    if (r.pid != 0)
      snprintf(buf, sizeof buf, "{%#llx, %llu, pid %d}", (unsigned long long)r.addr, (unsigned long long)r.len, r.pid);
    else
      snprintf(buf, sizeof buf, "{%#llx, %llu}", (unsigned long long)r.addr, (unsigned long long)r.len);
    return buf;
  }
};
}  // namespace Catch


using namespace rrx::sys;
using namespace rrx::sys::test;
