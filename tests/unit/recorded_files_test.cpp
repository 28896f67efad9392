// RecordedFiles: which trace copy stands for a path the recording used, at
// which point of the recording (the gdb stub's Host I/O and rrx sources).
#include <catch2/catch.hpp>

#include <capnp/message.h>
#include <sys/syscall.h>

#include "trace_format/recorded_files.h"
#include "trace_format/trace_writer.h"
#include "trace_test_util.h"

using namespace rrx::trace;
using rrx::trace::test::TempDir;

namespace {

void exec_event(TraceWriter& w, int pid, const char* exe, const char* hash, const char* interp, const char* ihash) {
  capnp::MallocMessageBuilder m;
  auto ev = m.initRoot<rrx::schema::Event>();
  ev.setTid(pid);
  ev.setPid(pid);
  auto ex = ev.initExec();
  ex.setExePath(exe);
  ex.setExeHash(hash);
  ex.setInterpPath(interp);
  ex.setInterpHash(ihash);
  w.append(m);
}

void open_event(TraceWriter& w, int pid, const char* path, int fd) {
  capnp::MallocMessageBuilder m;
  auto ev = m.initRoot<rrx::schema::Event>();
  ev.setTid(pid);
  ev.setPid(pid);
  auto s = ev.initSyscall();
  s.setNr(SYS_openat);
  auto args = s.initArgs(6);
  args.set(0, static_cast<uint64_t>(-100));
  s.setRet(fd);
  auto strs = s.initStrings(1);
  strs[0].setArg(1);
  strs[0].setValue(kj::arrayPtr(reinterpret_cast<const capnp::byte*>(path), strlen(path) + 1));
  w.append(m);
}

void close_event(TraceWriter& w, int pid, int fd) {
  capnp::MallocMessageBuilder m;
  auto ev = m.initRoot<rrx::schema::Event>();
  ev.setTid(pid);
  ev.setPid(pid);
  auto s = ev.initSyscall();
  s.setNr(SYS_close);
  s.initArgs(6).set(0, static_cast<uint64_t>(fd));
  w.append(m);
}

void mmap_event(TraceWriter& w, int pid, int fd, const char* map_path, const char* hash, bool range_only = false) {
  capnp::MallocMessageBuilder m;
  auto ev = m.initRoot<rrx::schema::Event>();
  ev.setTid(pid);
  ev.setPid(pid);
  auto s = ev.initSyscall();
  s.setNr(SYS_mmap);
  auto args = s.initArgs(6);
  args.set(4, static_cast<uint64_t>(fd));
  s.setRet(0x7f0000000000);
  auto fm = s.initMapping();
  fm.setContentHash(hash);
  fm.setPath(map_path);
  fm.setRangeOnly(range_only);
  w.append(m);
}

}  // namespace

TEST_CASE("recorded files: paths, link-map aliases, versions over time, /proc/PID/exe") {
  TempDir tmp;
  capnp::MallocMessageBuilder hb;
  rrx::trace::test::fill_header(hb.initRoot<rrx::schema::Header>());
  {
    TraceWriter w(tmp.path(), hb);
    exec_event(w, 10, "/build/prog", "00000000000000a1", "/lib64/ld-linux-x86-64.so.2", "00000000000000a2");  // 0
    open_event(w, 10, "/lib/x86_64-linux-gnu/libc.so.6", 3);                                               // 1
    mmap_event(w, 10, 3, "/usr/lib/x86_64-linux-gnu/libc.so.6", "00000000000000b1");                      // 2
    close_event(w, 10, 3);                                                                                 // 3
    open_event(w, 10, "/build/plugin.so", 3);                                                              // 4
    mmap_event(w, 10, 3, "/build/plugin.so", "00000000000000c1");                                         // 5
    close_event(w, 10, 3);                                                                                 // 6
    mmap_event(w, 10, 3, "/data/huge", "00000000000000d1", /*range_only=*/true);                          // 7: fd closed
    mmap_event(w, 10, 3, "/build/plugin.so", "00000000000000c2");                                         // 8: rebuilt
    exec_event(w, 10, "/build/other", "00000000000000e1", "", "");                                         // 9
    w.close(0, "exited");
  }
  RecordedFiles files(tmp.path());
  files.read_until(3);  // events 0-2
  CHECK(files.find("/build/prog", 10, 3)->hash == "00000000000000a1");
  CHECK(files.find("/lib64/ld-linux-x86-64.so.2", 10, 3)->hash == "00000000000000a2");
  CHECK(files.find("/usr/lib/x86_64-linux-gnu/libc.so.6", 10, 3)->hash == "00000000000000b1");
  // The path ld.so opened, as the link map names it, and lexical variants.
  CHECK(files.find("/lib/x86_64-linux-gnu/libc.so.6", 10, 3)->hash == "00000000000000b1");
  CHECK(files.find("/lib/x86_64-linux-gnu/../x86_64-linux-gnu//libc.so.6", 10, 3)->hash == "00000000000000b1");
  CHECK_FALSE(files.find("/build/plugin.so", 10, 3));  // not read yet
  CHECK(files.find("/proc/10/exe", 10, 3)->hash == "00000000000000a1");
  CHECK(files.find("/proc/self/exe", 10, 3)->hash == "00000000000000a1");
  CHECK(*files.proc_exe("/proc/10/exe", 0, 3) == "/build/prog");
  CHECK_FALSE(files.proc_exe("/proc/10/maps", 10, 3));
  CHECK_FALSE(files.find("/proc/99/exe", 10, 3));

  files.read_until(UINT64_MAX);
  // The plugin as each point of the recording had it.
  CHECK(files.find("/build/plugin.so", 10, 6)->hash == "00000000000000c1");
  CHECK(files.find("/build/plugin.so", 10, 9)->hash == "00000000000000c2");
  CHECK(files.find("/build/plugin.so", 10, 1)->hash == "00000000000000c1");  // before any: the first
  // A copy of part of a file does not stand for the file.
  CHECK_FALSE(files.find("/data/huge", 10, 9));
  CHECK_FALSE(files.recorded("/data/huge"));
  // The mmap of a closed fd is not named by the fd's old path.
  CHECK(files.find("/proc/10/exe", 10, 20)->hash == "00000000000000e1");
  CHECK(files.find("/proc/10/exe", 10, 5)->hash == "00000000000000a1");
  CHECK_FALSE(files.find("/nowhere", 10, 20));

  std::vector<std::string> hashes;
  for (const auto& c : files.copies()) hashes.push_back(c.hash);
  CHECK(hashes == std::vector<std::string>{"00000000000000a1", "00000000000000a2", "00000000000000b1",
                                           "00000000000000c1", "00000000000000c2", "00000000000000e1"});
  CHECK(files.copies()[2].paths ==
        std::vector<std::string>{"/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"});
}

TEST_CASE("recorded files: a directory that is not a trace is an error") {
  TempDir tmp;
  CHECK_THROWS(RecordedFiles(tmp.path()));
}
