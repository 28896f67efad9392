// A program that makes the same varied libc syscalls several times and
// prints what they returned (deterministic output): the live test of the
// site patcher (tests/unit/patcher_live_test.cpp) patches its syscall sites
// under ptrace and checks the output is unchanged.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "/tmp/patch_sites.txt";
  for (int round = 0; round < 4; ++round) {
    pid_t p = getpid(), pp = getppid();
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
    char text[64];
    int n = snprintf(text, sizeof text, "round %d of the patched sites\n", round);
    ssize_t w = write(fd, text, (size_t)n);
    off_t end = lseek(fd, 0, SEEK_CUR);
    char back[64] = {0};
    ssize_t r = pread(fd, back, sizeof back - 1, 0);
    struct stat st;
    int s = fstat(fd, &st);
    int c = close(fd);
    struct timespec ts;
    int g = clock_gettime(CLOCK_MONOTONIC, &ts);
    struct timespec nap = {0, 1000};
    int z = nanosleep(&nap, NULL);
    int pfd[2];
    int pi = pipe(pfd);
    ssize_t pw = write(pfd[1], "pipe", 4);
    char pbuf[8] = {0};
    ssize_t pr = read(pfd[0], pbuf, sizeof pbuf);
    close(pfd[0]);
    close(pfd[1]);
    DIR* d = opendir("/");
    int entries = 0;
    while (d && readdir(d)) ++entries;
    if (d) closedir(d);
    long raw = syscall(SYS_getuid) == (long)getuid();
    printf("%d: pid-consistent=%d wrote=%zd at=%ld read=%zd '%.*s' stat=%d size=%ld close=%d clock=%d "
           "sleep=%d pipe=%d/%zd/%zd '%s' dir=%d raw=%ld\n",
           round, p == getpid() && pp == getppid(), w, (long)end, r, (int)(r > 0 ? r - 1 : 0), back, s,
           (long)st.st_size, c, g, z, pi, pw, pr, pbuf, entries > 2, raw);
    fflush(stdout);
  }
  unlink(path);
  return 0;
}
