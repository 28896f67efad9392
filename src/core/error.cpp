#include "core/error.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <unistd.h>

#include <dlfcn.h>
#include <unwind.h>

namespace rrx {

void throw_errno(std::string_view what, int err) {
  throw Error(std::string(what) + ": " + std::strerror(err));
}

void throw_errno(std::string_view what) { throw_errno(what, errno); }

static void write_str(const char* s) {
  size_t n = std::strlen(s);
  while (n > 0) {
    ssize_t w = ::write(2, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}

static void format_hex(char* out, unsigned long v) {
  static const char digits[] = "0123456789abcdef";
  char tmp[17];
  int n = 0;
  do {
    tmp[n++] = digits[v & 0xf];
    v >>= 4;
  } while (v != 0);
  out[0] = '0';
  out[1] = 'x';
  for (int i = 0; i < n; ++i) out[2 + i] = tmp[n - 1 - i];
  out[2 + n] = '\0';
}

static void write_frame(int frame, uintptr_t ip) {
  char num[8], rev[8], hex[24];
  int f = frame, k = 0;
  do { rev[k++] = static_cast<char>('0' + f % 10); f /= 10; } while (f && k < 7);
  for (int i = 0; i < k; ++i) num[i] = rev[k - 1 - i];
  num[k] = '\0';
  write_str("  #");
  write_str(num);
  write_str(" ");
  format_hex(hex, ip);
  write_str(hex);
  // Names of exported symbols only (rrx's own functions are not in its
  // dynamic symbol table): addr2line gives the rest.
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(ip), &info) != 0 && info.dli_sname != nullptr) {
    write_str(" in ");
    write_str(info.dli_sname);
    write_str("+");
    format_hex(hex, ip - reinterpret_cast<uintptr_t>(info.dli_saddr));
    write_str(hex);
  }
  write_str("\n");
}

namespace {
struct BacktraceState {
  int frame = 0;
  bool skipped_self = false;
};
}  // namespace

static _Unwind_Reason_Code backtrace_step(struct _Unwind_Context* context, void* arg) {
  auto* state = static_cast<BacktraceState*>(arg);
  if (!state->skipped_self) {  // print_backtrace's own frame
    state->skipped_self = true;
    return _URC_NO_REASON;
  }
  if (state->frame >= 64) return _URC_END_OF_STACK;
  int before_insn = 0;
  uintptr_t ip = _Unwind_GetIPInfo(context, &before_insn);
  if (ip == 0) return _URC_END_OF_STACK;
  write_frame(state->frame++, ip);
  return _URC_NO_REASON;
}

// The unwinder of the C++ runtime (libgcc's, linked in): signal frames are
// walked through the kernel's sigreturn trampoline by libc's unwind tables.
void print_backtrace() {
  write_str("rrx backtrace:\n");
  BacktraceState state;
  _Unwind_Backtrace(backtrace_step, &state);
  if (state.frame == 0) write_str("  (no backtrace available)\n");
  write_str("(symbolize with: addr2line -Cfe $(which rrx) ADDRESS; names are mangled C++)\n");
}

void fatal(std::string_view msg) {
  std::fprintf(stderr, "rrx: internal error: %.*s\n", static_cast<int>(msg.size()), msg.data());
  std::fflush(stderr);
  print_backtrace();
  std::signal(SIGABRT, SIG_DFL);
  std::abort();
}

static void crash_handler(int sig) {
  write_str("rrx: crashed with signal ");
  write_str(strsignal(sig));
  write_str("; this is a bug in rrx\n");
  print_backtrace();
  std::signal(sig, SIG_DFL);
  raise(sig);
}

void install_crash_handlers() {
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) {
    struct sigaction sa {};
    sa.sa_handler = crash_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND | SA_NODEFER;
    sigaction(sig, &sa, nullptr);
  }
}

}  // namespace rrx
