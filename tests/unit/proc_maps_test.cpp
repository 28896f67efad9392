// core/proc_maps: the one parser of /proc/PID/maps, on lines of every shape
// the kernel writes and on this process's own maps.
#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "core/proc_maps.h"

using rrx::parse_proc_maps_line;

TEST_CASE("proc_maps: lines of every shape", "[proc_maps]") {
  auto file = parse_proc_maps_line(
      "7f1c2a000000-7f1c2a028000 r-xp 00028000 fd:01 1835082                    /usr/lib/x86_64-linux-gnu/libc.so.6");
  REQUIRE(file);
  CHECK(file->start == 0x7f1c2a000000);
  CHECK(file->end == 0x7f1c2a028000);
  CHECK(file->readable());
  CHECK(!file->writable());
  CHECK(file->executable());
  CHECK(!file->shared());
  CHECK(file->offset == 0x28000);
  CHECK(file->dev_major == 0xfd);
  CHECK(file->dev_minor == 0x01);
  CHECK(file->inode == 1835082);
  CHECK(file->path == "/usr/lib/x86_64-linux-gnu/libc.so.6");
  CHECK(!file->private_anonymous());

  auto anon = parse_proc_maps_line("7ffd1000-7ffd3000 rw-p 00000000 00:00 0 ");
  REQUIRE(anon);
  CHECK(anon->path.empty());
  CHECK(anon->private_anonymous());

  auto stack = parse_proc_maps_line("7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]");
  REQUIRE(stack);
  CHECK(stack->path == "[stack]");
  CHECK(stack->private_anonymous());

  auto shm = parse_proc_maps_line("7f0000000000-7f0000001000 rw-s 00000003 00:01 4242  /dev/shm/a b (deleted)");
  REQUIRE(shm);
  CHECK(shm->shared());
  CHECK(shm->offset == 3);
  CHECK(shm->path == "/dev/shm/a b (deleted)");  // spaces and the (deleted) mark kept
  CHECK(!shm->private_anonymous());

  auto vsyscall = parse_proc_maps_line("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]");
  REQUIRE(vsyscall);
  CHECK(vsyscall->end == 0xffffffffff601000);

  CHECK(!parse_proc_maps_line(""));
  CHECK(!parse_proc_maps_line("garbage"));
  CHECK(!parse_proc_maps_line("2000-1000 rw-p 00000000 00:00 0"));  // end before start
}

TEST_CASE("proc_maps: this process's own mappings", "[proc_maps]") {
  const long page = sysconf(_SC_PAGESIZE);
  void* p = mmap(nullptr, static_cast<size_t>(page) * 3, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(p != MAP_FAILED);
  const auto addr = reinterpret_cast<uint64_t>(p);
  auto maps = rrx::read_proc_maps(getpid());
  REQUIRE(!maps.empty());
  for (size_t i = 1; i < maps.size(); ++i) CHECK(maps[i - 1].end <= maps[i].start);
  auto m = rrx::proc_mapping_at(getpid(), addr + static_cast<uint64_t>(page));
  REQUIRE(m);
  CHECK(m->start <= addr);
  CHECK(m->end >= addr + 3 * static_cast<uint64_t>(page));
  CHECK(m->shared());
  CHECK(m->writable());
  CHECK(rrx::read_proc_maps(-1).empty());
  CHECK(!rrx::proc_mapping_at(getpid(), 0));
  munmap(p, static_cast<size_t>(page) * 3);
}
