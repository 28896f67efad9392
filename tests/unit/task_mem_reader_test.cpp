// The recorder's answers to the syscall table's questions about a tracee
// (core/task_mem_reader.cpp), asked here about the test process itself:
// which parts of a range are file mappings, /proc/P/mem files and their
// position, the size of a SysV semaphore set.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "core/ptrace_task.h"

using rrx::Task;
using rrx::TaskMemReader;
using rrx::sys::Range;

TEST_CASE("task_mem_reader: file and shared mappings in a range, private anonymous memory left out") {
  Task self(getpid());
  TaskMemReader reader(self);
  const size_t page = 4096;
  // Three pages: anonymous, then a private file mapping over the middle one.
  char* base = static_cast<char*>(mmap(nullptr, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  REQUIRE(base != MAP_FAILED);
  char path[] = "/tmp/rrx-task-mem-reader-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  unlink(path);
  REQUIRE(ftruncate(fd, page) == 0);
  REQUIRE(mmap(base + page, page, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0) == base + page);
  const uint64_t b = reinterpret_cast<uint64_t>(base);
  CHECK(reader.backed_ranges(b, 3 * page) == std::vector<Range>{{b + page, page}});
  CHECK(reader.backed_ranges(b, page).empty());
  CHECK(reader.backed_ranges(b + page + 100, 50) == std::vector<Range>{{b + page + 100, 50}});
  // A shared anonymous mapping is not private: its pages stay as they are after DONTNEED.
  REQUIRE(mmap(base + 2 * page, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
          base + 2 * page);
  CHECK(reader.backed_ranges(b, 3 * page) == std::vector<Range>{{b + page, 2 * page}});
  munmap(base, 3 * page);
  close(fd);
}

TEST_CASE("task_mem_reader: /proc/PID/mem files and their position") {
  Task self(getpid());
  TaskMemReader reader(self);
  int mem = open("/proc/self/mem", O_RDWR);
  REQUIRE(mem >= 0);
  static char target[16];
  REQUIRE(lseek(mem, reinterpret_cast<off_t>(target), SEEK_SET) == reinterpret_cast<off_t>(target));
  auto f = reader.mem_file(mem);
  REQUIRE(f.has_value());
  CHECK(f->pid == getpid());
  CHECK(f->pos == reinterpret_cast<uint64_t>(target));
  close(mem);
  const std::string task_mem = "/proc/self/task/" + std::to_string(gettid()) + "/mem";
  int tmem = open(task_mem.c_str(), O_RDONLY);
  REQUIRE(tmem >= 0);
  auto t = reader.mem_file(tmem);
  REQUIRE(t.has_value());
  CHECK(t->pid == getpid());
  close(tmem);
  // Not a mem file: a regular file, /proc/self/maps, a closed fd.
  int maps = open("/proc/self/maps", O_RDONLY);
  CHECK_FALSE(reader.mem_file(maps).has_value());
  close(maps);
  CHECK_FALSE(reader.mem_file(0x7ffff).has_value());
  CHECK_FALSE(reader.mem_file(-1).has_value());
}

TEST_CASE("task_mem_reader: the size of a SysV semaphore set") {
  Task self(getpid());
  TaskMemReader reader(self);
  int id = semget(IPC_PRIVATE, 5, IPC_CREAT | 0600);
  REQUIRE(id >= 0);
  CHECK(reader.semaphore_count(id) == std::optional<uint64_t>(5));
  semctl(id, 0, IPC_RMID);
  // A set that is gone: an upper bound (SEMMSL), never less than a set can hold.
  auto bound = reader.semaphore_count(id);
  REQUIRE(bound.has_value());
  CHECK(*bound >= 5);
}
