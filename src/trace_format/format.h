// On-disk layout of an rrx trace directory.
//
//   NAME-N/
//     trace        "RRXTRACE" magic, u32 format version, u32 flags (0), then chunks
//     trace.idx    chunk index (rebuilt from the chunk headers when missing or stale)
//     files/HASH/BASENAME   one copy of every distinct mapped or executed file
//     aborted      only when rrx aborted the recording: why (the trace has no End chunk)
//     packed       only after `rrx pack`: files/ holds real, checked, read-only copies
//
// A chunk is a 32-byte little-endian header followed by a zstd frame:
//   u32 magic 'RRXC' | u8 kind | u8 codec (1 = zstd) | u16 reserved (0)
//   u32 compressed size | u32 uncompressed size
//   u64 index of the first event in the chunk | u32 number of messages
//   u32 CRC-32C of header bytes [0, 28) and the compressed payload
// The uncompressed payload is a sequence of flat (unpacked) Cap'n Proto
// messages. The first chunk holds the Header message; event chunks follow;
// an End chunk closes a complete trace. A trace without an End chunk is
// incomplete (the recorder was killed): readable up to its last whole chunk.
#pragma once

#include <cstdint>

namespace rrx::trace {

inline constexpr char kFileMagic[8] = {'R', 'R', 'X', 'T', 'R', 'A', 'C', 'E'};
// 2: events an older rrx cannot replay right without knowing them (it would
// skip a field or stop at an unknown event): CpuidPatches (cpuid answered in
// the process) and Syscall.resumeIp (a thread moved out of a site patched
// during its call). Version 1 traces read as before.
// 3: TscPatches (rdtsc sites overwritten by hlt where the rdtsc trap does
// not work), which an older rrx would not apply.
inline constexpr uint32_t kFormatVersion = 3;
inline constexpr uint32_t kFileHeaderSize = 16;

inline constexpr uint32_t kChunkMagic = 0x43585252;  // "RRXC" little-endian
inline constexpr uint32_t kChunkHeaderSize = 32;
inline constexpr uint8_t kCodecZstd = 1;
// Sanity bounds checked before any allocation while reading.
inline constexpr uint32_t kMaxChunkBytes = 256u << 20;

enum class ChunkKind : uint8_t { Header = 1, Events = 2, End = 3 };

// Bits of Syscall.flags.
enum SyscallFlags : uint32_t {
  kSyscallRefused = 1u << 0,      // no table row (or unsupported): failed with ENOSYS while recording
                                  // (or refused by argument: the errno of the row's refuse column)
  kSyscallInterrupted = 1u << 1,  // interrupted by a signal (EINTR/ERESTART*)
  kSyscallToOutput = 1u << 2,     // wrote to the recorder's own stdout/stderr: replay re-emits it
  kSyscallToStdout = 1u << 3,     // with kSyscallToOutput: to rrx's stdout (whatever the program's fd number)
  kSyscallToStderr = 1u << 4,     // with kSyscallToOutput: to rrx's stderr. Neither (older traces): the fd, 1 or 2
  kSyscallSeccomp = 1u << 5,      // the program's seccomp filters decided it (Syscall.seccompRet): nothing ran
  kSyscallSeccompStrict = 1u << 6,  // with kSyscallSeccomp: seccomp strict mode killed the thread (SIGKILL)
  kSyscallBuffered = 1u << 7,     // recorded in-process by the syscall buffer (made from RRX_UNTRACED_IP):
                                  // written when the recorder took the thread's buffer, at its next stop
  kSyscallI386 = 1u << 8,         // made with `int $0x80` (the i386 table: nr is an i386 number); refused
};

inline constexpr const char* kTraceFileName = "trace";
inline constexpr const char* kIndexFileName = "trace.idx";
inline constexpr const char* kFilesDirName = "files";
inline constexpr const char* kLatestLinkName = "latest-trace";
inline constexpr const char* kAbortedFileName = "aborted";  // why the recorder gave up (trace_dir.h)
inline constexpr const char* kPackedFileName = "packed";    // rrx pack made files/ self-contained (trace_pack.h)

}  // namespace rrx::trace
