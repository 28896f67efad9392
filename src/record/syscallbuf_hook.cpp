// The hook sequence for patched sites: see syscallbuf_hook.h.
#include "record/syscallbuf_hook.h"

#include <cstring>

#include "core/syscallbuf_abi.h"

namespace rrx::record {

static_assert(RRX_HOOK_ENTRY_SLOT < 0x80000000ull, "the entry slot must be reachable as a sign-extended disp32");

std::vector<uint8_t> hook_sequence(uint64_t /*at*/, uint64_t /*syscall_addr*/) {
  std::vector<uint8_t> b = {
      0x48, 0x8d, 0x0d, 0x09, 0x00, 0x00, 0x00,  // lea rcx, [rip + 9]: the end of the sequence
      0xff, 0x24, 0x25, 0, 0, 0, 0,              // jmp qword ptr [RRX_HOOK_ENTRY_SLOT]
      0x0f, 0x05,                                // syscall: the calls the library does not buffer
  };
  const uint32_t slot = static_cast<uint32_t>(RRX_HOOK_ENTRY_SLOT);
  std::memcpy(&b[10], &slot, 4);
  return b;
}

}  // namespace rrx::record
