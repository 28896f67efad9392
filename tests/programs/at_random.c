// The auxiliary vector as the program sees it: AT_RANDOM bytes (the stack
// protector and pointer guard come from them), and a few other entries.
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

int main(void) {
  const unsigned char* r = (const unsigned char*)getauxval(AT_RANDOM);
  printf("AT_RANDOM:");
  for (int i = 0; r && i < 16; i++) printf(" %02x", r[i]);
  printf("\n");
  printf("AT_PAGESZ: %lu\n", getauxval(AT_PAGESZ));
  printf("AT_SECURE: %lu\n", getauxval(AT_SECURE));
  printf("AT_UID: %lu AT_GID: %lu\n", getauxval(AT_UID), getauxval(AT_GID));
  printf("AT_SYSINFO_EHDR (vDSO): %s\n", getauxval(AT_SYSINFO_EHDR) ? "present" : "absent");
  const char* execfn = (const char*)getauxval(AT_EXECFN);
  const char* slash = execfn ? strrchr(execfn, '/') : NULL;
  printf("AT_EXECFN basename: %s\n", slash ? slash + 1 : (execfn ? execfn : "?"));
  return 0;
}
