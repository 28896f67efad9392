// patch_vdso: see vdso.h.
#include "core/vdso.h"

#include <elf.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

#include "core/error.h"
#include "core/initial_stack.h"
#include "core/ptrace_task.h"
#include "core/whole_file.h"

namespace rrx {

namespace {

// mov eax, NR; syscall; ret
std::string syscall_stub(uint32_t nr) {
  std::string s = "\xb8";
  s.append(reinterpret_cast<const char*>(&nr), 4);
  s += "\x0f\x05\xc3";
  return s;
}

// vgetrandom(buffer, len, flags, opaque_state, opaque_len): the query
// (opaque_len == ~0, glibc 2.41+ and Go at start-up) fails with -ENOSYS, so
// the caller keeps no state and falls back to the getrandom syscall; any
// other call is the getrandom syscall itself.
std::string getrandom_stub() {
  return std::string("\x49\x83\xf8\xff"            // cmp r8, -1
                     "\x74\x08"                    // je fail
                     "\xb8\x3e\x01\x00\x00"        // mov eax, SYS_getrandom (318)
                     "\x0f\x05"                    // syscall
                     "\xc3"                        // ret
                     "\x48\xc7\xc0\xda\xff\xff\xff"  // fail: mov rax, -ENOSYS
                     "\xc3",                       // ret
                     22);
}

struct Stub {
  const char* name;
  std::string code;
};

std::vector<Stub> stubs() {
  return {
      {"__vdso_clock_gettime", syscall_stub(SYS_clock_gettime)},
      {"__vdso_gettimeofday", syscall_stub(SYS_gettimeofday)},
      {"__vdso_time", syscall_stub(SYS_time)},
      {"__vdso_clock_getres", syscall_stub(SYS_clock_getres)},
      {"__vdso_getcpu", syscall_stub(SYS_getcpu)},
      {"__vdso_getrandom", getrandom_stub()},
  };
}

template <typename T>
bool get(const std::string& image, uint64_t off, T* out) {
  if (off > image.size() || image.size() - off < sizeof(T)) return false;
  std::memcpy(out, image.data() + off, sizeof(T));
  return true;
}

}  // namespace

uint64_t auxv_vdso(const std::string& auxv) {
  for (size_t off = 0; off + 16 <= auxv.size(); off += 16) {
    uint64_t type, val;
    std::memcpy(&type, auxv.data() + off, 8);
    std::memcpy(&val, auxv.data() + off + 8, 8);
    if (type == AT_SYSINFO_EHDR) return val;
    if (type == AT_NULL) break;
  }
  return 0;
}

uint64_t kernel_vdso(pid_t pid) {
  // (One read: auxv is a few hundred bytes; at each exec of a replay.)
  std::optional<std::string> auxv = read_whole_file("/proc/" + std::to_string(pid) + "/auxv");
  return auxv ? auxv_vdso(*auxv) : 0;
}

namespace {

// The kernel's vDSO is the same image in every process: the first patch of
// it (and its spare bytes) is remembered, and a later process whose image
// reads the same gets the patched image in one write, with neither its
// mapping looked up nor its symbols parsed again (each exec, recording and
// replaying).
struct VdsoMemo {
  std::string image;    // as the kernel maps it
  std::string patched;  // with the stubs
  std::vector<std::string> names;
};
VdsoMemo& vdso_memo() {
  static VdsoMemo m;
  return m;
}

// The vDSO image at `base` when it is the remembered one (one read).
bool is_memo_image(Task& t, uint64_t base, const std::string& want) {
  if (want.empty()) return false;
  std::string now(want.size(), '\0');
  return t.read_exact(base, now.data(), now.size()) && now == want;
}

}  // namespace

std::vector<std::string> patch_vdso(Task& t, uint64_t base) {
  auto bad = [&](const std::string& why) {
    return Error(fmt::format("cannot patch the vDSO of thread {} at 0x{:x}: {}", t.tid(), base, why));
  };
  VdsoMemo& memo = vdso_memo();
  if (is_memo_image(t, base, memo.image)) {
    if (!t.write_mem(base, memo.patched.data(), memo.patched.size())) throw bad("cannot write the stubs");
    return memo.names;
  }
  // Only the [vdso] mapping itself: the [vvar] pages next to it are data.
  uint64_t end = mapping_end(t.tid(), base);
  if (end <= base || end - base > (1u << 20)) throw bad("no mapping there");
  std::string image(end - base, '\0');
  if (!t.read_exact(base, image.data(), image.size())) throw bad("unreadable");
  std::string patched_image = image;
  Elf64_Ehdr eh;
  if (!get(image, 0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_shentsize != sizeof(Elf64_Shdr)) {
    throw bad("not a 64-bit ELF image");
  }
  // The dynamic symbols, through the section headers (the image is the
  // whole shared object).
  Elf64_Shdr dynsym{}, dynstr{};
  bool found = false;
  for (unsigned i = 0; i < eh.e_shnum && !found; ++i) {
    Elf64_Shdr sh;
    if (!get(image, eh.e_shoff + uint64_t{i} * sizeof sh, &sh)) throw bad("truncated section headers");
    if (sh.sh_type != SHT_DYNSYM) continue;
    if (!get(image, eh.e_shoff + uint64_t{sh.sh_link} * sizeof sh, &dynstr)) throw bad("no string table");
    dynsym = sh;
    found = true;
  }
  if (!found || dynsym.sh_entsize != sizeof(Elf64_Sym)) throw bad("no dynamic symbol table");
  std::vector<std::string> patched;
  std::vector<Stub> wanted = stubs();
  for (uint64_t off = dynsym.sh_offset; off + sizeof(Elf64_Sym) <= dynsym.sh_offset + dynsym.sh_size;
       off += sizeof(Elf64_Sym)) {
    Elf64_Sym sym;
    if (!get(image, off, &sym)) throw bad("truncated symbol table");
    if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF) continue;
    if (sym.st_name >= dynstr.sh_size || dynstr.sh_offset + sym.st_name >= image.size()) continue;
    const char* name = image.data() + dynstr.sh_offset + sym.st_name;
    std::string n(name, strnlen(name, image.size() - (dynstr.sh_offset + sym.st_name)));
    for (const Stub& s : wanted) {
      if (n != s.name) continue;
      if (sym.st_value + s.code.size() > image.size() || sym.st_size < s.code.size()) {
        throw bad(n + " is too small for its stub");
      }
      patched_image.replace(sym.st_value, s.code.size(), s.code);
      patched.push_back(n);
    }
  }
  // (Whole, as a remembered image is written.)
  if (!t.write_mem(base, patched_image.data(), patched_image.size())) throw bad("cannot write the stubs");
  memo.image = std::move(image);
  memo.patched = std::move(patched_image);
  memo.names = patched;
  return patched;
}

namespace {

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

}  // namespace

bool vdso_still_at(Task& t, uint64_t base) {
  unsigned char magic[SELFMAG];
  return t.read_exact(base, magic, sizeof magic) && std::memcmp(magic, ELFMAG, SELFMAG) == 0;
}

uint64_t vdso_spare_bytes(Task& t, uint64_t base, size_t need) {
  // (A vDSO patched as remembered has the remembered size: no lookup of its mapping.)
  const VdsoMemo& memo = vdso_memo();
  std::string image;
  if (is_memo_image(t, base, memo.patched)) {
    image = memo.patched;
  } else {
    uint64_t map_end = mapping_end(t.tid(), base);
    if (map_end <= base || map_end - base > (1u << 20)) return 0;
    image.assign(map_end - base, '\0');
    if (!t.read_exact(base, image.data(), image.size())) return 0;
  }
  uint64_t end = elf_image_end(image);
  if (end == 0) return 0;
  uint64_t at = (end + 15) / 16 * 16;
  if (at > image.size() || image.size() - at < need) return 0;
  if (std::any_of(image.begin() + static_cast<std::ptrdiff_t>(at), image.end(), [](char c) { return c != 0; })) return 0;
  return base + at;
}

}  // namespace rrx
