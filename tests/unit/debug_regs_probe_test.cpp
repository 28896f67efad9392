#include <catch2/catch.hpp>

#include <string>

#include "core/debug_regs_probe.h"

TEST_CASE("debug register probe: runs, and gives the same answer each time") {
  const rrx::DebugRegsProbe first = rrx::probe_debug_registers();
  CHECK(rrx::probe_debug_registers() == first);
  CHECK(rrx::debug_registers_fire() == (first == rrx::DebugRegsProbe::Fire));
  CHECK(!std::string(rrx::describe(first)).empty());
  // The probe's child is gone (reaped): nothing is left for a later wait.
  INFO(rrx::describe(first));
  SUCCEED();
}
