// The bytes a syscall sends from the program's memory to a file descriptor
// (write, writev, sendmsg...), located through the syscall table's `sends`
// column, and their CRC-32C. The recorder stores the digest in each Syscall
// event; replay recomputes it from the replayed program's memory to catch a
// program that computes other output, and re-emits the bytes that went to
// rrx's own stdout/stderr.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/syscall_table.h"

namespace rrx {

// The memory ranges, in order, holding the bytes a completed call sent: the
// first `ret` bytes of the buffer or of the iovec/msghdr walk (what the kernel
// took, so a short write counts only the prefix it wrote); for sendmmsg, the
// first `ret` messages, each up to its msg_len. Empty when the row sends
// nothing or the call failed. A fault while walking iovecs ends the list.
std::vector<sys::Range> sent_ranges(const sys::SyscallDesc& desc, const sys::CallView& call, sys::MemReader& mem);

// Calls `piece` with the sent bytes, in order, in pieces of at most 64 KiB.
// Returns false when some of them could not be read (the pieces before the
// fault were passed).
bool visit_sent_bytes(const sys::SyscallDesc& desc, const sys::CallView& call, sys::MemReader& mem,
                      const std::function<void(const char* data, size_t len)>& piece);

struct SentDigest {
  uint32_t crc = 0;    // CRC-32C of the bytes
  uint64_t bytes = 0;  // how many
};

// The digest of the sent bytes; nullopt when the row sends nothing, the call
// failed, or the bytes cannot be read.
std::optional<SentDigest> sent_digest(const sys::SyscallDesc& desc, const sys::CallView& call, sys::MemReader& mem);

// The sent bytes themselves (replay re-emits them); nullopt as for sent_digest.
std::optional<std::string> sent_bytes(const sys::SyscallDesc& desc, const sys::CallView& call, sys::MemReader& mem);

}  // namespace rrx
