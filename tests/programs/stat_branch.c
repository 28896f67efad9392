// stat_branch PATH [warm]: statx(PATH); if it exists, opens and prints its
// first line; if not, creates a directory instead. The divergence test edits
// the recorded statx result so the replay takes the other branch. With
// `warm`, a statx of "/" first: under the fast path the first call at a site
// is traced and patches it, so the statx of PATH is then a buffered call.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2 && !(argc == 3 && strcmp(argv[2], "warm") == 0)) {
    fprintf(stderr, "usage: stat_branch PATH [warm]\n");
    return 2;
  }
  struct statx sx;
  if (argc == 3) statx(AT_FDCWD, "/", 0, STATX_SIZE, &sx);
  if (statx(AT_FDCWD, argv[1], 0, STATX_SIZE, &sx) == 0) {
    int fd = open(argv[1], O_RDONLY);
    char buf[256];
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    buf[n > 0 ? n : 0] = 0;
    char* nl = strchr(buf, '\n');
    if (nl) *nl = 0;
    printf("exists, size %llu, first line: %s\n", (unsigned long long)sx.stx_size, buf);
    return 0;
  }
  int err = errno;
  char dir[4200];
  snprintf(dir, sizeof dir, "%s.d", argv[1]);
  int rc = mkdir(dir, 0755);
  printf("missing (%s); mkdir = %d\n", strerrorname_np(err), rc);
  return 1;
}
