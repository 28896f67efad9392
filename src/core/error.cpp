#include "core/error.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

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

void print_backtrace() {
  unw_context_t context;
  unw_cursor_t cursor;
  if (unw_getcontext(&context) != 0 || unw_init_local(&cursor, &context) != 0) {
    write_str("  (no backtrace available)\n");
    return;
  }
  write_str("rrx backtrace:\n");
  int frame = 0;
  while (unw_step(&cursor) > 0 && frame < 64) {
    unw_word_t ip = 0, offset = 0;
    unw_get_reg(&cursor, UNW_REG_IP, &ip);
    char name[256];
    char hex[24];
    write_str("  #");
    char num[8];
    int f = frame, k = 0;
    char rev[8];
    do { rev[k++] = static_cast<char>('0' + f % 10); f /= 10; } while (f && k < 7);
    for (int i = 0; i < k; ++i) num[i] = rev[k - 1 - i];
    num[k] = '\0';
    write_str(num);
    write_str(" ");
    format_hex(hex, ip);
    write_str(hex);
    if (unw_get_proc_name(&cursor, name, sizeof name, &offset) == 0) {
      write_str(" in ");
      write_str(name);
      write_str("+");
      format_hex(hex, offset);
      write_str(hex);
    }
    write_str("\n");
    ++frame;
  }
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
