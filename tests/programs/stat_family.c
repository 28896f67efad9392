// stat, fstat, lstat, fstatat, statx on a file, a symlink, a directory and a
// missing path; prints the fields.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void print_stat(const char* what, int rc, const struct stat* st) {
  if (rc != 0) {
    printf("%s = -1 %s\n", what, strerrorname_np(errno));
    return;
  }
  printf("%s = 0 dev=%llu ino=%llu mode=%o nlink=%llu uid=%u gid=%u rdev=%llu size=%lld "
         "blksize=%ld blocks=%lld atime=%lld.%09ld mtime=%lld.%09ld ctime=%lld.%09ld\n",
         what, (unsigned long long)st->st_dev, (unsigned long long)st->st_ino, st->st_mode,
         (unsigned long long)st->st_nlink, st->st_uid, st->st_gid, (unsigned long long)st->st_rdev,
         (long long)st->st_size, (long)st->st_blksize, (long long)st->st_blocks,
         (long long)st->st_atim.tv_sec, st->st_atim.tv_nsec, (long long)st->st_mtim.tv_sec,
         st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

static void print_statx(const char* what, int rc, const struct statx* sx) {
  if (rc != 0) {
    printf("%s = -1 %s\n", what, strerrorname_np(errno));
    return;
  }
  printf("%s = 0 mask=%#x dev=%u:%u ino=%llu mode=%o nlink=%u uid=%u gid=%u size=%llu "
         "blocks=%llu attributes=%#llx btime=%lld.%09u mtime=%lld.%09u\n",
         what, sx->stx_mask, sx->stx_dev_major, sx->stx_dev_minor,
         (unsigned long long)sx->stx_ino, sx->stx_mode, sx->stx_nlink, sx->stx_uid, sx->stx_gid,
         (unsigned long long)sx->stx_size, (unsigned long long)sx->stx_blocks,
         (unsigned long long)sx->stx_attributes, (long long)sx->stx_btime.tv_sec,
         sx->stx_btime.tv_nsec, (long long)sx->stx_mtime.tv_sec, sx->stx_mtime.tv_nsec);
}

int main(void) {
  const char* tmp = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/rrx-stat-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  char file[4200], link[4200], missing[4200];
  snprintf(file, sizeof file, "%s/file", dir);
  snprintf(link, sizeof link, "%s/link", dir);
  snprintf(missing, sizeof missing, "%s/missing", dir);
  int fd = open(file, O_CREAT | O_WRONLY | O_TRUNC, 0640);
  if (fd < 0 || write(fd, "twelve bytes", 12) != 12) {
    perror("create");
    return 1;
  }
  if (symlink("file", link) != 0) {
    perror("symlink");
    return 1;
  }

  struct stat st;
  print_stat("stat(file)", stat(file, &st), &st);
  print_stat("stat(link)", stat(link, &st), &st);
  print_stat("lstat(link)", lstat(link, &st), &st);
  print_stat("stat(missing)", stat(missing, &st), &st);
  print_stat("fstat(fd)", fstat(fd, &st), &st);
  print_stat("fstat(bad fd)", fstat(9999, &st), &st);
  print_stat("stat(/)", stat("/", &st), &st);
  print_stat("stat(dir)", stat(dir, &st), &st);

  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  print_stat("fstatat(dfd, file)", fstatat(dfd, "file", &st, 0), &st);
  print_stat("fstatat(dfd, link, NOFOLLOW)", fstatat(dfd, "link", &st, AT_SYMLINK_NOFOLLOW), &st);
  print_stat("fstatat(dfd, \"\", EMPTY_PATH)", fstatat(dfd, "", &st, AT_EMPTY_PATH), &st);
  print_stat("fstatat(dfd, missing)", fstatat(dfd, "missing", &st, 0), &st);

  struct statx sx;
  print_statx("statx(file)", statx(AT_FDCWD, file, 0, STATX_ALL, &sx), &sx);
  print_statx("statx(dfd, link, NOFOLLOW)", statx(dfd, "link", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx), &sx);
  print_statx("statx(fd, \"\", EMPTY_PATH)", statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx), &sx);
  print_statx("statx(missing)", statx(AT_FDCWD, missing, 0, STATX_ALL, &sx), &sx);

  char target[64];
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n >= 0) target[n] = 0;
  printf("readlink(link) = %zd \"%s\"\n", n, n >= 0 ? target : "");

  close(fd);
  close(dfd);
  unlink(link);
  unlink(file);
  rmdir(dir);
  return 0;
}
