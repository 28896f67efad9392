// Looks up vDSO functions the way runtimes do (getauxval(AT_SYSINFO_EHDR),
// then the ELF dynamic symbols) and calls them: under rrx they must still
// exist and give sane answers (rrx turns them into real, recorded syscalls).
// Also glibc's own clock_gettime, gettimeofday, time and getrandom.
#define _GNU_SOURCE
#include <elf.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void* vdso_sym(const char* want) {
  uintptr_t base = getauxval(AT_SYSINFO_EHDR);
  if (!base) return NULL;
  const Elf64_Ehdr* eh = (const Elf64_Ehdr*)base;
  const Elf64_Phdr* ph = (const Elf64_Phdr*)(base + eh->e_phoff);
  const Elf64_Dyn* dyn = NULL;
  uintptr_t load_offset = 0;
  for (int i = 0; i < eh->e_phnum; i++) {
    if (ph[i].p_type == PT_LOAD) load_offset = base + ph[i].p_offset - ph[i].p_vaddr;
    if (ph[i].p_type == PT_DYNAMIC) dyn = (const Elf64_Dyn*)(base + ph[i].p_offset);
  }
  if (!dyn) return NULL;
  const Elf64_Sym* symtab = NULL;
  const char* strtab = NULL;
  const uint32_t* hash = NULL;
  for (; dyn->d_tag != DT_NULL; dyn++) {
    if (dyn->d_tag == DT_SYMTAB) symtab = (const Elf64_Sym*)(load_offset + dyn->d_un.d_ptr);
    if (dyn->d_tag == DT_STRTAB) strtab = (const char*)(load_offset + dyn->d_un.d_ptr);
    if (dyn->d_tag == DT_HASH) hash = (const uint32_t*)(load_offset + dyn->d_un.d_ptr);
  }
  if (!symtab || !strtab || !hash) return NULL;
  uint32_t nsyms = hash[1];  // nchain
  for (uint32_t i = 0; i < nsyms; i++) {
    if (symtab[i].st_shndx != SHN_UNDEF && strcmp(strtab + symtab[i].st_name, want) == 0) {
      return (void*)(load_offset + symtab[i].st_value);
    }
  }
  return NULL;
}

int main(void) {
  printf("AT_SYSINFO_EHDR present: %d\n", getauxval(AT_SYSINFO_EHDR) != 0);
  int (*vgettime)(clockid_t, struct timespec*) = vdso_sym("__vdso_clock_gettime");
  int (*vgetcpu)(unsigned*, unsigned*, void*) = vdso_sym("__vdso_getcpu");
  int (*vgtod)(struct timeval*, void*) = vdso_sym("__vdso_gettimeofday");
  time_t (*vtime)(time_t*) = vdso_sym("__vdso_time");
  printf("found clock_gettime %d getcpu %d gettimeofday %d time %d\n", vgettime != NULL, vgetcpu != NULL,
         vgtod != NULL, vtime != NULL);
  if (!vgettime || !vgetcpu || !vgtod || !vtime) return 1;
  struct timespec a, b, m1, m2;
  long now = syscall(SYS_time, NULL);
  int r1 = vgettime(CLOCK_REALTIME, &a);
  int r2 = vgettime(CLOCK_MONOTONIC, &m1);
  int r3 = vgettime(CLOCK_MONOTONIC, &m2);
  printf("vdso clock_gettime: %d %d %d, realtime sane %d, monotonic ordered %d\n", r1, r2, r3,
         a.tv_sec >= now - 5 && a.tv_sec <= now + 5,
         m2.tv_sec > m1.tv_sec || (m2.tv_sec == m1.tv_sec && m2.tv_nsec >= m1.tv_nsec));
  struct timeval tv;
  int r4 = vgtod(&tv, NULL);
  printf("vdso gettimeofday: %d, sane %d\n", r4, tv.tv_sec >= now - 5 && tv.tv_sec <= now + 5);
  time_t t = vtime(NULL);
  printf("vdso time sane %d\n", t >= now - 5 && t <= now + 5);
  unsigned cpu = 99999, node = 99999;
  int r5 = vgetcpu(&cpu, &node, NULL);
  printf("vdso getcpu: %d, cpu set %d\n", r5, cpu != 99999);
  clock_gettime(CLOCK_REALTIME, &b);
  printf("libc clock_gettime sane %d\n", b.tv_sec >= now - 5 && b.tv_sec <= now + 5);
  printf("libc time sane %d\n", time(NULL) >= now - 5);
  unsigned char buf[64];
  printf("libc getrandom %zd\n", getrandom(buf, sizeof buf, 0));
  printf("sched_getcpu ok %d\n", sched_getcpu() >= 0);
  return 0;
}
