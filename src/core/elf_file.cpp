#include "core/elf_file.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace rrx {

ElfSummary inspect_program(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno(path);
  ElfSummary s{ElfSummary::Kind::NotExecutable, "", false};
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

}  // namespace rrx
