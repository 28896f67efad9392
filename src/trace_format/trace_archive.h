// A packed trace as one file (`rrx pack --archive OUT.tar.zst`): a tar
// (ustar + pax; sparse files in GNU's pax sparse format 1.0, so GNU tar
// extracts them too) compressed with zstd. Commands that take a TRACE accept
// the archive: it is unpacked once into the cache, keyed by its hash.
#pragma once

#include <cstdint>
#include <filesystem>

namespace rrx::trace {

// Writes the trace directory DIR (packed: see trace_pack.h) to OUT, as
// DIRNAME/... entries. OUT appears complete or not at all. Returns its size.
uint64_t write_trace_archive(const std::filesystem::path& dir, const std::filesystem::path& out);

// True when PATH is a regular file that starts like a zstd stream.
bool is_trace_archive(const std::filesystem::path& path);

// Unpacks the archive into DEST (which must not exist) and returns the trace
// directory inside it. Throws rrx::Error on a damaged, truncated or unsafe
// archive (entries outside one top directory, links, devices); DEST is then
// removed.
std::filesystem::path unpack_trace_archive(const std::filesystem::path& archive, const std::filesystem::path& dest);

// The trace inside ARCHIVE, unpacked on first use to
// ${XDG_CACHE_HOME:-~/.cache}/rrx/archives/HASH (HASH: of the archive's bytes).
std::filesystem::path cached_archive_trace(const std::filesystem::path& archive);

}  // namespace rrx::trace
