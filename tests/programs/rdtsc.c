// rdtsc and rdtscp through inline assembly; prints the values.
#include <stdint.h>
#include <stdio.h>

static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdtscp(uint32_t* aux) {
  uint32_t lo, hi, c;
  __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(c));
  *aux = c;
  return ((uint64_t)hi << 32) | lo;
}

int main(void) {
  uint64_t a = rdtsc();
  uint64_t b = rdtsc();
  uint32_t aux1 = 0, aux2 = 0;
  uint64_t c = rdtscp(&aux1);
  volatile uint64_t x = 0;
  for (int i = 0; i < 1000000; i++) x += (uint64_t)i;
  uint64_t d = rdtscp(&aux2);
  uint64_t e = rdtsc();
  printf("rdtsc   %llu\n", (unsigned long long)a);
  printf("rdtsc   %llu (+%llu)\n", (unsigned long long)b, (unsigned long long)(b - a));
  printf("rdtscp  %llu aux %u (+%llu)\n", (unsigned long long)c, aux1, (unsigned long long)(c - b));
  printf("rdtscp  %llu aux %u (+%llu)\n", (unsigned long long)d, aux2, (unsigned long long)(d - c));
  printf("rdtsc   %llu (+%llu)\n", (unsigned long long)e, (unsigned long long)(e - d));
  printf("monotonic: %s\n", a <= b && b <= c && c <= d && d <= e ? "yes" : "no");
  uint64_t sum = 0;
  for (int i = 0; i < 100; i++) sum += rdtsc() & 0xff;
  printf("100 more rdtsc, low bytes sum %llu\n", (unsigned long long)sum);
  return (int)(x & 0);
}
