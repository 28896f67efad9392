// Helpers for the trace_format unit tests: temporary directories and
// deterministic headers and events covering every field of the schema.
#pragma once

#include <capnp/message.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "trace_format/trace.capnp.h"
#include "trace_format/format.h"

namespace rrx::trace::test {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/rrx-trace-test-XXXXXX";
    char* p = ::mkdtemp(tmpl);
    if (p == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& s) const { return path_ / s; }

 private:
  std::filesystem::path path_;
};

inline std::vector<unsigned char> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<unsigned char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_file(const std::filesystem::path& p, const unsigned char* data, size_t len) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(len));
}

inline void write_file(const std::filesystem::path& p, const std::vector<unsigned char>& data) {
  write_file(p, data.data(), data.size());
}

// splitmix64
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }

 private:
  uint64_t s_;
};

inline std::vector<unsigned char> text_bytes(Rng& r, size_t n) {
  static const char words[] = "the quick brown fox jumps over the lazy dog 0123456789\n";
  std::vector<unsigned char> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<unsigned char>(words[r.below(sizeof words - 1)]);
  return v;
}

inline void fill_header(schema::Header::Builder h) {
  h.setFormatVersion(rrx::trace::kFormatVersion);
  h.setRrxVersion("0.1.0-test");
  h.setKernelRelease("6.1.0-test");
  auto cpu = h.initCpu();
  cpu.setVendor("GenuineIntel");
  cpu.setFamily(6);
  cpu.setModel(85);
  cpu.setStepping(7);
  auto leaves = cpu.initLeaves(3);
  for (unsigned i = 0; i < 3; ++i) {
    leaves[i].setLeaf(i == 2 ? 7 : i);
    leaves[i].setSubleaf(i);
    leaves[i].setEax(0x11111111u * (i + 1));
    leaves[i].setEbx(0x22222222u + i);
    leaves[i].setEcx(0x33333333u + i);
    leaves[i].setEdx(0x44444444u + i);
  }
  auto argv = h.initArgv(3);
  argv.set(0, "/usr/bin/prog");
  argv.set(1, "--flag");
  argv.set(2, "arg with spaces");
  auto envp = h.initEnvp(2);
  envp.set(0, "PATH=/usr/bin:/bin");
  envp.set(1, "HOME=/root");
  h.setCwd("/home/user/work");
  h.setExePath("/usr/bin/prog");
  h.setStartTimeUnixNs(1700000000123456789LL);
  h.setSkipStrategy("seccomp");
  h.setPersonality(0x0040000);
  auto opts = h.initOptions(2);
  opts[0].setKey("chaos");
  opts[0].setValue("off");
  opts[1].setKey("preempt-ms");
  opts[1].setValue("50");
  h.setHostname("testhost");
}

inline void fill_regs(schema::Registers::Builder b, Rng& r) {
  b.setR15(r.next()); b.setR14(r.next()); b.setR13(r.next()); b.setR12(r.next());
  b.setRbp(r.next()); b.setRbx(r.next()); b.setR11(r.next()); b.setR10(r.next());
  b.setR9(r.next()); b.setR8(r.next()); b.setRax(r.next()); b.setRcx(r.next());
  b.setRdx(r.next()); b.setRsi(r.next()); b.setRdi(r.next()); b.setOrigRax(r.next());
  b.setRip(r.next()); b.setCs(0x33); b.setEflags(0x246); b.setRsp(r.next());
  b.setSs(0x2b); b.setFsBase(r.next()); b.setGsBase(0); b.setDs(0); b.setEs(0);
  b.setFs(0); b.setGs(0);
}

inline void set_data(capnp::Data::Builder d, const std::vector<unsigned char>& v) {
  if (!v.empty()) std::memcpy(d.begin(), v.data(), v.size());
}

// Event number i, deterministic; kind = i % 9 unless `kind` >= 0.
// Kinds: 0 syscall, 1 syscallEntry, 2 signal, 3 rdtsc, 4 exec, 5 clone, 6 exit,
// 7 preemption, 8 warning.
inline void fill_event(schema::Event::Builder e, uint64_t i, int kind = -1, size_t max_write = 300) {
  Rng r(i);
  e.setTid(static_cast<int32_t>(1000 + i % 7));
  e.setPid(1000);
  int k = kind >= 0 ? kind : static_cast<int>(i % 9);
  switch (k) {
    case 0: {
      auto s = e.initSyscall();
      s.setNr(static_cast<int64_t>(r.below(450)));
      auto args = s.initArgs(6);
      for (unsigned a = 0; a < 6; ++a) args.set(a, r.next());
      s.setRet(static_cast<int64_t>(r.below(4096)) - 100);
      s.setIsError(s.getRet() < 0);
      s.setIp(0x401000 + r.below(0x1000));
      s.setSp(0x7ffc00000000 + r.below(0x100000));
      unsigned nw = static_cast<unsigned>(r.below(3));
      auto mw = s.initMemWrites(nw);
      for (unsigned w = 0; w < nw; ++w) {
        mw[w].setAddr(0x7f0000000000 + r.below(1 << 20));
        auto bytes = text_bytes(r, r.below(max_write + 1));
        set_data(mw[w].initData(static_cast<unsigned>(bytes.size())), bytes);
      }
      if (r.below(2) == 0) {
        auto strs = s.initStrings(1);
        strs[0].setArg(static_cast<uint8_t>(r.below(6)));
        auto path = text_bytes(r, 1 + r.below(40));
        set_data(strs[0].initValue(static_cast<unsigned>(path.size())), path);
      }
      if (i % 18 == 0) {
        auto m = s.initMapping();
        m.setContentHash("0123456789abcdef");
        m.setPath("/usr/lib/x86_64-linux-gnu/libc.so.6");
        m.setFileOffset(r.below(1 << 20) * 4096);
        m.setFileSize(2000000 + r.below(1000));
      }
      s.setFlags(static_cast<uint32_t>(r.below(4)));
      break;
    }
    case 1: {
      auto s = e.initSyscallEntry();
      s.setNr(static_cast<int64_t>(r.below(450)));
      auto args = s.initArgs(6);
      for (unsigned a = 0; a < 6; ++a) args.set(a, r.next());
      s.setIp(0x401000 + r.below(0x1000));
      auto strs = s.initStrings(2);
      for (unsigned a = 0; a < 2; ++a) {
        strs[a].setArg(static_cast<uint8_t>(a));
        auto v = text_bytes(r, 1 + r.below(20));
        set_data(strs[a].initValue(static_cast<unsigned>(v.size())), v);
      }
      break;
    }
    case 2: {
      fill_regs(e.initRegs(), r);
      auto s = e.initSignal();
      s.setSigno(static_cast<int32_t>(1 + r.below(31)));
      s.setCode(static_cast<int32_t>(r.below(5)) - 2);
      s.setErrno(static_cast<int32_t>(r.below(3)));
      auto si = text_bytes(r, 128);
      set_data(s.initSiginfo(128), si);
      s.setSynchronous(r.below(2) == 0);
      s.setIp(r.next());
      s.setDisposition(r.below(2) == 0 ? schema::Signal::Disposition::DELIVERED
                                       : schema::Signal::Disposition::SUPPRESSED);
      break;
    }
    case 3: {
      auto s = e.initRdtsc();
      s.setValue(r.next());
      s.setAux(static_cast<uint32_t>(r.next()));
      s.setIsRdtscp(r.below(2) == 0);
      s.setIp(r.next());
      break;
    }
    case 4: {
      fill_regs(e.initRegs(), r);
      auto s = e.initExec();
      s.setExePath("/usr/bin/prog");
      s.setExeHash("00112233445566ff");
      s.setInterpPath("/lib64/ld-linux-x86-64.so.2");
      s.setInterpHash("aabbccddeeff0011");
      auto argv = s.initArgv(2);
      argv.set(0, "prog");
      argv.set(1, std::to_string(i));
      auto st = s.initStack();
      st.setAddr(0x7ffc00000000 + r.below(0x1000) * 8);
      auto stack = text_bytes(r, 512 + r.below(512));
      set_data(st.initData(static_cast<unsigned>(stack.size())), stack);
      auto ar = text_bytes(r, 16);
      set_data(s.initAtRandom(16), ar);
      auto auxv = text_bytes(r, 368);
      set_data(s.initAuxv(368), auxv);
      break;
    }
    case 5: {
      auto s = e.initClone();
      s.setChildTid(static_cast<int32_t>(2000 + i));
      s.setFlags(r.next());
      s.setKind(static_cast<schema::Clone::Kind>(r.below(3)));
      break;
    }
    case 6: {
      auto s = e.initExit();
      s.setStatus(static_cast<int32_t>(r.below(256)));
      s.setSigno(static_cast<int32_t>(r.below(32)));
      s.setCoreDumped(r.below(2) == 0);
      s.setGroupExit(r.below(2) == 0);
      break;
    }
    case 7: {
      fill_regs(e.initRegs(), r);
      e.setInexact(true);
      e.initPreemption().setIp(r.next());
      break;
    }
    default: {
      e.setWarning("unsupported syscall " + std::to_string(r.below(500)) + " refused with ENOSYS");
      break;
    }
  }
}

inline bool same_message(schema::Event::Reader a, schema::Event::Reader b) {
  auto ca = capnp::canonicalize(a);
  auto cb = capnp::canonicalize(b);
  return ca.size() == cb.size() && std::memcmp(ca.begin(), cb.begin(), ca.size() * sizeof(capnp::word)) == 0;
}

inline bool event_matches(schema::Event::Reader got, uint64_t i, int kind = -1, size_t max_write = 300) {
  capnp::MallocMessageBuilder mb;
  auto e = mb.initRoot<schema::Event>();
  fill_event(e, i, kind, max_write);
  return same_message(got, e.asReader());
}

}  // namespace rrx::trace::test
