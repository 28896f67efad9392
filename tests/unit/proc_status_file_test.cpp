// core/proc_status_file.h on this process's own /proc/self/status.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "core/proc_status_file.h"

TEST_CASE("proc status file: fields by name, decimal, hexadecimal and lists") {
  struct sigaction old {};
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  REQUIRE(sigaction(SIGUSR2, &ign, &old) == 0);
  rrx::ProcStatusFile s = rrx::ProcStatusFile::of(getpid());
  sigaction(SIGUSR2, &old, nullptr);
  REQUIRE(s.ok());
  CHECK(s.int_field("Pid") == std::optional<int64_t>(getpid()));
  CHECK(s.int_field("PPid") == std::optional<int64_t>(getppid()));
  std::vector<int64_t> ns = s.int_list("NSpid");
  REQUIRE(!ns.empty());
  CHECK(ns.back() == getpid());
  REQUIRE(s.hex_field("SigIgn"));
  CHECK((*s.hex_field("SigIgn") & (uint64_t{1} << (SIGUSR2 - 1))) != 0);
  CHECK(s.field("Name"));
  // A field's name is matched whole: "Pid" is not "PPid" or "TracerPid".
  CHECK(s.field("Pi") == std::nullopt);
  CHECK(s.field("NoSuchField") == std::nullopt);
  CHECK(s.int_field("NoSuchField") == std::nullopt);
  rrx::ProcStatusFile missing("/proc/0/status");
  CHECK(!missing.ok());
  CHECK(missing.int_field("Pid") == std::nullopt);
}
