// Errors and fatal failures of rrx itself.
//
// rrx::Error is for failures a user can cause (bad arguments, a missing
// program, a broken trace): the command line prints its message and exits
// non-zero. rrx::fatal() is for broken invariants inside rrx: it prints the
// message and a backtrace of rrx (the C++ runtime's unwinder) and aborts.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace rrx {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws rrx::Error with "WHAT: strerror(errno)".
[[noreturn]] void throw_errno(std::string_view what, int err);
[[noreturn]] void throw_errno(std::string_view what);

// Prints "rrx: internal error: MSG", a backtrace of rrx, and aborts.
[[noreturn]] void fatal(std::string_view msg);

// Writes a backtrace of the calling thread to stderr (async-signal-safe).
void print_backtrace();

// SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGABRT inside rrx print a backtrace first.
void install_crash_handlers();

}  // namespace rrx

#define RRX_ASSERT(cond)                                                     \
  do {                                                                       \
    if (!(cond)) ::rrx::fatal(std::string(__FILE__ ":") +                    \
                              std::to_string(__LINE__) + ": assertion `" #cond \
                              "' failed");                                   \
  } while (0)
