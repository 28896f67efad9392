#include "cli/sources_command.h"

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <libelf.h>
#include <unistd.h>

#include <iostream>
#include <map>
#include <set>
#include <type_traits>

#include "core/error.h"
#include "trace_format/recorded_files.h"
#include "trace_format/trace_dir.h"

namespace fs = std::filesystem;

namespace rrx::cli {

namespace {

// libdw (and the libelf it links) is loaded by rrx sources alone, when it
// first reads a file: linked into rrx it cost every rrx process ~1 ms of
// start-up (libdw, libelf and their compression libraries mapped and
// relocated), a good part of a short program's recording or replay.
#define RRX_LIBDW_FUNCTIONS(X)                                                                          \
  X(elf_version) X(elf_begin) X(elf_end) X(elf_kind) X(dwarf_begin_elf) X(dwarf_end) X(dwelf_elf_gnu_build_id) \
  X(dwarf_formstring) X(dwarf_attr_integrate) X(dwarf_get_units) X(dwarf_getsrcfiles) X(dwarf_filesrc)
struct Libdw {
#define RRX_LIBDW_SLOT(name) decltype(&::name) name = nullptr;
  RRX_LIBDW_FUNCTIONS(RRX_LIBDW_SLOT)
#undef RRX_LIBDW_SLOT
};

const Libdw& libdw() {
  static const Libdw fns = [] {
    void* h = ::dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* why = ::dlerror();
      throw Error(std::string("rrx sources reads DWARF with libdw, which cannot be loaded: ") +
                  (why ? why : "libdw.so.1 not found") + " (Debian: apt install libdw1)");
    }
    Libdw f;
    auto bind = [&](auto& slot, const char* name) {
      void* sym = ::dlsym(h, name);
      if (!sym) throw Error(std::string("libdw.so.1 has no ") + name + ": rrx sources cannot read DWARF");
      slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(sym);
    };
#define RRX_LIBDW_BIND(name) bind(f.name, #name);
    RRX_LIBDW_FUNCTIONS(RRX_LIBDW_BIND)
#undef RRX_LIBDW_BIND
    return f;
  }();
  return fns;
}

// An open ELF file with its DWARF (if any); closes everything it opened.
class DwarfFile {
 public:
  explicit DwarfFile(const fs::path& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return;
    elf_ = libdw().elf_begin(fd_, ELF_C_READ_MMAP, nullptr);
    if (!elf_ || libdw().elf_kind(elf_) != ELF_K_ELF) return;
    dwarf_ = libdw().dwarf_begin_elf(elf_, DWARF_C_READ, nullptr);
  }
  ~DwarfFile() {
    if (dwarf_) libdw().dwarf_end(dwarf_);
    if (elf_) libdw().elf_end(elf_);
    if (fd_ >= 0) ::close(fd_);
  }
  DwarfFile(const DwarfFile&) = delete;
  DwarfFile& operator=(const DwarfFile&) = delete;

  bool elf() const { return elf_ && libdw().elf_kind(elf_) == ELF_K_ELF; }
  Dwarf* dwarf() const { return dwarf_; }
  // The host's separate debug info for this file's build id, if installed.
  fs::path build_id_debug_file() const {
    const void* id = nullptr;
    ssize_t n = elf_ ? libdw().dwelf_elf_gnu_build_id(elf_, &id) : -1;
    if (n < 2 || !id) return {};
    static const char digits[] = "0123456789abcdef";
    const auto* b = static_cast<const unsigned char*>(id);
    std::string hex;
    for (ssize_t i = 0; i < n; ++i) {
      hex += digits[b[i] >> 4];
      hex += digits[b[i] & 0xf];
    }
    return fs::path("/usr/lib/debug/.build-id") / hex.substr(0, 2) / (hex.substr(2) + ".debug");
  }

 private:
  int fd_ = -1;
  Elf* elf_ = nullptr;
  Dwarf* dwarf_ = nullptr;
};

std::string attr_string(Dwarf_Die* die, unsigned attr) {
  Dwarf_Attribute a;
  const char* s = libdw().dwarf_formstring(libdw().dwarf_attr_integrate(die, attr, &a));
  return s ? s : "";
}

// Lexically normal, and absolute where the unit's directory is: a relative
// name is relative to comp_dir. A relative comp_dir (a build with
// -fdebug-prefix-map=DIR=., as Debian's libc) leaves it relative: libdw
// already put that directory in front of line table names (DWARF 5's
// directory 0 is comp_dir).
std::string source_path(const std::string& name, const std::string& comp_dir) {
  fs::path p(name);
  if (p.is_relative() && fs::path(comp_dir).is_absolute()) p = fs::path(comp_dir) / p;
  return p.lexically_normal().string();
}

// "<built-in>", "<artificial>": the compiler's, not files.
bool compiler_made(const std::string& name) {
  auto slash = name.rfind('/');
  return name.compare(slash == std::string::npos ? 0 : slash + 1, 1, "<") == 0;
}

// Adds the source files of every compilation unit; false when `dw` holds none.
bool collect(Dwarf* dw, std::set<std::string>& out) {
  bool any = false;
  Dwarf_CU* cu = nullptr;
  Dwarf_Die cudie;
  uint8_t unit_type = 0;
  while (libdw().dwarf_get_units(dw, cu, &cu, nullptr, &unit_type, &cudie, nullptr) == 0) {
    if (unit_type != DW_UT_compile && unit_type != DW_UT_partial && unit_type != DW_UT_skeleton) continue;
    any = true;
    const std::string comp_dir = attr_string(&cudie, DW_AT_comp_dir);
    const std::string name = attr_string(&cudie, DW_AT_name);
    if (!name.empty() && !compiler_made(name)) out.insert(source_path(name, comp_dir));
    Dwarf_Files* files = nullptr;
    size_t n = 0;
    if (libdw().dwarf_getsrcfiles(&cudie, &files, &n) != 0) continue;
    for (size_t i = 0; i < n; ++i) {
      const char* f = libdw().dwarf_filesrc(files, i, nullptr, nullptr);
      // libdw names a DWARF 4 table's unused entry 0 "???".
      if (!f || !*f || std::string_view(f) == "???" || compiler_made(f)) continue;
      out.insert(source_path(f, comp_dir));
    }
  }
  return any;
}

}  // namespace

DebugSources debug_sources(const fs::path& elf_file) {
  static const bool version_ok = libdw().elf_version(EV_CURRENT) != EV_NONE;
  DebugSources result;
  if (!version_ok) throw Error("libelf is unusable (elf_version failed)");
  DwarfFile file(elf_file);
  if (!file.elf()) return result;
  result.elf = true;
  std::set<std::string> sources;
  result.has_dwarf = file.dwarf() && collect(file.dwarf(), sources);
  if (!result.has_dwarf) {
    fs::path separate = file.build_id_debug_file();
    std::error_code ec;
    if (!separate.empty() && fs::exists(separate, ec)) {
      DwarfFile debug(separate);
      result.has_dwarf = debug.dwarf() && collect(debug.dwarf(), sources);
    }
  }
  result.files.assign(sources.begin(), sources.end());
  return result;
}

int list_sources(const std::string& trace) {
  const fs::path dir = trace::resolve_trace(trace);
  const trace::RecordedFiles files = trace::RecordedFiles::scan(dir);
  std::set<std::string> sources;
  std::vector<std::string> without_debug_info;
  int status = 0;
  for (const auto& copy : files.copies()) {
    fs::path stored;
    try {
      stored = trace::stored_file_path(dir, copy.hash);
    } catch (const Error& e) {
      std::cerr << "rrx: " << copy.paths.front() << ": " << e.what() << "\n";
      status = 1;
      continue;
    }
    DebugSources s = debug_sources(stored);
    if (!s.elf) continue;
    if (!s.has_dwarf) without_debug_info.push_back(copy.paths.front());
    sources.insert(s.files.begin(), s.files.end());
  }
  for (const auto& src : sources) {
    std::error_code ec;
    const char* status = fs::path(src).is_relative() ? "relative\t"
                         : fs::is_regular_file(src, ec) ? "present\t"
                                                        : "missing\t";
    std::cout << status << src << "\n";
  }
  for (const auto& bin : without_debug_info) std::cout << "no-debug-info\t" << bin << "\n";
  return status;
}

}  // namespace rrx::cli
