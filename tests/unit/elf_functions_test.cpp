// Function extents from Go's function table (.gopclntab), which stripped Go
// binaries keep (rrx::function_ranges, core/elf_file.h): synthetic ELF files
// in each header format, a PIE whose text start is a relocation, damaged
// tables; and the go tool itself where Go is installed, whose rdtscp
// (runtime.cputicks) the rdtsc patcher must find.
#include <catch2/catch.hpp>

#include <elf.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/elf_file.h"
#include "record/insn_scan/insn_scan.h"

using rrx::ElfFunction;
using rrx::function_ranges;

namespace {

constexpr uint64_t kTextAddr = 0x401000;

template <typename T>
void put(std::vector<uint8_t>& b, size_t at, T v) {
  if (b.size() < at + sizeof v) b.resize(at + sizeof v);
  std::memcpy(b.data() + at, &v, sizeof v);
}

struct Section {
  std::string name;
  uint32_t type;
  uint64_t flags, addr;
  std::vector<uint8_t> bytes;
  uint64_t entsize = 0;
};

// A 64-bit ELF file with these sections (and a section name table), written
// to a temporary file; its path.
std::string write_elf(const std::vector<Section>& sections) {
  std::vector<uint8_t> f(sizeof(Elf64_Ehdr));
  std::string names(1, '\0');
  std::vector<Elf64_Shdr> sh(1);
  for (const Section& s : sections) {
    Elf64_Shdr h{};
    h.sh_name = static_cast<uint32_t>(names.size());
    names += s.name + '\0';
    h.sh_type = s.type;
    h.sh_flags = s.flags;
    h.sh_addr = s.addr;
    h.sh_offset = f.size();
    h.sh_size = s.bytes.size();
    h.sh_entsize = s.entsize;
    f.insert(f.end(), s.bytes.begin(), s.bytes.end());
    while (f.size() % 8) f.push_back(0);
    sh.push_back(h);
  }
  Elf64_Shdr strtab{};
  strtab.sh_name = static_cast<uint32_t>(names.size());
  names += ".shstrtab";
  names += '\0';
  strtab.sh_type = SHT_STRTAB;
  strtab.sh_offset = f.size();
  strtab.sh_size = names.size();
  f.insert(f.end(), names.begin(), names.end());
  while (f.size() % 8) f.push_back(0);
  sh.push_back(strtab);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_ehsize = sizeof eh;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shoff = f.size();
  eh.e_shnum = static_cast<uint16_t>(sh.size());
  eh.e_shstrndx = static_cast<uint16_t>(sh.size() - 1);
  std::memcpy(f.data(), &eh, sizeof eh);
  for (const Elf64_Shdr& h : sh) {
    const auto* p = reinterpret_cast<const uint8_t*>(&h);
    f.insert(f.end(), p, p + sizeof h);
  }
  char path[] = "/tmp/rrx-elf-functions-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, f.data(), f.size()) == static_cast<ssize_t>(f.size()));
  close(fd);
  return path;
}

Section text() { return {".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, kTextAddr, std::vector<uint8_t>(0x100, 0xcc)}; }

// A Go 1.18+ table: entry offsets from text_start, the last one the end.
std::vector<uint8_t> pclntab_118(uint32_t magic, uint64_t text_start, const std::vector<uint32_t>& entries) {
  std::vector<uint8_t> b;
  put<uint32_t>(b, 0, magic);
  put<uint8_t>(b, 6, 1);
  put<uint8_t>(b, 7, 8);
  put<uint64_t>(b, 8, entries.size() - 1);  // nfunc
  put<uint64_t>(b, 24, text_start);
  put<uint64_t>(b, 64, 72);  // pclnOffset: the function table
  for (size_t i = 0; i < entries.size(); ++i) {
    put<uint32_t>(b, 72 + i * 8, entries[i]);
    put<uint32_t>(b, 72 + i * 8 + 4, 0x1000);  // (funcoff: not read)
  }
  return b;
}

std::vector<std::pair<uint64_t, uint64_t>> extents(const std::string& path) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const ElfFunction& f : function_ranges(path)) out.emplace_back(f.addr, f.size);
  unlink(path.c_str());
  return out;
}

using Extents = std::vector<std::pair<uint64_t, uint64_t>>;

}  // namespace

TEST_CASE("function extents from a Go 1.18+ function table: each runs to the next entry") {
  for (uint32_t magic : {0xfffffff0u, 0xfffffff1u}) {
    auto path = write_elf({text(), {".gopclntab", SHT_PROGBITS, SHF_ALLOC, 0x500000,
                                    pclntab_118(magic, kTextAddr, {0, 0x20, 0x60, 0x100})}});
    CHECK(extents(path) == Extents{{0x401000, 0x20}, {0x401020, 0x40}, {0x401060, 0xa0}});
  }
}

TEST_CASE("function extents from a Go PIE's table: its text start is the addend of a relocation") {
  const uint64_t table_addr = 0x4d6ae0;
  std::vector<uint8_t> rela;
  put<uint64_t>(rela, 0, 0x4d0000);  // another relocation first
  put<uint64_t>(rela, 8, ELF64_R_INFO(0, R_X86_64_RELATIVE));
  put<int64_t>(rela, 16, 0x1234);
  put<uint64_t>(rela, 24, table_addr + 24);  // pcHeader.textStart
  put<uint64_t>(rela, 32, ELF64_R_INFO(0, R_X86_64_RELATIVE));
  put<int64_t>(rela, 40, 0x1000);
  auto path = write_elf({text(),
                         {".rela", SHT_RELA, SHF_ALLOC, 0x4a20a8, rela, sizeof(Elf64_Rela)},
                         {".data.rel.ro.gopclntab", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, table_addr,
                          pclntab_118(0xfffffff0, 0, {0, 0x10, 0x30})}});
  CHECK(extents(path) == Extents{{0x1000, 0x10}, {0x1010, 0x20}});
  // Without the relocation the text start is unknown: no extents.
  auto none = write_elf({text(), {".data.rel.ro.gopclntab", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, table_addr,
                                  pclntab_118(0xfffffff0, 0, {0, 0x10, 0x30})}});
  CHECK(extents(none).empty());
}

TEST_CASE("function extents from Go 1.2-1.15 and 1.16-1.17 tables: pointer-size entries") {
  std::vector<uint8_t> t12;  // the entries right after the header
  put<uint32_t>(t12, 0, 0xfffffffb);
  put<uint8_t>(t12, 6, 1);
  put<uint8_t>(t12, 7, 8);
  put<uint64_t>(t12, 8, 2);
  put<uint64_t>(t12, 16, kTextAddr);
  put<uint64_t>(t12, 32, kTextAddr + 0x40);
  put<uint64_t>(t12, 48, kTextAddr + 0x48);  // the end
  CHECK(extents(write_elf({text(), {".gopclntab", SHT_PROGBITS, SHF_ALLOC, 0x500000, t12}})) ==
        Extents{{0x401000, 0x40}, {0x401040, 0x8}});
  std::vector<uint8_t> t116;  // the entries at pclnOffset
  put<uint32_t>(t116, 0, 0xfffffffa);
  put<uint8_t>(t116, 6, 1);
  put<uint8_t>(t116, 7, 8);
  put<uint64_t>(t116, 8, 1);
  put<uint64_t>(t116, 56, 64);
  put<uint64_t>(t116, 64, kTextAddr + 0x80);
  put<uint64_t>(t116, 80, kTextAddr + 0x100);
  CHECK(extents(write_elf({text(), {".gopclntab", SHT_PROGBITS, SHF_ALLOC, 0x500000, t116}})) ==
        Extents{{0x401080, 0x80}});
}

TEST_CASE("a damaged Go function table gives no extents, and no error") {
  // Entries that go back.
  CHECK(extents(write_elf({text(), {".gopclntab", SHT_PROGBITS, SHF_ALLOC, 0x500000,
                                    pclntab_118(0xfffffff0, kTextAddr, {0, 0x40, 0x20, 0x100})}}))
            .empty());
  // More functions than the section can hold.
  auto big = pclntab_118(0xfffffff0, kTextAddr, {0, 0x40});
  put<uint64_t>(big, 8, uint64_t{1} << 40);
  CHECK(extents(write_elf({text(), {".gopclntab", SHT_PROGBITS, SHF_ALLOC, 0x500000, big}})).empty());
  // A table cut short.
  auto cut = pclntab_118(0xfffffff0, kTextAddr, {0, 0x40, 0x60, 0x80});
  cut.resize(cut.size() - 12);
  CHECK(extents(write_elf({text(), {".gopclntab", SHT_PROGBITS, SHF_ALLOC, 0x500000, cut}})).empty());
  // Not Go's magic, or not x86-64's pointer size.
  CHECK(extents(write_elf({text(), {".gopclntab", SHT_PROGBITS, SHF_ALLOC, 0x500000,
                                    pclntab_118(0x12345678, kTextAddr, {0, 0x40})}}))
            .empty());
  auto p4 = pclntab_118(0xfffffff0, kTextAddr, {0, 0x40});
  put<uint8_t>(p4, 7, 4);
  CHECK(extents(write_elf({text(), {".gopclntab", SHT_PROGBITS, SHF_ALLOC, 0x500000, p4}})).empty());
}

TEST_CASE("the stripped go tool's rdtscp (runtime.cputicks) is found by decoding its Go function") {
  std::string go;
  for (const char* cand : {"/usr/lib/go/bin/go", "/usr/local/go/bin/go"}) {
    if (access(cand, X_OK) == 0) go = cand;
  }
  if (go.empty()) {
    const std::string p = rrx::find_program("go");
    if (!p.empty()) go = p;
  }
  if (go.empty()) {
    WARN("go is not installed: the real-binary part is not checked");
    return;
  }
  const auto fns = function_ranges(go);
  REQUIRE(fns.size() > 1000);
  const auto scan = rrx::insn_scan::scan_tsc_file(go);
  bool rdtscp = false;
  for (const auto& x : scan.found) rdtscp |= x.rdtscp;
  CHECK(rdtscp);  // (before Go's table was read: none found, its byte pairs left "unconfirmed")
}

TEST_CASE("function_ranges_cached: the same extents, read back from the cache file, a damaged one parsed again") {
  char dir[] = "/tmp/rrx-fncache-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const char* old = std::getenv("XDG_CACHE_HOME");
  std::string saved = old ? old : "";
  setenv("XDG_CACHE_HOME", dir, 1);
  const std::string libc = "/lib/x86_64-linux-gnu/libc.so.6";
  std::vector<rrx::ElfFunction> parsed = rrx::function_ranges(libc);
  REQUIRE(parsed.size() > 1000);
  auto same = [&](const std::vector<rrx::ElfFunction>& v) {
    if (v.size() != parsed.size()) return false;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i].addr != parsed[i].addr || v[i].size != parsed[i].size || v[i].symbol != parsed[i].symbol) return false;
    }
    return true;
  };
  CHECK(same(rrx::function_ranges_cached(libc)));  // parsed, then written
  const std::string cache_dir = std::string(dir) + "/rrx/functions";
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(cache_dir)) files.push_back(e.path().string());
  REQUIRE(files.size() == 1);
  CHECK(same(rrx::function_ranges_cached(libc)));  // read back
  {
    // A byte of an entry changed: the checksum refuses it, the file is parsed and rewritten.
    std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('\x5a');
  }
  CHECK(same(rrx::function_ranges_cached(libc)));
  CHECK(same(rrx::function_ranges_cached(libc)));
  std::filesystem::remove_all(dir);
  if (old) setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  else unsetenv("XDG_CACHE_HOME");
}
