// The hook sequence for patched sites: see syscallbuf_hook.h.
#include "record/syscallbuf_hook.h"

#include <cstring>

#include "core/syscallbuf_abi.h"

namespace rrx::record {

static_assert(RRX_HOOK_ENTRY_SLOT < 0x80000000ull, "the entry slot must be reachable as a sign-extended disp32");

std::vector<uint8_t> hook_sequence(uint64_t /*at*/, uint64_t syscall_addr) {
  std::vector<uint8_t> b = {
      0x48, 0x8d, 0x0d, 0x07, 0x00, 0x00, 0x00,  // lea rcx, [rip + 7]: back to the mov below
      0xff, 0x24, 0x25, 0, 0, 0, 0,              // jmp qword ptr [RRX_HOOK_ENTRY_SLOT]
      0x48, 0xb9, 0, 0, 0, 0, 0, 0, 0, 0,        // mov rcx, syscall_addr + 2
  };
  const uint32_t slot = static_cast<uint32_t>(RRX_HOOK_ENTRY_SLOT);
  std::memcpy(&b[10], &slot, 4);
  const uint64_t ret = syscall_addr + 2;
  std::memcpy(&b[16], &ret, 8);
  return b;
}

}  // namespace rrx::record
