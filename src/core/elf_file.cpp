// ELF reading for the recorder: vetting a program (inspect_program) and
// function extents from symbols and unwind tables (function_ranges).
#include "core/elf_file.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "core/line_cache.h"
#include "core/unique_fd.h"
#include "core/whole_file.h"

namespace rrx {

namespace {

// The DT_NEEDED names of the file open as `fd` with program headers `ph`, in
// order; empty when the dynamic section or its string table is unreadable.
std::vector<std::string> needed_libraries(int fd, const std::vector<Elf64_Phdr>& ph) {
  const Elf64_Phdr* dyn_ph = nullptr;
  for (const auto& p : ph) {
    if (p.p_type == PT_DYNAMIC) dyn_ph = &p;
  }
  if (!dyn_ph || dyn_ph->p_filesz == 0 || dyn_ph->p_filesz > (1u << 20)) return {};
  std::vector<Elf64_Dyn> dyn(dyn_ph->p_filesz / sizeof(Elf64_Dyn));
  size_t bytes = dyn.size() * sizeof(Elf64_Dyn);
  if (::pread(fd, dyn.data(), bytes, static_cast<off_t>(dyn_ph->p_offset)) != static_cast<ssize_t>(bytes)) return {};
  uint64_t strtab = 0, strsz = 0;
  std::vector<uint64_t> names;
  for (const auto& d : dyn) {
    if (d.d_tag == DT_NULL) break;
    if (d.d_tag == DT_STRTAB) strtab = d.d_un.d_ptr;
    if (d.d_tag == DT_STRSZ) strsz = d.d_un.d_val;
    if (d.d_tag == DT_NEEDED) names.push_back(d.d_un.d_val);
  }
  if (names.empty() || strsz == 0 || strsz > (16u << 20)) return {};
  // DT_STRTAB is an address: its file offset from the PT_LOAD that holds it.
  uint64_t file_off = UINT64_MAX;
  for (const auto& p : ph) {
    if (p.p_type == PT_LOAD && strtab >= p.p_vaddr && strtab - p.p_vaddr < p.p_filesz &&
        strsz <= p.p_filesz - (strtab - p.p_vaddr)) {
      file_off = p.p_offset + (strtab - p.p_vaddr);
    }
  }
  if (file_off == UINT64_MAX) return {};
  // Only the part of the table that holds the names: a program that exports
  // its symbols has a large one (gcc's cc1: 1.3 MB, read at every exec of it).
  uint64_t lo = UINT64_MAX, hi = 0;
  for (uint64_t off : names) {
    if (off >= strsz) return {};
    lo = std::min(lo, off);
    hi = std::max(hi, off);
  }
  constexpr uint64_t kNameMax = 4096;  // (longer names are cut there)
  const uint64_t end = std::min(strsz, hi + kNameMax);
  std::string part(end - lo, '\0');
  if (::pread(fd, part.data(), part.size(), static_cast<off_t>(file_off + lo)) != static_cast<ssize_t>(part.size())) {
    return {};
  }
  std::vector<std::string> out;
  for (uint64_t off : names) {
    const char* name = part.c_str() + (off - lo);
    out.emplace_back(name, strnlen(name, part.size() - (off - lo)));
  }
  return out;
}

}  // namespace

ElfSummary inspect_program(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno(path);
  ElfSummary s{ElfSummary::Kind::NotExecutable, "", false, {}};
  Elf64_Ehdr eh{};
  ssize_t n = ::pread(fd, &eh, sizeof eh, 0);
  if (n >= 2 && eh.e_ident[0] == '#' && eh.e_ident[1] == '!') {
    s.kind = ElfSummary::Kind::Script;
  } else if (n >= EI_NIDENT && std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0) {
    if (eh.e_ident[EI_CLASS] == ELFCLASS32) {
      s.kind = ElfSummary::Kind::Elf32;
    } else if (n != sizeof eh || eh.e_machine != EM_X86_64) {
      s.kind = ElfSummary::Kind::OtherArch;
    } else {
      s.kind = ElfSummary::Kind::Elf64X86_64;
      s.is_static = true;
      if (eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum < 256) {
        std::vector<Elf64_Phdr> ph(eh.e_phnum);
        size_t bytes = ph.size() * sizeof(Elf64_Phdr);
        if (::pread(fd, ph.data(), bytes, static_cast<off_t>(eh.e_phoff)) == static_cast<ssize_t>(bytes)) {
          for (const auto& p : ph) {
            if (p.p_type == PT_INTERP && p.p_filesz > 0 && p.p_filesz < 4096) {
              std::string interp(p.p_filesz, '\0');
              if (::pread(fd, interp.data(), p.p_filesz, static_cast<off_t>(p.p_offset)) ==
                  static_cast<ssize_t>(p.p_filesz)) {
                interp.resize(std::strlen(interp.c_str()));
                s.interpreter = interp;
                s.is_static = false;
              }
            }
          }
          if (!s.interpreter.empty()) s.needed = needed_libraries(fd, ph);
        }
      }
    }
  }
  ::close(fd);
  return s;
}

std::string find_program(const std::string& prog) {
  auto runnable = [](const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
  };
  if (prog.find('/') != std::string::npos) return runnable(prog) ? prog : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string cand = dir + "/" + prog;
    if (runnable(cand)) return cand;
    start = end + 1;
  }
  return "";
}


namespace {

// Bounds-checked reading of the bytes [base, base + size) of a file, at the
// file's offsets: function_ranges reads only the sections it parses (a
// libc's symbols and unwind tables are a tenth of it, cc1's a smaller part).
class Image {
 public:
  Image() = default;
  // The file's bytes [off, off + len), or none when the file does not hold them all.
  Image(int fd, uint64_t file_size, uint64_t off, uint64_t len) {
    if (off > file_size || len > file_size - off || len > (uint64_t{1} << 32)) return;
    b_.resize(len);
    size_t done = 0;
    while (done < b_.size()) {
      ssize_t n = ::pread(fd, b_.data() + done, b_.size() - done, static_cast<off_t>(off + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    b_.resize(done);
    base_ = off;
  }
  bool has(uint64_t off, uint64_t len) const {
    return off >= base_ && off - base_ <= b_.size() && len <= b_.size() - (off - base_);
  }
  template <typename T>
  bool get(uint64_t off, T* out) const {
    if (!has(off, sizeof(T))) return false;
    std::memcpy(out, b_.data() + (off - base_), sizeof(T));
    return true;
  }
  // The NUL-terminated string at `off`, cut at the end of the bytes read.
  std::string cstring(uint64_t off) const {
    if (b_.empty() || !has(off, 0)) return {};
    const char* p = reinterpret_cast<const char*>(b_.data()) + (off - base_);
    return std::string(p, strnlen(p, b_.size() - (off - base_)));
  }

 private:
  uint64_t base_ = 0;
  std::vector<uint8_t> b_;
};

// A cursor over .eh_frame with the DWARF pointer encodings (DW_EH_PE_*)
// that FDEs use; `vaddr` is the ELF address of the section's first byte.
struct EhCursor {
  const Image& img;
  uint64_t off, end, sec_off, vaddr;
  bool ok = true;

  uint64_t vaddr_here() const { return vaddr + (off - sec_off); }
  template <typename T>
  T fixed() {
    T v{};
    if (off + sizeof(T) > end || !img.get(off, &v)) ok = false;
    off += sizeof(T);
    return v;
  }
  uint64_t uleb() {
    uint64_t v = 0;
    for (unsigned shift = 0; ok; shift += 7) {
      uint8_t byte = fixed<uint8_t>();
      if (shift < 64) v |= uint64_t(byte & 0x7f) << shift;
      if (!(byte & 0x80)) break;
    }
    return v;
  }
  int64_t sleb() {
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t byte = 0;
    do {
      byte = fixed<uint8_t>();
      if (shift < 64) v |= uint64_t(byte & 0x7f) << shift;
      shift += 7;
    } while (ok && (byte & 0x80));
    if (shift < 64 && (byte & 0x40)) v |= ~uint64_t{0} << shift;
    return static_cast<int64_t>(v);
  }
  // An encoded pointer; `apply` false reads only the value (an FDE's range).
  uint64_t pointer(uint8_t enc, bool apply = true) {
    uint64_t at = vaddr_here();
    uint64_t v = 0;
    switch (enc & 0x0f) {
      case 0x00: v = fixed<uint64_t>(); break;
      case 0x01: v = uleb(); break;
      case 0x02: v = fixed<uint16_t>(); break;
      case 0x03: v = fixed<uint32_t>(); break;
      case 0x04: v = fixed<uint64_t>(); break;
      case 0x09: v = static_cast<uint64_t>(sleb()); break;
      case 0x0a: v = static_cast<uint64_t>(int64_t{fixed<int16_t>()}); break;
      case 0x0b: v = static_cast<uint64_t>(int64_t{fixed<int32_t>()}); break;
      case 0x0c: v = fixed<uint64_t>(); break;
      default: ok = false; return 0;
    }
    if (apply) {
      switch (enc & 0x70) {
        case 0x00: break;
        case 0x10: v += at; break;  // pcrel
        default: ok = false;        // datarel/textrel/funcrel: not used in .eh_frame FDEs on x86-64
      }
    }
    return v;
  }
  std::string cstring() {
    std::string s;
    while (ok) {
      char c = static_cast<char>(fixed<uint8_t>());
      if (!ok || c == 0) break;
      s += c;
    }
    return s;
  }
};

void eh_frame_functions(const Image& img, uint64_t sec_off, uint64_t sec_size, uint64_t vaddr,
                        std::vector<ElfFunction>* out) {
  if (!img.has(sec_off, sec_size)) return;
  const uint64_t sec_end = sec_off + sec_size;
  std::vector<std::pair<uint64_t, uint8_t>> cie_encoding;  // CIE offset -> FDE pointer encoding
  auto encoding_of = [&](uint64_t cie_off, uint8_t* enc) {
    for (auto& [o, e] : cie_encoding) {
      if (o == cie_off) {
        *enc = e;
        return true;
      }
    }
    EhCursor c{img, cie_off, sec_end, sec_off, vaddr};
    uint32_t len = c.fixed<uint32_t>();
    if (!c.ok || len == 0 || len == 0xffffffff) return false;
    c.end = std::min<uint64_t>(sec_end, cie_off + 4 + len);
    if (c.fixed<uint32_t>() != 0) return false;  // not a CIE
    uint8_t version = c.fixed<uint8_t>();
    std::string aug = c.cstring();
    if (aug.find("eh") != std::string::npos) c.fixed<uint64_t>();
    c.uleb();  // code alignment
    c.sleb();  // data alignment
    if (version == 1) c.fixed<uint8_t>(); else c.uleb();  // return address register
    uint8_t fde_enc = 0x00;  // absptr unless 'R' says otherwise
    if (!aug.empty() && aug[0] == 'z') {
      c.uleb();
      for (size_t i = 1; i < aug.size() && c.ok; ++i) {
        if (aug[i] == 'R') fde_enc = c.fixed<uint8_t>();
        else if (aug[i] == 'L') c.fixed<uint8_t>();
        else if (aug[i] == 'P') c.pointer(c.fixed<uint8_t>(), false);
        else if (aug[i] != 'S' && aug[i] != 'B') return false;  // unknown augmentation: its layout is unknown
      }
    }
    if (!c.ok) return false;
    cie_encoding.emplace_back(cie_off, fde_enc);
    *enc = fde_enc;
    return true;
  };
  uint64_t off = sec_off;
  while (off + 4 <= sec_end) {
    uint32_t len = 0;
    img.get(off, &len);
    if (len == 0 || len == 0xffffffff) break;  // terminator, or a 64-bit entry (not produced on x86-64)
    uint64_t next = off + 4 + uint64_t{len};
    if (next > sec_end) break;
    uint32_t id = 0;
    img.get(off + 4, &id);
    if (id != 0 && id <= off + 4 - sec_off) {
      uint8_t enc = 0;
      if (encoding_of(off + 4 - id, &enc)) {
        EhCursor c{img, off + 8, next, sec_off, vaddr};
        uint64_t begin = c.pointer(enc);
        uint64_t range = c.pointer(enc, false);
        if (c.ok && range > 0) out->push_back({begin, range, false});
      }
    }
    off = next;
  }
}

}  // namespace

// Go's function table (.gopclntab, or .data.rel.ro.gopclntab in a PIE):
// Go binaries are usually stripped (Debian's go tool and its compile, link
// and asm are) and have no .eh_frame, but the runtime needs the extent of
// every function, Go and assembly (runtime.cputicks' rdtsc among them), and
// this table keeps it: sorted entry addresses, the last one the end of the
// last function. Each extent runs to the next entry, padding included. The
// header formats by magic: Go 1.18+ (0xfffffff0, 0xfffffff1: 32-bit entry
// offsets from textStart), 1.16-1.17 (0xfffffffa: pointer-size entries after
// a header of offsets), 1.2-1.15 (0xfffffffb: pointer-size entries right
// after the header). In a PIE textStart is 0 in the file and set by an
// R_X86_64_RELATIVE relocation, whose addend is read from `relocs`.
void go_pclntab_functions(int fd, uint64_t file_size, const Elf64_Shdr& s, const std::vector<Elf64_Shdr>& sh,
                          std::vector<ElfFunction>* out) {
  const Image head(fd, file_size, s.sh_offset, std::min<uint64_t>(s.sh_size, 72));
  uint32_t magic = 0;
  uint8_t pad1 = 1, pad2 = 1, quantum = 0, ptr_size = 0;
  if (!head.get(s.sh_offset, &magic) || !head.get(s.sh_offset + 4, &pad1) || !head.get(s.sh_offset + 5, &pad2) ||
      !head.get(s.sh_offset + 6, &quantum) || !head.get(s.sh_offset + 7, &ptr_size)) {
    return;
  }
  if (pad1 != 0 || pad2 != 0 || quantum != 1 || ptr_size != 8) return;  // (x86-64 only)
  uint64_t nfunc = 0;
  if (!head.get(s.sh_offset + 8, &nfunc) || nfunc == 0 || nfunc > s.sh_size / 8) return;
  uint64_t table = 0, text_start = 0;  // the entries' offset in the section; what entry values add to
  unsigned entry_size = 0, stride = 0;  // bytes of an entry value; from one entry to the next
  if (magic == 0xfffffff0 || magic == 0xfffffff1) {
    if (!head.get(s.sh_offset + 24, &text_start) || !head.get(s.sh_offset + 64, &table)) return;
    entry_size = 4, stride = 8;
    if (text_start == 0) {  // a PIE: the relocation that sets the field
      const uint64_t field = s.sh_addr + 24;
      for (const Elf64_Shdr& r : sh) {
        if (r.sh_type != SHT_RELA || r.sh_entsize != sizeof(Elf64_Rela) || text_start != 0) continue;
        const Image relas(fd, file_size, r.sh_offset, r.sh_size);
        for (uint64_t o = 0; o + sizeof(Elf64_Rela) <= r.sh_size; o += sizeof(Elf64_Rela)) {
          Elf64_Rela rel{};
          if (!relas.get(r.sh_offset + o, &rel)) break;
          if (rel.r_offset == field && ELF64_R_TYPE(rel.r_info) == R_X86_64_RELATIVE) {
            text_start = static_cast<uint64_t>(rel.r_addend);
            break;
          }
        }
      }
      if (text_start == 0) return;
    }
  } else if (magic == 0xfffffffa) {
    if (!head.get(s.sh_offset + 56, &table)) return;
    entry_size = 8, stride = 16;
  } else if (magic == 0xfffffffb) {
    table = 16, entry_size = 8, stride = 16;
  } else {
    return;
  }
  if (table >= s.sh_size) return;
  const uint64_t bytes = nfunc * stride + entry_size;  // the last entry: the end address only
  if (bytes > s.sh_size - table) return;
  const Image tab(fd, file_size, s.sh_offset + table, bytes);
  auto entry = [&](uint64_t i, uint64_t* v) {
    const uint64_t at = s.sh_offset + table + i * stride;
    if (entry_size == 4) {
      uint32_t off = 0;
      if (!tab.get(at, &off)) return false;
      *v = text_start + off;
      return true;
    }
    return tab.get(at, v);
  };
  uint64_t start = 0;
  if (!entry(0, &start)) return;
  const size_t before = out->size();
  for (uint64_t i = 1; i <= nfunc; ++i) {
    uint64_t next = 0;
    if (!entry(i, &next) || next < start) {  // damaged: none of it is trusted
      out->resize(before);
      return;
    }
    if (next > start) out->push_back({start, next - start, false});
    start = next;
  }
}

namespace {

// Calls `each(sym, name)` for every STT_FUNC symbol with a size of the
// file's .symtab and .dynsym (`name` only when `names`, else empty).
template <typename F>
void for_each_function_symbol(int fd, uint64_t file_size, const std::vector<Elf64_Shdr>& sh, bool names, F each) {
  auto section = [&](const Elf64_Shdr& s) { return Image(fd, file_size, s.sh_offset, s.sh_size); };
  for (const Elf64_Shdr& s : sh) {
    if ((s.sh_type != SHT_SYMTAB && s.sh_type != SHT_DYNSYM) || s.sh_entsize != sizeof(Elf64_Sym)) continue;
    const Image syms = section(s);
    if (!syms.has(s.sh_offset, s.sh_size)) continue;
    const Elf64_Shdr* strtab = names && s.sh_link < sh.size() ? &sh[s.sh_link] : nullptr;
    const Image strings = strtab ? section(*strtab) : Image();
    for (uint64_t o = 0; o + sizeof(Elf64_Sym) <= s.sh_size; o += sizeof(Elf64_Sym)) {
      Elf64_Sym sym{};
      syms.get(s.sh_offset + o, &sym);
      if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF || sym.st_size == 0) continue;
      std::string name;
      if (strtab && sym.st_name < strtab->sh_size) name = strings.cstring(strtab->sh_offset + sym.st_name);
      each(sym, name);
    }
  }
}

// The section headers of the 64-bit ELF file open as fd; empty when it is none.
std::vector<Elf64_Shdr> section_headers(int fd, uint64_t file_size, Elf64_Ehdr* eh) {
  if (!Image(fd, file_size, 0, sizeof *eh).get(0, eh) || std::memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
      eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_shentsize != sizeof(Elf64_Shdr)) {
    return {};
  }
  std::vector<Elf64_Shdr> sh(eh->e_shnum);
  const Image headers(fd, file_size, eh->e_shoff, uint64_t{eh->e_shnum} * sizeof(Elf64_Shdr));
  for (unsigned i = 0; i < eh->e_shnum; ++i) {
    if (!headers.get(eh->e_shoff + uint64_t{i} * sizeof(Elf64_Shdr), &sh[i])) return {};
  }
  return sh;
}

}  // namespace

std::vector<NamedElfFunction> function_symbols(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw_errno(path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno(path);
  Elf64_Ehdr eh{};
  std::vector<NamedElfFunction> out;
  const std::vector<Elf64_Shdr> sh = section_headers(fd.get(), static_cast<uint64_t>(st.st_size), &eh);
  for_each_function_symbol(fd.get(), static_cast<uint64_t>(st.st_size), sh, true,
                           [&](const Elf64_Sym& sym, std::string& name) {
                             out.push_back({sym.st_value, sym.st_size, std::move(name)});
                           });
  return out;
}

std::vector<ElfFunction> function_ranges(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw_errno(path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno(path);
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  std::vector<ElfFunction> fns;
  Elf64_Ehdr eh{};
  const std::vector<Elf64_Shdr> sh = section_headers(fd.get(), file_size, &eh);
  if (sh.empty()) return fns;
  auto section = [&](const Elf64_Shdr& s) { return Image(fd.get(), file_size, s.sh_offset, s.sh_size); };
  const Image section_names = eh.e_shstrndx < sh.size() ? section(sh[eh.e_shstrndx]) : Image();
  bool symtab = false;  // (a Go binary with its symbols needs no .gopclntab)
  for (const Elf64_Shdr& s : sh) symtab |= s.sh_type == SHT_SYMTAB && s.sh_size > 0;
  for_each_function_symbol(fd.get(), file_size, sh, false,
                           [&](const Elf64_Sym& sym, const std::string&) { fns.push_back({sym.st_value, sym.st_size, true}); });
  for (unsigned i = 0; i < sh.size(); ++i) {
    const Elf64_Shdr& s = sh[i];
    if (s.sh_type == SHT_PROGBITS && eh.e_shstrndx < sh.size()) {
      const Elf64_Shdr& names = sh[eh.e_shstrndx];
      const std::string name =
          s.sh_name < names.sh_size ? section_names.cstring(names.sh_offset + s.sh_name).substr(0, 32) : std::string();
      if (name == ".eh_frame") eh_frame_functions(section(s), s.sh_offset, s.sh_size, s.sh_addr, &fns);
      if (!symtab && (name == ".gopclntab" || name == ".data.rel.ro.gopclntab")) {
        go_pclntab_functions(fd.get(), file_size, s, sh, &fns);
      }
    }
  }
  // In (address, size) order, an FDE before a symbol of the same extent;
  // one entry per extent: the last of its run.
  std::sort(fns.begin(), fns.end(), [](const ElfFunction& a, const ElfFunction& b) {
    if (a.addr != b.addr) return a.addr < b.addr;
    if (a.size != b.size) return a.size < b.size;
    return a.symbol < b.symbol;
  });
  std::vector<ElfFunction> kept;
  kept.reserve(fns.size());
  for (size_t i = 0; i < fns.size(); ++i) {
    if (i + 1 < fns.size() && fns[i + 1].addr == fns[i].addr && fns[i + 1].size == fns[i].size) continue;
    kept.push_back(fns[i]);
  }
  return kept;
}

namespace {

constexpr char kFunctionsMagic[8] = {'r', 'r', 'x', 'f', 'n', '1', '\n', '\0'};

uint64_t fnv64(const void* data, size_t len, uint64_t h = 1469598103934665603ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < len; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

struct PackedFunction {
  uint64_t addr;
  uint64_t size;
  uint64_t symbol;
};

}  // namespace

std::vector<ElfFunction> function_ranges_cached(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return function_ranges(path);
  std::filesystem::path dir = user_cache_file("functions");
  if (dir.empty()) return function_ranges(path);
  std::string key = file_identity_key(st);
  for (char& c : key) if (c == ' ') c = '-';
  const std::filesystem::path file = dir / key;
  // Header: magic, count, FNV-1a of the entries; then the entries.
  if (std::optional<std::string> bytes = read_whole_file(file.string());
      bytes && bytes->size() >= 24 && (bytes->size() - 24) % sizeof(PackedFunction) == 0) {
    uint64_t count = 0, sum = 0;
    std::memcpy(&count, bytes->data() + 8, 8);
    std::memcpy(&sum, bytes->data() + 16, 8);
    if (std::memcmp(bytes->data(), kFunctionsMagic, 8) == 0 && count == (bytes->size() - 24) / sizeof(PackedFunction) &&
        fnv64(bytes->data() + 24, bytes->size() - 24) == sum) {
      std::vector<ElfFunction> fns(count);
      for (uint64_t i = 0; i < count; ++i) {
        PackedFunction f;
        std::memcpy(&f, bytes->data() + 24 + i * sizeof f, sizeof f);
        fns[i] = ElfFunction{f.addr, f.size, f.symbol != 0};
      }
      return fns;
    }
  }
  std::vector<ElfFunction> fns = function_ranges(path);
  // Written whole under a temporary name, then renamed: a reader sees a
  // complete entry or none (rrx runs at the same time share the directory).
  std::string bytes(24 + fns.size() * sizeof(PackedFunction), '\0');
  for (size_t i = 0; i < fns.size(); ++i) {
    PackedFunction f{fns[i].addr, fns[i].size, fns[i].symbol ? 1u : 0u};
    std::memcpy(bytes.data() + 24 + i * sizeof f, &f, sizeof f);
  }
  const uint64_t count = fns.size(), sum = fnv64(bytes.data() + 24, bytes.size() - 24);
  std::memcpy(bytes.data(), kFunctionsMagic, 8);
  std::memcpy(bytes.data() + 8, &count, 8);
  std::memcpy(bytes.data() + 16, &sum, 8);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string tmp = file.string() + ".tmp." + std::to_string(::getpid());
  if (UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)); out.get() >= 0) {
    bool ok = ::write(out.get(), bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
    if (ok && ::rename(tmp.c_str(), file.c_str()) == 0) return fns;
  }
  ::unlink(tmp.c_str());
  return fns;
}

}  // namespace rrx
