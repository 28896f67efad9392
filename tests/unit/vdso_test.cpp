// core/vdso.h on live children: the vDSO's time functions become syscall
// stubs that still answer, and a second process whose vDSO is the same
// image gets the same patched bytes (the remembered patch: one write).
#include <signal.h>
#include <sys/auxv.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <string>

#include "core/ptrace_task.h"
#include "core/vdso.h"

namespace {

struct StoppedChild {
  pid_t pid;
  StoppedChild() : pid(fork()) {
    if (pid == 0) {
      ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
      raise(SIGSTOP);
      struct timespec ts {};
      // Through the vDSO's clock_gettime, now a syscall stub.
      _exit(clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec > 1000000000 ? 0 : 1);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSTOPPED(status));
  }
  int finish() {
    ptrace(PTRACE_CONT, pid, nullptr, nullptr);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

std::string read_image(rrx::Task& t, uint64_t base, size_t n) {
  std::string s(n, '\0');
  REQUIRE(t.read_exact(base, s.data(), s.size()));
  return s;
}

}  // namespace

TEST_CASE("vdso: patched stubs still answer, the same image is patched the same in the next process") {
  const uint64_t base = getauxval(AT_SYSINFO_EHDR);
  if (base == 0) {
    WARN("no vDSO");
    return;
  }
  StoppedChild a;
  rrx::Task ta(a.pid);
  std::vector<std::string> names_a = rrx::patch_vdso(ta, base);
  CHECK(!names_a.empty());
  const uint64_t spare_a = rrx::vdso_spare_bytes(ta, base, 64);
  std::string image_a = read_image(ta, base, 4096);
  StoppedChild b;
  rrx::Task tb(b.pid);
  std::vector<std::string> names_b = rrx::patch_vdso(tb, base);
  CHECK(names_b == names_a);
  CHECK(rrx::vdso_spare_bytes(tb, base, 64) == spare_a);
  CHECK(read_image(tb, base, 4096) == image_a);
  CHECK(a.finish() == 0);
  CHECK(b.finish() == 0);
}
