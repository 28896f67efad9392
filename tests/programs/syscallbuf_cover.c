// The calls the syscall buffer takes besides reads and writes (tests/e2e/
// syscallbuf_cover.sh): fcntl commands (dup, fd and file flags, record locks
// that do not wait), ioctl (FIONBIO, FIOCLEX, TCGETS and TIOCGWINSZ on a file
// that is no terminal), a query of a signal action and of a resource limit,
// dup, unlink, mkdir, rename, rmdir, chmod, fchmod, fchown, umask, statfs,
// fstatfs, sysinfo, getrusage, the path calls that make links and change
// attributes, chdir, dup2/dup3 over a number in use, memory-device opens; writes to stdout and stderr (buffered when they
// are files, and replayed as output); then a file mapped shared, and
// /proc/self/mem, whose writes must stay traced. Every call is made in a loop: the first at a site is
// traced (it patches the site), the others are buffered. Prints what it got.
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <termios.h>
#include <unistd.h>

static void say(int fd, const char* fmt, long a, long b) {
  char line[256];
  int n = snprintf(line, sizeof line, fmt, a, b);
  if (write(fd, line, (size_t)n) != n) exit(3);
}

int main(int argc, char** argv) {
  const char* dir = argc > 1 ? argv[1] : "/tmp";
  char path[4096], path2[4096], sub[4096];
  snprintf(path, sizeof path, "%s/cover.%d", dir, (int)getpid());
  snprintf(path2, sizeof path2, "%s/cover2.%d", dir, (int)getpid());
  snprintf(sub, sizeof sub, "%s/coverdir.%d", dir, (int)getpid());
  for (int round = 0; round < 3; ++round) {
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    if (fd < 0) return perror("open"), 1;
    if (write(fd, "0123456789", 10) != 10) return 1;
    int d1 = fcntl(fd, F_DUPFD_CLOEXEC, 20);
    int d2 = fcntl(fd, F_DUPFD, 30);
    int d3 = dup(fd);
    int fdflags = fcntl(d2, F_GETFD);
    fcntl(d2, F_SETFD, FD_CLOEXEC);
    int fdflags2 = fcntl(d2, F_GETFD);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_APPEND);
    int appending = (fcntl(fd, F_GETFL) & O_APPEND) != 0;
    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 5};
    int locked = fcntl(fd, F_SETLK, &lk);
    struct flock probe = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 5};
    int got = fcntl(fd, F_GETLK, &probe);  // our own lock does not conflict: F_UNLCK
    lk.l_type = F_UNLCK;
    fcntl(fd, F_SETLK, &lk);
    int on = 1;
    int nb = ioctl(fd, FIONBIO, &on);
    int cloexec = ioctl(d3, FIOCLEX);
    struct termios tio;
    int tty = ioctl(fd, TCGETS, &tio);
    struct winsize ws;
    int win = ioctl(fd, TIOCGWINSZ, &ws);
    say(1, "round %ld: dups %ld", round, (d1 >= 20) + (d2 >= 30) + (d3 > fd));
    say(1, " fd flags %ld -> %ld", fdflags, fdflags2);
    say(1, " append %ld lock %ld", appending, locked);
    say(1, " getlk %ld type %ld", got, probe.l_type == F_UNLCK);
    say(1, " fionbio %ld fioclex %ld", nb, cloexec);
    say(1, " tcgets %ld winsz %ld\n", tty, win);
    close(d1);
    close(d2);
    close(d3);

    struct sigaction sa;
    sigaction(SIGTERM, NULL, &sa);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    struct rlimit64 rl64;
    prlimit64(0, RLIMIT_STACK, NULL, &rl64);
    say(1, "sigterm default %ld, nofile limit set %ld\n", sa.sa_handler == SIG_DFL, rl.rlim_cur > 0);
    mode_t old = umask(022);
    umask(old);
    if (mkdir(sub, 0700) != 0) return perror("mkdir"), 1;
    if (rename(path, path2) != 0) return perror("rename"), 1;
    int c1 = chmod(path2, 0640), c2 = fchmod(fd, 0600), c3 = fchown(fd, getuid(), getgid());
    struct stat st;
    fstat(fd, &st);
    struct statfs sfs, sfs2;
    int s1 = statfs(dir, &sfs), s2 = fstatfs(fd, &sfs2);
    struct sysinfo si;
    int s3 = sysinfo(&si);
    struct rusage ru;
    int s4 = getrusage(RUSAGE_SELF, &ru);
    say(1, "chmod %ld mode %lo", c1 + c2 + c3, st.st_mode & 0777);
    say(1, " statfs same %ld, sysinfo+rusage %ld\n", s1 + s2 == 0 && sfs.f_type == sfs2.f_type, s3 + s4);
    // Path calls that change names and attributes, the working directory,
    // dup2/dup3 over a number in use, opens of the memory devices (buffered
    // since buffer ABI 13).
    char hard[4200], soft[4200], moved[4200];
    snprintf(hard, sizeof hard, "%s/hard", sub);
    snprintf(soft, sizeof soft, "%s/soft", sub);
    snprintf(moved, sizeof moved, "%s/moved", sub);
    int l1 = link(path2, hard), l2 = symlink(path2, soft);
    int l3 = renameat(AT_FDCWD, hard, AT_FDCWD, moved), l4 = renameat2(AT_FDCWD, moved, AT_FDCWD, hard, RENAME_NOREPLACE);
    int l5 = unlink(soft) + symlinkat(path2, AT_FDCWD, soft), l6 = unlink(hard) + linkat(AT_FDCWD, path2, AT_FDCWD, hard, 0);
    int a1 = chown(path2, getuid(), getgid()), a2 = lchown(soft, getuid(), getgid());
    int a3 = fchownat(AT_FDCWD, path2, getuid(), getgid(), 0), a4 = fchmodat(AT_FDCWD, path2, 0600, 0);
    struct timespec times[2] = {{1000000000, 0}, {1000000000 + round, 0}};
    int a5 = utimensat(AT_FDCWD, path2, times, 0);
    struct stat ts;
    stat(path2, &ts);
    char here[4096];
    int cwd = open(".", O_RDONLY | O_DIRECTORY);
    int w1 = chdir(sub);
    int w2 = getcwd(here, sizeof here) != NULL && strcmp(here, sub) == 0 ? 0 : -1;
    int w3 = fchdir(cwd);
    close(cwd);
    int nul = open("/dev/null", O_RDWR), rnd = open("/dev/urandom", O_RDONLY);
    int high = dup2(nul, 77), high2 = dup3(rnd, 78, O_CLOEXEC);
    int over = dup2(rnd, 77);  // over a number in use: 77 names urandom now
    unsigned char r[8];
    int got8 = read(77, r, sizeof r) == 8;
    say(1, "links %ld attrs %ld", l1 + l2 + l3 + l4 + l5 + l6, a1 + a2 + a3 + a4 + a5);
    say(1, " mtime %ld cwd %ld", ts.st_mtim.tv_sec == 1000000000 + round, w1 + w2 + w3);
    say(1, " dups %ld read %ld\n", (high == 77) + (high2 == 78) + (over == 77) + (nul >= 0) + (rnd >= 0), got8);
    close(nul);
    close(rnd);
    close(77);
    close(78);
    unlink(soft);
    unlink(hard);
    close(fd);
    if (unlink(path2) != 0 || rmdir(sub) != 0) return perror("unlink"), 1;
    say(2, "round %ld on stderr (%ld)\n", round, 2);
  }

  // A file mapped shared: the recorder records what writes to it change
  // for every process that maps it (a pwrite64 buffered with its bytes).
  int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
  if (fd < 0 || ftruncate(fd, 4096) != 0) return perror("shared"), 1;
  char* m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) return perror("mmap"), 1;
  int w = open(path, O_WRONLY);
  for (int i = 0; i < 3; ++i) {
    char c = (char)('a' + i);
    if (pwrite(w, &c, 1, i) != 1) return 1;
  }
  say(1, "shared map sees %ld %ld\n", m[0] == 'a' && m[1] == 'b' && m[2] == 'c', 0);
  munmap(m, 4096);
  close(w);
  close(fd);
  unlink(path);

  // /proc/self/mem: a regular file on procfs, whose writes change memory:
  // the library asks the recorder about it, and its writes stay traced.
  static char target[8] = "......";
  int mem = open("/proc/self/mem", O_RDWR);
  if (mem < 0) return perror("/proc/self/mem"), 1;
  for (int i = 0; i < 3; ++i) {
    if (pwrite(mem, "xyz" + i, 1, (off_t)(uintptr_t)(target + i)) != 1) return perror("pwrite mem"), 1;
  }
  close(mem);
  say(1, "memory written through /proc/self/mem: %ld%ld\n", strcmp(target, "xyz...") == 0, 1);
  return 0;
}
