// `rrx record --keep=always|failure|never`: what happens to a finished
// recording. With `failure`, a run whose program succeeded leaves nothing
// behind, and a failed run leaves its trace packed (trace_pack.h), ready to
// be uploaded from CI.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace rrx::record {

enum class Keep { Always, Failure, Never };

std::optional<Keep> parse_keep(const std::string& text);

// Applies the policy to the trace in DIR, whose recording ended with
// `status` (what rrx record exits with: the program's status, 128+N when a
// signal killed it); prints where the trace is unless quiet. Returns status.
int keep_trace(Keep keep, const std::filesystem::path& dir, int status, bool quiet);

}  // namespace rrx::record
