// core/proc_maps: the one parser of /proc/PID/maps, on lines of every shape
// the kernel writes and on this process's own maps.
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>

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

TEST_CASE("proc_maps: bounds and writable shared file maps agree with the text", "[proc_maps]") {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  char path[] = "/tmp/rrx-proc-maps-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  ::unlink(path);
  REQUIRE(ftruncate(fd, static_cast<off_t>(4 * page)) == 0);
  struct stat st {};
  REQUIRE(fstat(fd, &st) == 0);
  const pid_t self = getpid();
  auto shared_rw = [&]() {
    return rrx::maps_file_writable_shared(self, major(st.st_dev), minor(st.st_dev), st.st_ino);
  };
  // What the text says: a line naming the inode with 'w' and 's'.
  auto text_says = [&]() {
    for (const auto& m : rrx::read_proc_maps(self)) {
      if (m.inode == st.st_ino && m.dev_major == major(st.st_dev) && m.dev_minor == minor(st.st_dev) && m.writable() &&
          m.shared())
        return true;
    }
    return false;
  };
  // (nullopt: a kernel before 6.11, where callers read the text.)
  auto agrees = [&](bool want) {
    CHECK(text_says() == want);
    auto got = shared_rw();
    if (got) CHECK(*got == want);
  };
  agrees(false);
  void* ro = mmap(nullptr, page, PROT_READ, MAP_SHARED, fd, 0);  // shared, not writable
  void* priv = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);  // writable, not shared
  REQUIRE(ro != MAP_FAILED);
  REQUIRE(priv != MAP_FAILED);
  agrees(false);
  void* rw = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, page);
  REQUIRE(rw != MAP_FAILED);
  agrees(true);
  // Another file's writable shared map does not count.
  CHECK(rrx::maps_file_writable_shared(self, major(st.st_dev), minor(st.st_dev), st.st_ino + 1).value_or(false) == false);
  // A process that is gone: no mapping.
  CHECK(rrx::maps_file_writable_shared(-1, major(st.st_dev), minor(st.st_dev), st.st_ino).value_or(false) == false);

  const auto at = reinterpret_cast<uint64_t>(rw) + page;
  auto b = rrx::proc_mapping_bounds(self, at);
  auto m = rrx::proc_mapping_at(self, at);
  REQUIRE(b);
  REQUIRE(m);
  CHECK(b->first == m->start);
  CHECK(b->second == m->end);
  CHECK(!rrx::proc_mapping_bounds(self, 0));
  CHECK(!rrx::proc_mapping_bounds(-1, at));
  munmap(rw, 2 * page);
  munmap(priv, page);
  munmap(ro, page);
  close(fd);
}

TEST_CASE("proc_maps: a mapping asked for alone is the one the text shows", "[proc_maps]") {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  char path[] = "/tmp/rrx proc maps XXXXXX";  // (a space in the name)
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(ftruncate(fd, static_cast<off_t>(2 * page)) == 0);
  void* shared = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, static_cast<off_t>(page));
  REQUIRE(shared != MAP_FAILED);
  ::unlink(path);  // " (deleted)" in both
  const pid_t self = getpid();
  auto maps = rrx::read_proc_maps(self);
  REQUIRE(maps.size() > 5);
  for (const auto& want : maps) {
    for (uint64_t at : {want.start, want.end - 1}) {
      auto got = rrx::query_proc_mapping(self, at);
      INFO(want.path << " at " << at);
      REQUIRE(got);
      CHECK(got->start == want.start);
      CHECK(got->end == want.end);
      CHECK(std::string(got->perms) == std::string(want.perms));
      CHECK(got->offset == want.offset);
      CHECK(got->dev_major == want.dev_major);
      CHECK(got->dev_minor == want.dev_minor);
      CHECK(got->inode == want.inode);
      CHECK(got->path == want.path);
    }
  }
  CHECK(!rrx::query_proc_mapping(self, 0));
  CHECK(!rrx::query_proc_mapping(-1, maps[0].start));
  munmap(shared, page);
  close(fd);
}
