// std::random_device with libstdc++'s default token: it uses rdseed or
// rdrand when cpuid announces them, otherwise getentropy or /dev/urandom.
// Prints the values: a replay that lets the CPU make them up differs.
#include <cstdio>
#include <random>

int main() {
  std::random_device rd;
  unsigned a = rd(), b = rd();
  std::printf("random_device: %08x %08x\n", a, b);
  return 0;
}
