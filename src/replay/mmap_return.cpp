// The return stubs: see mmap_return.h.
#include "replay/mmap_return.h"



#include "core/ptrace_task.h"
#include "core/vdso.h"

namespace rrx::replay {

namespace {

void put_movabs(std::string& s, const char* opcode, uint64_t imm) {
  s.append(opcode, 2);
  s.append(reinterpret_cast<const char*>(&imm), 8);
}

}  // namespace

bool mmap_return_area_intact(Task& t, uint64_t base, uint64_t area) {
  unsigned char first[2];
  if (!vdso_still_at(t, base) || !t.read_exact(area, first, sizeof first)) return false;
  // Zeros (never used), movabs rdi (an mmap's stub), movabs rax (an injected result's).
  return (first[0] == 0 && first[1] == 0) || (first[0] == 0x48 && (first[1] == 0xbf || first[1] == 0xb8));
}

std::string mmap_return_stub(const uint64_t args[6], int64_t expect, uint64_t ret_ip) {
  std::string s;
  s.reserve(kMmapReturnStubBytes);
  put_movabs(s, "\x48\xbf", args[0]);  // movabs rdi, args[0]
  put_movabs(s, "\x49\xba", args[3]);  // movabs r10, args[3]
  put_movabs(s, "\x49\xb8", args[4]);  // movabs r8, args[4]
  put_movabs(s, "\x49\xb9", args[5]);  // movabs r9, args[5]
  put_movabs(s, "\x48\xb9", static_cast<uint64_t>(-expect));  // movabs rcx, -expect
  s.append("\x48\x8d\x0c\x01", 4);     // lea rcx, [rcx + rax]: 0 when rax == expect
  s.append("\xe3\x02", 2);             // jrcxz over the ud2
  s.append("\x0f\x0b", 2);             // ud2 (at kMmapReturnTrapOffset)
  put_movabs(s, "\x48\xb9", ret_ip);   // movabs rcx, ret_ip: as the kernel leaves it
  s.append("\xff\x25\x00\x00\x00\x00", 6);  // jmp [rip + 0]
  s.append(reinterpret_cast<const char*>(&ret_ip), 8);
  return s;
}

std::string inject_return_stub(int64_t value, uint64_t ret_ip) {
  std::string s;
  put_movabs(s, "\x48\xb8", static_cast<uint64_t>(value));  // movabs rax, value
  put_movabs(s, "\x48\xb9", ret_ip);                        // movabs rcx, ret_ip
  s.append("\xff\x25\x00\x00\x00\x00", 6);                   // jmp [rip + 0]
  s.append(reinterpret_cast<const char*>(&ret_ip), 8);
  return s;
}

}  // namespace rrx::replay
