// Internal helpers shared by the trace writer and reader: chunk header
// encoding, the trace.idx index file, and small I/O wrappers.
//
// trace.idx layout (little-endian):
//   0  char[8] "RRXINDEX"
//   8  u32     index version (kIndexVersion)
//   12 u32     trace format version of the trace it describes
//   16 u64     size in bytes of the trace file it describes
//   24 u32     number of entries
//   28 u32     reserved (0)
//   32 entries, kIndexEntrySize bytes each:
//        u64 chunk offset | u64 first event | u32 compressed size
//        u32 uncompressed size | u32 message count | u32 chunk CRC
//        u8 kind | 7 bytes reserved (0)
//   end u32    CRC-32C of all the bytes before it
// The index is derived data: a reader that finds it missing, damaged or
// describing another file size ignores it and rebuilds it from the chunk
// headers. Encoding is deterministic, so a rebuilt index is byte-identical to
// the one the writer produced.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "trace_format/format.h"

namespace rrx::trace::detail {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "rrx traces are little-endian");

struct ChunkHeader {
  uint32_t magic = kChunkMagic;
  uint8_t kind = 0;
  uint8_t codec = kCodecZstd;
  uint16_t reserved = 0;
  uint32_t compressed_size = 0;
  uint32_t uncompressed_size = 0;
  uint64_t first_event = 0;
  uint32_t count = 0;
  uint32_t crc = 0;
};

void encode_chunk_header(const ChunkHeader& h, unsigned char out[kChunkHeaderSize]);
ChunkHeader decode_chunk_header(const unsigned char in[kChunkHeaderSize]);

inline constexpr char kIndexMagic[8] = {'R', 'R', 'X', 'I', 'N', 'D', 'E', 'X'};
inline constexpr uint32_t kIndexVersion = 1;
inline constexpr size_t kIndexHeaderSize = 32;
inline constexpr size_t kIndexEntrySize = 40;

struct IndexEntry {
  uint64_t offset = 0;
  uint64_t first_event = 0;
  uint32_t compressed_size = 0;
  uint32_t uncompressed_size = 0;
  uint32_t count = 0;
  uint32_t crc = 0;
  uint8_t kind = 0;
};

std::vector<unsigned char> encode_index(const std::vector<IndexEntry>& entries, uint64_t trace_size);
// Parses an index; nullopt when it is damaged, of another version, or does
// not describe a trace file of `trace_size` bytes. The entries still need
// checking against the chunk rules.
std::optional<std::vector<IndexEntry>> decode_index(const unsigned char* data, size_t len,
                                                    uint64_t trace_size);

// write(2) all of it, retrying on EINTR and short writes. false + errno on failure.
bool write_all(int fd, const void* data, size_t len);
// pread(2) exactly len bytes; returns the number read (less at end of file),
// or -1 with errno.
long long pread_full(int fd, void* data, size_t len, uint64_t offset);
// Writes `path` (mode 0600) through a temporary file in the same directory and rename(2).
// false on any failure (the temporary is removed).
bool write_file_atomically(const std::string& path, const void* data, size_t len, bool sync);

}  // namespace rrx::trace::detail
