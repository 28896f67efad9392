// rdrand/rdseed search with Zydis over ELF code sections: see insn_scan.h.
#include "record/insn_scan/insn_scan.h"

#include <Zydis/Zydis.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "core/error.h"

namespace rrx::insn_scan {

// rdrand is 0f c7 /6 and rdseed 0f c7 /7 with a register operand (ModRM
// f0-ff), after optional prefixes. Only where those bytes occur is the code
// decoded: from 64 bytes before them (or from where the previous decoding
// stopped, when that is closer), instruction by instruction, up to the
// instruction that covers them. x86 decoding resynchronizes within a few
// instructions, so this finds what a sweep from the start would (a linear
// sweep of a whole libc takes ~100 ms; this ~1 ms), and bytes that are part
// of another instruction (an immediate, a displacement) are not reported.
std::vector<Found> find_random_insns(const uint8_t* code, size_t len) {
  constexpr size_t kLookBack = 64;
  std::vector<Found> found;
  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction insn;
  size_t decoded_to = 0;  // an instruction boundary where the last decoding stopped
  for (size_t p = 0; p + 3 <= len; ++p) {
    const void* c7 = std::memchr(code + p + 1, 0xc7, len - p - 2);
    if (!c7) break;
    p = static_cast<size_t>(static_cast<const uint8_t*>(c7) - code) - 1;
    if (code[p] != 0x0f || code[p + 2] < 0xf0) continue;
    if (p < decoded_to) continue;  // inside the instruction already decoded
    size_t off = decoded_to + kLookBack >= p ? decoded_to : p - kLookBack;
    while (off <= p) {
      if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder, nullptr, code + off, len - off, &insn))) {
        ++off;
        continue;
      }
      if (off + insn.length > p) {  // the instruction that covers the candidate
        if (insn.mnemonic == ZYDIS_MNEMONIC_RDRAND) found.push_back({off, "rdrand"});
        if (insn.mnemonic == ZYDIS_MNEMONIC_RDSEED) found.push_back({off, "rdseed"});
      }
      off += insn.length;
    }
    decoded_to = off;
  }
  return found;
}

namespace {

class File {
 public:
  explicit File(const std::string& path) : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) throw Error("cannot open " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) throw Error("cannot stat " + path + ": " + std::strerror(errno));
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~File() { ::close(fd_); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  uint64_t size() const { return size_; }
  // Bytes [offset, offset+len) or false when the file is shorter.
  bool read(uint64_t offset, void* buf, size_t len) const {
    if (offset > size_ || len > size_ - offset) return false;
    size_t done = 0;
    while (done < len) {
      ssize_t n = ::pread(fd_, static_cast<char*>(buf) + done, len - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw Error("cannot read " + path_ + ": " + (n < 0 ? std::strerror(errno) : "short file"));
      done += static_cast<size_t>(n);
    }
    return true;
  }

 private:
  std::string path_;
  int fd_;
  uint64_t size_ = 0;
};

std::vector<CodeRange> code_ranges_of(const File& f) {
  std::vector<CodeRange> ranges;
  Elf64_Ehdr eh {};
  if (!f.read(0, &eh, sizeof eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64) {
    return ranges;
  }
  if (eh.e_shnum > 0 && eh.e_shentsize == sizeof(Elf64_Shdr)) {
    for (unsigned i = 0; i < eh.e_shnum; ++i) {
      Elf64_Shdr sh {};
      if (!f.read(eh.e_shoff + uint64_t{i} * sizeof sh, &sh, sizeof sh)) break;
      if (sh.sh_type == SHT_PROGBITS && (sh.sh_flags & SHF_EXECINSTR) && sh.sh_size > 0) {
        ranges.push_back({sh.sh_offset, sh.sh_size, sh.sh_addr});
      }
    }
    if (!ranges.empty()) return ranges;
  }
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) return ranges;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph {};
    if (!f.read(eh.e_phoff + uint64_t{i} * sizeof ph, &ph, sizeof ph)) break;
    if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) && ph.p_filesz > 0) {
      ranges.push_back({ph.p_offset, ph.p_filesz, ph.p_vaddr});
    }
  }
  return ranges;
}

}  // namespace

std::vector<CodeRange> code_ranges(const std::string& path) {
  File f(path);
  return code_ranges_of(f);
}

namespace {

// Each code range of the file in turn, read into storage that is not
// zero-filled first (the ranges are read whole: a libc's text is ~1.5 MiB,
// and clearing it before reading it over was a good part of the scan).
template <typename F>
void for_each_code_range(const File& f, F&& visit) {
  std::unique_ptr<uint8_t[]> buf;
  size_t capacity = 0;
  for (const CodeRange& r : code_ranges_of(f)) {
    if (r.file_offset > f.size() || r.size > f.size() - r.file_offset) continue;  // a damaged header
    const size_t len = static_cast<size_t>(r.size);
    if (len > capacity) {
      buf.reset(new uint8_t[len]);  // default-initialised: not cleared
      capacity = len;
    }
    if (!f.read(r.file_offset, buf.get(), len)) continue;
    visit(r, buf.get(), len);
  }
}

}  // namespace

std::vector<Site> scan_file(const std::string& path) {
  File f(path);
  std::vector<Site> sites;
  for_each_code_range(f, [&](const CodeRange& r, const uint8_t* code, size_t len) {
    for (const Found& x : find_random_insns(code, len)) {
      sites.push_back({x.mnemonic, r.file_offset + x.offset, r.addr + x.offset});
    }
  });
  return sites;
}

std::vector<uint64_t> cpuid_candidates(const std::string& path) {
  File f(path);
  std::vector<uint64_t> out;
  for_each_code_range(f, [&](const CodeRange& r, const uint8_t* code, size_t len) {
    for (size_t p = 0; p + 2 <= len; ++p) {
      const void* hit = std::memchr(code + p, 0x0f, len - p - 1);
      if (!hit) break;
      p = static_cast<size_t>(static_cast<const uint8_t*>(hit) - code);
      if (code[p + 1] == 0xa2) out.push_back(r.file_offset + p);
    }
  });
  return out;
}

TscScan find_tsc_insns(const uint8_t* code, size_t len, uint64_t addr, const std::vector<ElfFunction>& functions) {
  TscScan out;
  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction insn;
  // Extents that start more than the largest extent's size before a
  // candidate cannot hold it: the walk back stops there.
  uint64_t max_size = 0;
  for (const ElfFunction& f : functions) max_size = std::max(max_size, f.size);
  // The decoding of the last function decoded: the offset (in `code`) of
  // each instruction start, in order, and where the decoding stopped
  // (its end, or an undecodable byte). Candidates are met in address order
  // and most share their function with the previous one (a byte pair 0f 31
  // is common: `... 0f` then `xor`), so each function is decoded once.
  const ElfFunction* decoded = nullptr;
  std::vector<uint32_t> starts;
  size_t decoded_end = 0;
  uint64_t last_start = UINT64_MAX;  // the instruction found last (a candidate inside it is the same)
  for (size_t p = 0; p + 2 <= len; ++p) {
    const void* hit = std::memchr(code + p, 0x0f, len - p - 1);
    if (!hit) break;
    p = static_cast<size_t>(static_cast<const uint8_t*>(hit) - code);
    const bool tsc = code[p + 1] == 0x31;
    const bool tscp = p + 3 <= len && code[p + 1] == 0x01 && code[p + 2] == 0xf9;
    if (!tsc && !tscp) continue;
    const uint64_t at = addr + p;
    // The innermost extent holding it: the latest start at or below it
    // whose extent reaches it (extents nest or are disjoint, aliases repeat).
    const ElfFunction* fn = nullptr;
    auto it = std::upper_bound(functions.begin(), functions.end(), at,
                               [](uint64_t a, const ElfFunction& f) { return a < f.addr; });
    while (it != functions.begin()) {
      --it;
      if (at - it->addr >= max_size) break;
      if (at - it->addr < it->size && (!fn || it->addr > fn->addr || (it->addr == fn->addr && it->size < fn->size))) {
        fn = &*it;
      }
    }
    if (!fn || fn->addr < addr || fn->addr + fn->size > addr + len) {
      out.unconfirmed.push_back({0, at, {}, tscp});
      continue;
    }
    if (fn != decoded) {
      decoded = fn;
      starts.clear();
      size_t off = static_cast<size_t>(fn->addr - addr);
      const size_t end = static_cast<size_t>(fn->addr + fn->size - addr);
      while (off < end && ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder, nullptr, code + off, end - off, &insn))) {
        starts.push_back(static_cast<uint32_t>(off));
        off += insn.length;
      }
      decoded_end = off;
    }
    if (p >= decoded_end) {  // the decoding stopped before it (data in the code?)
      out.unconfirmed.push_back({0, at, {}, tscp});
      continue;
    }
    // The instruction that covers the candidate.
    auto cover = std::upper_bound(starts.begin(), starts.end(), static_cast<uint32_t>(p));
    const size_t off = *(cover - 1);
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder, nullptr, code + off, len - off, &insn))) continue;
    if ((insn.mnemonic == ZYDIS_MNEMONIC_RDTSC || insn.mnemonic == ZYDIS_MNEMONIC_RDTSCP) &&
        off + insn.length == p + (tsc ? 2 : 3) && addr + off != last_start) {
      last_start = addr + off;
      out.found.push_back({0, addr + off, std::vector<uint8_t>(code + off, code + off + insn.length),
                           insn.mnemonic == ZYDIS_MNEMONIC_RDTSCP});
    }
  }
  return out;
}

TscScan scan_tsc_file(const std::string& path) {
  File f(path);
  TscScan out;
  std::vector<uint8_t> buf;
  std::vector<ElfFunction> functions;
  bool have_functions = false;
  for (const CodeRange& r : code_ranges_of(f)) {
    if (r.file_offset > f.size() || r.size > f.size() - r.file_offset) continue;  // a damaged header
    buf.resize(r.size);
    if (!f.read(r.file_offset, buf.data(), buf.size())) continue;
    bool any = false;
    for (size_t p = 0; p + 2 <= buf.size() && !any; ++p) {
      const void* hit = std::memchr(buf.data() + p, 0x0f, buf.size() - p - 1);
      if (!hit) break;
      p = static_cast<size_t>(static_cast<const uint8_t*>(hit) - buf.data());
      any = buf[p + 1] == 0x31 || (p + 3 <= buf.size() && buf[p + 1] == 0x01 && buf[p + 2] == 0xf9);
    }
    if (!any) continue;
    if (!have_functions) {
      functions = function_ranges(path);
      have_functions = true;
    }
    TscScan part = find_tsc_insns(buf.data(), buf.size(), r.addr, functions);
    for (TscInsn& x : part.found) {
      x.file_offset = r.file_offset + (x.elf_addr - r.addr);
      out.found.push_back(std::move(x));
    }
    for (TscInsn& x : part.unconfirmed) {
      x.file_offset = r.file_offset + (x.elf_addr - r.addr);
      out.unconfirmed.push_back(std::move(x));
    }
  }
  return out;
}

}  // namespace rrx::insn_scan
