// The site patcher on a running program: tests/programs/patch_sites runs
// under ptrace; at the first syscall of each site the test plans a patch
// (the hook is a plain `syscall`, so the stub makes the real call), writes
// it the way the recorder will (stub pages within ±2 GiB, after-mode sites
// backed out at the entry stop and restarted, before-mode sites patched at
// the exit stop), and the program's output must be what it prints natively.
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/elf_file.h"
#include "patcher/patcher.h"

namespace pt = rrx::patcher;

namespace {

const std::string kProgram = std::string(RRX_TEST_PROGRAMS_DIR) + "/patch_sites";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Forks the program with stdout to `out`; traced: PTRACE_TRACEME before exec.
pid_t spawn(const std::string& out, const std::string& scratch, bool traced) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    if (traced) {
      ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
      raise(SIGSTOP);
    }
    execl(kProgram.c_str(), kProgram.c_str(), scratch.c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

struct Mapping {
  uint64_t lo = 0, hi = 0, offset = 0;
  std::string perms, path;
};

std::optional<Mapping> mapping_of(pid_t pid, uint64_t addr) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string line;
  while (std::getline(maps, line)) {
    Mapping m;
    char perms[8] = {}, path[512] = {};
    unsigned long lo, hi, off;
    if (std::sscanf(line.c_str(), "%lx-%lx %7s %lx %*s %*s %511[^\n]", &lo, &hi, perms, &off, path) < 4) continue;
    if (addr < lo || addr >= hi) continue;
    m.lo = lo, m.hi = hi, m.offset = off, m.perms = perms, m.path = path;
    return m;
  }
  return std::nullopt;
}

// ELF address of file offset `off`, from the file's PT_LOAD headers.
std::optional<uint64_t> vaddr_of_offset(const std::string& path, uint64_t off) {
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr eh{};
  if (!in.read(reinterpret_cast<char*>(&eh), sizeof eh)) return std::nullopt;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    in.seekg(static_cast<std::streamoff>(eh.e_phoff + i * sizeof ph));
    if (!in.read(reinterpret_cast<char*>(&ph), sizeof ph)) return std::nullopt;
    if (ph.p_type == PT_LOAD && off >= ph.p_offset && off < ph.p_offset + ph.p_filesz) {
      return ph.p_vaddr + (off - ph.p_offset);
    }
  }
  return std::nullopt;
}

class Tracee {
 public:
  explicit Tracee(pid_t pid) : pid_(pid) {}
  user_regs_struct regs() {
    user_regs_struct r{};
    REQUIRE(ptrace(PTRACE_GETREGS, pid_, nullptr, &r) == 0);
    return r;
  }
  void set_regs(const user_regs_struct& r) { REQUIRE(ptrace(PTRACE_SETREGS, pid_, nullptr, &r) == 0); }
  std::vector<uint8_t> read(uint64_t addr, size_t len) {
    std::vector<uint8_t> b(len);
    int fd = mem();
    ssize_t n = pread(fd, b.data(), len, static_cast<off_t>(addr));
    close(fd);
    REQUIRE(n == static_cast<ssize_t>(len));
    return b;
  }
  void write(uint64_t addr, const std::vector<uint8_t>& b) {
    int fd = mem();
    ssize_t n = pwrite(fd, b.data(), b.size(), static_cast<off_t>(addr));
    close(fd);
    REQUIRE(n == static_cast<ssize_t>(b.size()));
  }
  // To the next syscall stop (entry or exit); false when the program exited.
  bool next_syscall_stop(int* exit_status) {
    int sig = 0;
    for (;;) {
      REQUIRE(ptrace(PTRACE_SYSCALL, pid_, nullptr, reinterpret_cast<void*>(static_cast<long>(sig))) == 0);
      int status = 0;
      REQUIRE(waitpid(pid_, &status, 0) == pid_);
      if (WIFEXITED(status) || WIFSIGNALED(status)) {
        *exit_status = status;
        return false;
      }
      if (WIFSTOPPED(status) && WSTOPSIG(status) == (SIGTRAP | 0x80)) return true;
      sig = WIFSTOPPED(status) && WSTOPSIG(status) != SIGTRAP ? WSTOPSIG(status) : 0;
    }
  }

 private:
  // Opened per access: the program's memory changes at exec.
  int mem() {
    int fd = open(("/proc/" + std::to_string(pid_) + "/mem").c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(fd >= 0);
    return fd;
  }
  pid_t pid_;
};

bool never_patched(long nr) {
  switch (nr) {
    case SYS_clone: case SYS_clone3: case SYS_fork: case SYS_vfork: case SYS_execve: case SYS_execveat:
    case SYS_rt_sigreturn: case SYS_exit: case SYS_exit_group: case SYS_mmap:
      return true;
    default:
      return false;
  }
}

}  // namespace

TEST_CASE("patched syscall sites of a running program keep its behaviour") {
  const std::string scratch = "/tmp/rrx-patch-sites-" + std::to_string(getpid());
  const std::string native_out = scratch + ".native", patched_out = scratch + ".patched";
  int status = 0;
  pid_t native = spawn(native_out, scratch, false);
  REQUIRE(waitpid(native, &status, 0) == native);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  pid_t pid = spawn(patched_out, scratch, true);
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSTOPPED(status));
  REQUIRE(ptrace(PTRACE_SETOPTIONS, pid, nullptr, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) == 0);
  Tracee t(pid);
  const pt::HookSequence hook = [](uint64_t) { return std::vector<uint8_t>{0x0f, 0x05}; };
  const size_t slot = (pt::max_stub_size(2) + 63) / 64 * 64;
  constexpr size_t kRegion = 1 << 16;

  struct Region { uint64_t lo, next; };
  std::map<uint64_t, Region> regions;          // mapping start -> its stub region
  std::set<uint64_t> seen, patched_after, patched_before, refused;
  std::map<std::string, int> refusals;
  size_t stub_calls = 0, traced_from_patched = 0;
  std::optional<user_regs_struct> backing_out;       // after-mode: entry regs of the call being backed out
  std::optional<pt::SitePatch> patch_at_exit;        // before-mode: patch to write at the exit stop
  std::optional<user_regs_struct> injecting;         // entry regs of a call replaced by an mmap
  bool in_syscall = false;
  while (t.next_syscall_stop(&status)) {
    user_regs_struct r = t.regs();
    if (in_syscall) {  // exit stop
      in_syscall = false;
      if (injecting) {
        const uint64_t result = r.rax;
        auto m = mapping_of(pid, injecting->rip - 2);
        REQUIRE(m);
        REQUIRE(result < uint64_t(-4096));
        regions[m->lo] = {result, result};
        user_regs_struct again = *injecting;
        again.rip -= 2;
        again.rax = injecting->orig_rax;
        t.set_regs(again);
        injecting.reset();
      } else if (backing_out) {
        user_regs_struct again = *backing_out;
        again.rip -= 2;
        again.rax = backing_out->orig_rax;
        t.set_regs(again);
        backing_out.reset();
      } else if (patch_at_exit) {
        REQUIRE(r.rip == patch_at_exit->displaced_hi);
        t.write(patch_at_exit->stub_addr, patch_at_exit->stub_bytes);
        t.write(patch_at_exit->patch_addr, patch_at_exit->patch_bytes);
        patch_at_exit.reset();
      }
      continue;
    }
    in_syscall = true;
    const uint64_t site = r.rip - 2;
    bool from_stub = false;
    for (auto& [lo, reg] : regions) from_stub |= site >= reg.lo && site < reg.lo + kRegion;
    if (from_stub) {
      ++stub_calls;
      continue;
    }
    if (patched_after.count(site) || patched_before.count(site)) ++traced_from_patched;
    if (seen.count(site) || never_patched(static_cast<long>(r.orig_rax))) continue;
    auto m = mapping_of(pid, site);
    REQUIRE(m);
    if (!regions.count(m->lo)) {
      // Replace this call by an mmap of a stub region just below the mapping; the call restarts after it.
      injecting = r;
      user_regs_struct mm = r;
      mm.orig_rax = SYS_mmap;
      mm.rdi = m->lo - (64u << 20);
      mm.rsi = kRegion;
      mm.rdx = PROT_READ | PROT_EXEC;
      mm.r10 = MAP_PRIVATE | MAP_ANONYMOUS;
      mm.r8 = uint64_t(-1);
      mm.r9 = 0;
      t.set_regs(mm);
      continue;
    }
    seen.insert(site);
    std::vector<rrx::ElfFunction> functions;
    uint64_t bias = 0;
    if (!m->path.empty() && m->path[0] == '/') {
      functions = rrx::function_ranges(m->path);
      auto v = vaddr_of_offset(m->path, m->offset);
      REQUIRE(v);
      bias = m->lo - *v;
    }
    pt::WindowBounds b = pt::choose_window(functions, bias, site, m->lo, m->hi);
    pt::CodeWindow w{b.lo, t.read(b.lo, b.hi - b.lo), b.from_symbol, b.entries};
    Region& reg = regions[m->lo];
    REQUIRE(reg.next + slot <= reg.lo + kRegion);
    auto plan = pt::plan_site(w, site, reg.next, hook);
    if (auto* why = std::get_if<pt::Refusal>(&plan)) {
      refused.insert(site);
      ++refusals[why->reason];
      continue;
    }
    pt::SitePatch p = std::get<pt::SitePatch>(plan);
    reg.next += slot;
    if (p.needs_exit_stop) {
      patched_before.insert(site);
      patch_at_exit = p;
    } else {
      patched_after.insert(site);
      t.write(p.stub_addr, p.stub_bytes);
      t.write(p.patch_addr, p.patch_bytes);
      backing_out = r;
      user_regs_struct skip = r;
      skip.orig_rax = uint64_t(-1);
      t.set_regs(skip);
    }
  }
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  for (const auto& [why, n] : refusals) std::printf("patcher live: refused %d: %s\n", n, why.c_str());
  std::printf("patcher live: %zu sites: %zu patched after, %zu before, %zu refused; %zu calls through stubs\n",
              seen.size(), patched_after.size(), patched_before.size(), refused.size(), stub_calls);
  const std::string expected = slurp(native_out), got = slurp(patched_out);
  unlink(native_out.c_str());
  unlink(patched_out.c_str());
  CHECK(got == expected);
  CHECK(expected.find("3: pid-consistent=1") != std::string::npos);
  CHECK(patched_after.size() + patched_before.size() >= 10);
  CHECK(stub_calls >= 30);             // the later rounds ran through the stubs
  CHECK(traced_from_patched == 0);     // and never through a patched site again
}
