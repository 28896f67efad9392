// The seccomp verdict of a task's filters for a syscall: see seccomp_filter.h.
// The rules are the kernel's (kernel/seccomp.c: seccomp_run_filters,
// __seccomp_filter, __secure_computing_strict; net/core/filter.c for the
// classic-BPF semantics).
#include "core/seccomp_filter.h"

#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace rrx::seccomp {

namespace {

constexpr uint32_t kDataSize = sizeof(Data);  // 64, as sizeof(struct seccomp_data)
static_assert(kDataSize == 64);

// ACTION_ONLY: the action as a signed number; smaller is more restrictive
// (KILL_PROCESS, 0x80000000, is the smallest).
int32_t action_only(uint32_t ret) { return static_cast<int32_t>(ret & SECCOMP_RET_ACTION_FULL); }

}  // namespace

uint32_t run(const Program& program, const Data& data) {
  unsigned char bytes[kDataSize];
  std::memcpy(bytes, &data, sizeof bytes);
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  size_t pc = 0;
  // Every jump goes forward, so at most program.size() steps.
  while (pc < program.size()) {
    const sock_filter& in = program[pc++];
    uint32_t k = in.k;
    uint16_t code = in.code;
    switch (BPF_CLASS(code)) {
      case BPF_LD:
        if (code == (BPF_LD | BPF_W | BPF_ABS)) {
          if (k > kDataSize - 4 || (k & 3) != 0) return SECCOMP_RET_KILL_THREAD;
          std::memcpy(&a, bytes + k, 4);
        } else if (code == (BPF_LD | BPF_W | BPF_LEN)) {
          a = kDataSize;
        } else if (code == (BPF_LD | BPF_IMM)) {
          a = k;
        } else if (code == (BPF_LD | BPF_MEM)) {
          if (k >= BPF_MEMWORDS) return SECCOMP_RET_KILL_THREAD;
          a = mem[k];
        } else {
          return SECCOMP_RET_KILL_THREAD;
        }
        break;
      case BPF_LDX:
        if (code == (BPF_LDX | BPF_W | BPF_LEN)) {
          x = kDataSize;
        } else if (code == (BPF_LDX | BPF_IMM)) {
          x = k;
        } else if (code == (BPF_LDX | BPF_MEM)) {
          if (k >= BPF_MEMWORDS) return SECCOMP_RET_KILL_THREAD;
          x = mem[k];
        } else {
          return SECCOMP_RET_KILL_THREAD;
        }
        break;
      case BPF_ST:
      case BPF_STX:
        if (k >= BPF_MEMWORDS) return SECCOMP_RET_KILL_THREAD;
        mem[k] = BPF_CLASS(code) == BPF_ST ? a : x;
        break;
      case BPF_ALU: {
        uint32_t v = BPF_SRC(code) == BPF_X ? x : k;
        switch (BPF_OP(code)) {
          case BPF_ADD: a += v; break;
          case BPF_SUB: a -= v; break;
          case BPF_MUL: a *= v; break;
          case BPF_DIV:
            if (v == 0) return 0;  // the kernel's filter ends with 0 on a division by zero
            a /= v;
            break;
          case BPF_MOD:
            if (v == 0) return 0;
            a %= v;
            break;
          case BPF_AND: a &= v; break;
          case BPF_OR: a |= v; break;
          case BPF_XOR: a ^= v; break;
          case BPF_LSH: a <<= (v & 31); break;  // the x86-64 JIT's shift (the checker refuses K >= 32)
          case BPF_RSH: a >>= (v & 31); break;
          case BPF_NEG: a = 0u - a; break;
          default: return SECCOMP_RET_KILL_THREAD;
        }
        break;
      }
      case BPF_JMP: {
        if (BPF_OP(code) == BPF_JA) {
          pc += k;
          break;
        }
        uint32_t v = BPF_SRC(code) == BPF_X ? x : k;
        bool taken;
        switch (BPF_OP(code)) {
          case BPF_JEQ: taken = a == v; break;
          case BPF_JGT: taken = a > v; break;
          case BPF_JGE: taken = a >= v; break;
          case BPF_JSET: taken = (a & v) != 0; break;
          default: return SECCOMP_RET_KILL_THREAD;
        }
        pc += taken ? in.jt : in.jf;
        break;
      }
      case BPF_RET:
        if (BPF_RVAL(code) == BPF_K) return k;
        if (BPF_RVAL(code) == BPF_A) return a;
        return SECCOMP_RET_KILL_THREAD;
      case BPF_MISC:
        if (BPF_MISCOP(code) == BPF_TAX) {
          x = a;
        } else if (BPF_MISCOP(code) == BPF_TXA) {
          a = x;
        } else {
          return SECCOMP_RET_KILL_THREAD;
        }
        break;
      default:
        return SECCOMP_RET_KILL_THREAD;
    }
  }
  return SECCOMP_RET_KILL_THREAD;  // ran off the end: the kernel's checker refuses such programs
}

int64_t Verdict::result() const {
  if (outcome == Outcome::Enosys) return -ENOSYS;
  uint32_t data = ret & SECCOMP_RET_DATA;
  return -static_cast<int64_t>(data > 4095 ? 4095 : data);
}

std::shared_ptr<const State> State::strict() {
  auto s = std::make_shared<State>();
  s->strict_ = true;
  return s;
}

std::shared_ptr<const State> State::with_filter(const std::shared_ptr<const State>& prev, Program program) {
  auto s = std::make_shared<State>();
  s->prev_ = prev;
  s->program_ = std::move(program);
  return s;
}

Verdict State::verdict(const Data& data) const {
  Verdict v;
  if (strict_) {
    switch (data.nr) {
      case SYS_read: case SYS_write: case SYS_exit: case SYS_rt_sigreturn:
        return v;
      default:
        v.ret = SECCOMP_RET_KILL_THREAD;
        v.outcome = Outcome::StrictKill;
        return v;
    }
  }
  // Newest filter first; a later one replaces the result only when strictly
  // more restrictive, so among equal actions the newest filter's data wins.
  uint32_t ret = SECCOMP_RET_ALLOW;
  for (const State* s = this; s != nullptr; s = s->prev_.get()) {
    if (s->strict_) continue;
    uint32_t cur = run(s->program_, data);
    if (action_only(cur) < action_only(ret)) ret = cur;
  }
  v.ret = ret;
  switch (ret & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_ALLOW:
    case SECCOMP_RET_LOG: v.outcome = Outcome::Run; break;
    case SECCOMP_RET_ERRNO: v.outcome = Outcome::Errno; break;
    case SECCOMP_RET_TRAP: v.outcome = Outcome::Trap; break;
    case SECCOMP_RET_TRACE:       // rrx never sets PTRACE_O_TRACESECCOMP while recording
    case SECCOMP_RET_USER_NOTIF:  // rrx refuses filters with a listener
      v.outcome = Outcome::Enosys;
      break;
    case SECCOMP_RET_KILL_THREAD: v.outcome = Outcome::KillThread; break;
    default: v.outcome = Outcome::KillProcess; break;
  }
  return v;
}

std::optional<Install> install_request(int64_t nr, const uint64_t args[6]) {
  Install in;
  if (nr == SYS_prctl && args[0] == PR_SET_SECCOMP) {
    if (args[1] == SECCOMP_MODE_STRICT) {
      in.strict = true;
      return in;
    }
    if (args[1] == SECCOMP_MODE_FILTER) {
      in.prog_addr = args[2];
      return in;
    }
    return std::nullopt;
  }
  if (nr == SYS_seccomp) {
    if (args[0] == SECCOMP_SET_MODE_STRICT) {
      in.strict = true;
      return in;
    }
    if (args[0] == SECCOMP_SET_MODE_FILTER) {
      in.flags = args[1];
      in.prog_addr = args[2];
      return in;
    }
  }
  return std::nullopt;
}

bool refused_by_rrx(const uint64_t args[6]) {
  return args[0] == SECCOMP_SET_MODE_FILTER && (args[1] & SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0;
}

std::string describe(uint32_t ret) {
  uint32_t data = ret & SECCOMP_RET_DATA;
  auto with_data = [&](const char* name) { return std::string(name) + "(" + std::to_string(data) + ")"; };
  switch (ret & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_KILL_PROCESS: return "KILL_PROCESS";
    case SECCOMP_RET_KILL_THREAD: return "KILL_THREAD";
    case SECCOMP_RET_TRAP: return with_data("TRAP");
    case SECCOMP_RET_ERRNO: return with_data("ERRNO");
    case SECCOMP_RET_USER_NOTIF: return "USER_NOTIF";
    case SECCOMP_RET_TRACE: return with_data("TRACE");
    case SECCOMP_RET_LOG: return "LOG";
    case SECCOMP_RET_ALLOW: return "ALLOW";
    default: return "action 0x" + [&] {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%x", ret);
      return std::string(buf);
    }();
  }
}

}  // namespace rrx::seccomp
