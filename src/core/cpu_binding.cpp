// Binding rrx and the tree it runs to one CPU (core/cpu_binding.h).
#include "core/cpu_binding.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace rrx {

namespace {

struct State {
  bool read = false;
  cpu_set_t before{};
  std::optional<int> cpu;
  int claim_fd = -1;
};

State& state() {
  static State s;
  return s;
}

void read_before() {
  State& s = state();
  if (s.read) return;
  CPU_ZERO(&s.before);
  if (::sched_getaffinity(0, sizeof s.before, &s.before) != 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &s.before);
  }
  s.read = true;
}

// Holds `cpu` for this process: an abstract unix socket named for it, which
// the kernel releases when the process exits. False when another holds it.
bool claim(int cpu) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;  // (cannot tell: take it)
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  const std::string name = "rrx-bound-cpu-" + std::to_string(cpu);
  std::memcpy(a.sun_path + 1, name.data(), name.size());  // sun_path[0] == 0: abstract
  const socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0) {
    const bool taken = errno == EADDRINUSE;
    ::close(fd);
    return !taken;
  }
  state().claim_fd = fd;
  return true;
}

}  // namespace

std::optional<int> bind_to_one_cpu(std::optional<int> preferred, std::string* why) {
  State& s = state();
  if (s.cpu) return s.cpu;
  if (::sched_getaffinity(0, sizeof s.before, &s.before) != 0) {
    if (why) *why = std::string("sched_getaffinity: ") + std::strerror(errno);
    s.read = false;  // (read_before() fills it in, with every CPU)
    return std::nullopt;
  }
  s.read = true;
  const int n = CPU_COUNT(&s.before);
  if (n == 0) {
    if (why) *why = "no CPU in the affinity mask";
    return std::nullopt;
  }
  int now = ::sched_getcpu();
  if (now < 0 || now >= CPU_SETSIZE || !CPU_ISSET(now, &s.before)) {
    now = 0;
    while (now < CPU_SETSIZE && !CPU_ISSET(now, &s.before)) ++now;
  }
  int chosen = -1;
  if (preferred && *preferred >= 0 && *preferred < CPU_SETSIZE && CPU_ISSET(*preferred, &s.before) && claim(*preferred)) {
    chosen = *preferred;
  }
  for (int k = 0; chosen < 0 && k < CPU_SETSIZE; ++k) {
    const int c = (now + k) % CPU_SETSIZE;
    if (CPU_ISSET(c, &s.before) && claim(c)) chosen = c;
  }
  if (chosen < 0) chosen = now;  // every CPU held by another rrx: share this one
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(chosen, &one);
  if (::sched_setaffinity(0, sizeof one, &one) != 0) {
    if (why) *why = std::string("sched_setaffinity: ") + std::strerror(errno);
    return std::nullopt;
  }
  s.cpu = chosen;
  return s.cpu;
}

std::optional<int> bound_cpu() { return state().cpu; }

void run_on_any_cpu() {
  State& s = state();
  if (!s.cpu) return;
  ::sched_setaffinity(0, sizeof s.before, &s.before);
}

bool run_beside_bound_cpu() {
  State& s = state();
  if (!s.cpu) return true;
  cpu_set_t others = s.before;
  CPU_CLR(*s.cpu, &others);
  if (CPU_COUNT(&others) == 0) return false;
  return ::sched_setaffinity(0, sizeof others, &others) == 0;
}

const cpu_set_t& unbound_affinity() {
  read_before();
  return state().before;
}

bool cpu_unbound_by_environment() {
  const char* v = std::getenv("RRX_CPU_UNBOUND");
  return v && *v && std::string(v) != "0";
}

}  // namespace rrx
