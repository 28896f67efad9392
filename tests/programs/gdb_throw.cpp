// A short C++ program that throws and catches: libstdc++ is mapped after
// _start, where the only checkpoint of such a short trace is. For
// tests/gdb/shared_library.sh: catch throw + reverse-finish out of
// __cxa_throw.
#include <cstdio>
#include <stdexcept>

static int last_ok = -1;

void check(int x) {
  if (x >= 2) throw std::runtime_error("too big");
  last_ok = x;
}

int main() {
  int caught = 0;
  for (int i = 0; i < 3; ++i) {
    try {
      check(i);
    } catch (const std::exception& e) {
      std::printf("caught '%s' at %d\n", e.what(), i);
      ++caught;
    }
  }
  return caught == 1 && last_ok == 1 ? 0 : 1;
}
