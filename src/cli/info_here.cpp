// `rrx info --here`: what a recording on this machine would use, without a
// trace: the fast path's way of keeping buffered calls that may block from
// blocking the tree (the desched event's start-up probe, record/desched.h).
// `rrx info TRACE` says what a recording did use.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/trace_commands.h"
#include "record/desched.h"

namespace rrx::cli {

int info_here(bool json_output) {
  const record::DeschedProbe p = record::probe_desched();
  const bool desched = p == record::DeschedProbe::Counts;
  if (json_output) {
    nlohmann::json j;
    j["blocking_calls"] = desched ? "desched" : "checked";
    j["desched_probe"] = record::describe(p);
    std::cout << j.dump() << "\n";
    return 0;
  }
  std::cout << "rrx record --syscallbuf here would use:\n";
  if (desched) {
    std::cout << "blocking calls: desched event: calls that may block are buffered, and taken over when they block\n";
  } else {
    std::cout << "blocking calls: checked: reads and writes are buffered where they cannot block\n";
  }
  std::cout << "  (the probe: " << record::describe(p) << ")\n";
  return 0;
}

}  // namespace rrx::cli
