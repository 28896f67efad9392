// Environment filtering for `rrx record --env-keep/--env-drop` (see environment.h).
#include "record/environment.h"

#include <fnmatch.h>

#include "core/error.h"

extern char** environ;

namespace rrx::record {

namespace {

std::string name_of(const std::string& entry) { return entry.substr(0, entry.find('=')); }

bool matches_any(const std::vector<std::string>& patterns, const std::string& name) {
  for (const auto& p : patterns)
    if (::fnmatch(p.c_str(), name.c_str(), 0) == 0) return true;
  return false;
}

}  // namespace

void check_environment_filter(const EnvironmentFilter& filter) {
  for (const auto* list : {&filter.keep, &filter.drop}) {
    const char* flag = list == &filter.keep ? "--env-keep" : "--env-drop";
    for (const auto& p : *list) {
      if (p.empty()) throw Error(std::string(flag) + ": empty pattern");
      if (p.find('=') != std::string::npos)
        throw Error(std::string(flag) + " '" + p + "': a pattern matches variable names, which contain no '='");
    }
  }
}

std::vector<std::string> filter_environment(const std::vector<std::string>& env, const EnvironmentFilter& filter) {
  std::vector<std::string> out;
  for (const auto& entry : env) {
    std::string name = name_of(entry);
    if (!filter.keep.empty() && !matches_any(filter.keep, name)) continue;
    if (matches_any(filter.drop, name)) continue;
    out.push_back(entry);
  }
  return out;
}

std::vector<std::string> current_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  return env;
}

}  // namespace rrx::record
