// mmap_return_area, mmap_return_stub: see mmap_return.h.
#include "replay/mmap_return.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

#include "core/initial_stack.h"
#include "core/ptrace_task.h"

namespace rrx::replay {

namespace {

template <typename T>
bool get(const std::string& image, uint64_t off, T* out) {
  if (off > image.size() || image.size() - off < sizeof(T)) return false;
  std::memcpy(out, image.data() + off, sizeof(T));
  return true;
}

// The end of the ELF image at the start of `image`: past its headers, its
// sections' bytes and its segments' file bytes; 0 when it is no 64-bit ELF
// image or a table of it lies outside `image`.
uint64_t elf_image_end(const std::string& image) {
  Elf64_Ehdr eh;
  if (!get(image, 0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_phentsize != sizeof(Elf64_Phdr)) {
    return 0;
  }
  uint64_t end = sizeof eh;
  end = std::max(end, eh.e_phoff + uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr));
  end = std::max(end, eh.e_shoff + uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr));
  if (end > image.size()) return 0;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (!get(image, eh.e_phoff + uint64_t{i} * sizeof ph, &ph)) return 0;
    end = std::max(end, ph.p_offset + ph.p_filesz);
  }
  for (unsigned i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh;
    if (!get(image, eh.e_shoff + uint64_t{i} * sizeof sh, &sh)) return 0;
    if (sh.sh_type != SHT_NOBITS) end = std::max(end, sh.sh_offset + sh.sh_size);
  }
  return end <= image.size() ? end : 0;
}

void put_movabs(std::string& s, const char* opcode, uint64_t imm) {
  s.append(opcode, 2);
  s.append(reinterpret_cast<const char*>(&imm), 8);
}

}  // namespace

uint64_t mmap_return_area(Task& t, uint64_t base) {
  uint64_t map_end = mapping_end(t.tid(), base);
  if (map_end <= base || map_end - base > (1u << 20)) return 0;
  std::string image(map_end - base, '\0');
  if (!t.read_exact(base, image.data(), image.size())) return 0;
  uint64_t end = elf_image_end(image);
  if (end == 0) return 0;
  uint64_t at = (end + 15) / 16 * 16;
  if (at > image.size() || image.size() - at < kMmapReturnStubBytes) return 0;
  if (std::any_of(image.begin() + static_cast<std::ptrdiff_t>(at), image.end(), [](char c) { return c != 0; })) return 0;
  return base + at;
}

bool mmap_return_area_intact(Task& t, uint64_t base, uint64_t area) {
  unsigned char magic[4], first[2];
  if (!t.read_exact(base, magic, sizeof magic) || std::memcmp(magic, ELFMAG, SELFMAG) != 0) return false;
  if (!t.read_exact(area, first, sizeof first)) return false;
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
