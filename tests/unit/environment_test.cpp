// Unit tests of `rrx record --env-keep/--env-drop` filtering (src/record/environment.h).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/error.h"
#include "record/environment.h"

using rrx::record::EnvironmentFilter;
using rrx::record::filter_environment;

namespace {

const std::vector<std::string> kEnv = {"HOME=/root",       "PATH=/usr/bin", "AWS_SECRET=x",  "AWS_REGION=eu",
                                       "GITHUB_TOKEN=t",   "EMPTY=",        "WEIRD",         "A=B=C",
                                       "SECRET_KEY=k=v",   "LANG=C"};

}  // namespace

TEST_CASE("environment: no filter keeps everything, in order") {
  CHECK(filter_environment(kEnv, {}) == kEnv);
}

TEST_CASE("environment: --env-drop removes matching names") {
  EnvironmentFilter f;
  f.drop = {"AWS_*", "GITHUB_TOKEN"};
  CHECK(filter_environment(kEnv, f) == std::vector<std::string>{"HOME=/root", "PATH=/usr/bin", "EMPTY=", "WEIRD",
                                                                "A=B=C", "SECRET_KEY=k=v", "LANG=C"});
  // Patterns match the name only, never the value.
  f.drop = {"*root*", "*=*", "B"};
  CHECK(filter_environment(kEnv, f) == kEnv);
  f.drop = {"A"};  // "A=B=C" is the variable A
  CHECK(filter_environment(kEnv, f).size() == kEnv.size() - 1);
  f.drop = {"*"};
  CHECK(filter_environment(kEnv, f).empty());
  f.drop = {"[AS]*"};
  CHECK(filter_environment(kEnv, f) ==
        std::vector<std::string>{"HOME=/root", "PATH=/usr/bin", "GITHUB_TOKEN=t", "EMPTY=", "WEIRD", "LANG=C"});
}

TEST_CASE("environment: --env-keep keeps only matching names, --env-drop applies after it") {
  EnvironmentFilter f;
  f.keep = {"HOME", "PATH", "AWS_*"};
  CHECK(filter_environment(kEnv, f) ==
        std::vector<std::string>{"HOME=/root", "PATH=/usr/bin", "AWS_SECRET=x", "AWS_REGION=eu"});
  f.drop = {"*SECRET*"};
  CHECK(filter_environment(kEnv, f) == std::vector<std::string>{"HOME=/root", "PATH=/usr/bin", "AWS_REGION=eu"});
  f.keep = {"NO_SUCH_*"};
  CHECK(filter_environment(kEnv, f).empty());
  f.keep = {"WEIRD"};
  f.drop = {};
  CHECK(filter_environment(kEnv, f) == std::vector<std::string>{"WEIRD"});
}

TEST_CASE("environment: patterns that cannot match a name are refused") {
  EnvironmentFilter f;
  f.drop = {""};
  CHECK_THROWS_AS(rrx::record::check_environment_filter(f), rrx::Error);
  f.drop = {"A=B"};
  CHECK_THROWS_WITH(rrx::record::check_environment_filter(f), Catch::Contains("--env-drop") && Catch::Contains("="));
  f.drop = {};
  f.keep = {"X=*"};
  CHECK_THROWS_WITH(rrx::record::check_environment_filter(f), Catch::Contains("--env-keep"));
  f.keep = {"AWS_*", "[A-Z]*", "?"};
  CHECK_NOTHROW(rrx::record::check_environment_filter(f));
}
