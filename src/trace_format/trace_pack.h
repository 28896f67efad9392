// `rrx pack`: makes a trace self-contained. The recorder hard-links package-
// managed files into files/; packing replaces every link with a real copy,
// checks every copy against the hash it is stored under, makes files/
// read-only and marks the trace packed (the `packed` file, shown by rrx info).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "trace_format/sparse_file.h"

namespace rrx::trace {

struct PackResult {
  uint64_t files = 0;         // distinct copies in files/
  uint64_t copied = 0;        // hard links replaced by copies this time
  uint64_t copied_bytes = 0;  // their apparent size
  uint64_t data_bytes = 0;    // data of all copies (holes do not count)
  bool already_packed = false;
};

// Packs DIR in place; idempotent (a packed trace is only checked again).
// Throws rrx::Error naming the first copy whose content does not have its
// recorded hash (the trace is then left unmarked).
PackResult pack_trace(const std::filesystem::path& dir, FileHashKind kind);

// What the `packed` file says ("" when the trace is not packed).
std::string packed_note(const std::filesystem::path& dir);
// How many copies in files/ are still hard links to files outside the trace.
uint64_t linked_file_count(const std::filesystem::path& dir);

// Removes a trace directory, read-only files/ included (rm -rf would fail
// on the read-only directories of a packed trace for a non-root user).
void remove_trace_tree(const std::filesystem::path& dir);

}  // namespace rrx::trace
