// Creates a directory with files, lists it with getdents64 (raw syscall, with
// a small buffer so it takes several calls) and with readdir; prints the
// names sorted, with their types.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct linux_dirent64 {
  unsigned long long d_ino;
  long long d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

static int cmp(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

static const char* type_name(unsigned char t) {
  switch (t) {
    case DT_REG: return "file";
    case DT_DIR: return "dir";
    case DT_LNK: return "link";
    default: return "other";
  }
}

int main(void) {
  const char* tmp = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/rrx-getdents-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  const char* files[] = {"zeta", "alpha", "Mixed-Case", "a-rather-long-file-name-to-make-records-bigger",
                         "beta.txt", "gamma.c", "0digits", "delta"};
  char path[8192];
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    if (fd < 0) {
      perror("open");
      return 1;
    }
    close(fd);
  }
  snprintf(path, sizeof path, "%s/subdir", dir);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/link-to-alpha", dir);
  symlink("alpha", path);

  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    perror("open dir");
    return 1;
  }
  char* names[64];
  size_t count = 0;
  int calls = 0;
  char buf[128];  // small: several getdents64 calls
  for (;;) {
    long n = syscall(SYS_getdents64, dfd, buf, sizeof buf);
    calls++;
    if (n < 0) {
      perror("getdents64");
      return 1;
    }
    if (n == 0) break;
    for (long off = 0; off < n;) {
      struct linux_dirent64* d = (struct linux_dirent64*)(buf + off);
      char* entry = malloc(strlen(d->d_name) + 16);
      sprintf(entry, "%s (%s)", d->d_name, type_name(d->d_type));
      if (count < 64) names[count++] = entry;
      off += d->d_reclen;
    }
  }
  qsort(names, count, sizeof names[0], cmp);
  printf("getdents64: %zu entries in %d calls\n", count, calls);
  for (size_t i = 0; i < count; i++) printf("  %s\n", names[i]);

  // The same through readdir (glibc's buffer, one or two getdents64 calls).
  DIR* d = opendir(dir);
  size_t n2 = 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL) n2++;
  closedir(d);
  printf("readdir: %zu entries\n", n2);

  // getdents64 on a file is ENOTDIR.
  snprintf(path, sizeof path, "%s/alpha", dir);
  int fd = open(path, O_RDONLY);
  long r = syscall(SYS_getdents64, fd, buf, sizeof buf);
  printf("getdents64(file) = %ld\n", r);
  close(fd);

  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    unlink(path);
  }
  snprintf(path, sizeof path, "%s/link-to-alpha", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/subdir", dir);
  rmdir(path);
  close(dfd);
  printf("rmdir = %d\n", rmdir(dir));
  return 0;
}
