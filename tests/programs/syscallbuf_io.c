// File and pipe I/O under the syscall buffer: what the library buffers (reads
// and writes of a regular file and /dev/null, open/close, the stat family,
// readlink, access, a non-blocking pipe, a pipe with data waiting) and what it
// must leave traced because it would block: a reader waiting on a pipe that a
// thread fills later, a reader waiting on a socket that a child process
// writes later, a child killed while it makes buffered calls. Prints what it
// got: replay must print the same.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long mix(unsigned long h, const void* p, size_t n) {
  const unsigned char* b = p;
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ul;
  return h;
}

static void nap(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

static int pipe_fds[2];
static void* late_writer(void* arg) {
  (void)arg;
  nap(50);  // the reader is waiting by now
  const char msg[] = "from the thread";
  if (write(pipe_fds[1], msg, sizeof msg) != sizeof msg) abort();
  return NULL;
}

int main(int argc, char** argv) {
  const char* dir = argc > 1 ? argv[1] : "/tmp";
  char path[4096];
  snprintf(path, sizeof path, "%s/syscallbuf_io.%d", dir, (int)getpid());

  // A regular file: written and read back in 512-byte blocks, with pread/pwrite.
  int fd = open(path, O_CREAT | O_RDWR | O_EXCL, 0600);
  if (fd < 0) return perror("open"), 1;
  char block[512];
  for (int i = 0; i < 400; ++i) {
    memset(block, 'a' + i % 26, sizeof block);
    if (write(fd, block, sizeof block) != sizeof block) return perror("write"), 1;
  }
  if (pwrite(fd, "XYZ", 3, 1000) != 3) return perror("pwrite"), 1;
  close(fd);
  unsigned long h = 1469598103934665603ul;
  fd = open(path, O_RDONLY);
  long total = 0, n;
  while ((n = read(fd, block, sizeof block)) > 0) {
    h = mix(h, block, (size_t)n);
    total += n;
  }
  char three[4] = {0};
  // The first call at each libc syscall site is traced (the recorder patches
  // the site then): warm the sites checked as buffered below.
  (void)pread(fd, three, 3, 1000);
  (void)access(path, F_OK);
  {
    char w[8];
    (void)readlink("/proc/self/exe", w, sizeof w);
  }
  if (pread(fd, three, 3, 1000) != 3) return perror("pread"), 1;
  struct stat st;
  if (fstat(fd, &st) != 0) return perror("fstat"), 1;
  close(fd);
  printf("file: %ld bytes, hash %016lx, pread %s, size %ld\n", total, h, three, (long)st.st_size);
  struct stat st2;
  printf("stat: %d, lstat %d, access %d, missing %d/%d\n", stat(path, &st2) == 0 && st2.st_size == st.st_size,
         lstat(path, &st2) == 0, access(path, R_OK), access("/nonexistent/x", F_OK), errno);
  char link[4096];
  ssize_t ln = readlink("/proc/self/exe", link, sizeof link);
  printf("readlink: %s\n", ln > 0 && memmem(link, (size_t)ln, "syscallbuf_io", 13) ? "the program" : "?");
  unlink(path);

  // /dev/null and /dev/zero never block.
  int null = open("/dev/null", O_WRONLY), zero = open("/dev/zero", O_RDONLY);
  for (int i = 0; i < 200; ++i) {
    if (write(null, block, sizeof block) != sizeof block) return 1;
    if (read(zero, block, 64) != 64 || block[0] != 0) return 1;
  }
  close(null);
  close(zero);
  printf("devices: ok\n");

  // A non-blocking pipe: EAGAIN when empty (buffered, it cannot block).
  int nb[2];
  if (pipe2(nb, O_NONBLOCK) != 0) return 1;
  errno = 0;
  n = read(nb[0], block, sizeof block);
  printf("nonblocking empty read: %ld %s\n", n, errno == EAGAIN ? "EAGAIN" : "?");
  if (write(nb[1], "abc", 3) != 3) return 1;
  n = read(nb[0], block, sizeof block);
  printf("nonblocking read: %ld\n", n);

  // A blocking pipe with data waiting: the read cannot block.
  if (pipe(pipe_fds) != 0) return 1;
  if (write(pipe_fds[1], "ready", 5) != 5) return 1;
  n = read(pipe_fds[0], block, sizeof block);
  printf("waiting data read: %ld %.5s\n", n, block);

  // An empty blocking pipe that a thread fills later: must not hang the tree.
  pthread_t t;
  pthread_create(&t, NULL, late_writer, NULL);
  memset(block, 0, sizeof block);
  n = read(pipe_fds[0], block, sizeof block);
  printf("blocking pipe read: %ld %s\n", n, block);
  pthread_join(t, NULL);

  // A socket that a child process writes to later.
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
  pid_t child = fork();
  if (child == 0) {
    close(sv[0]);
    nap(50);
    if (write(sv[1], "from the child", 15) != 15) _exit(1);
    _exit(0);
  }
  close(sv[1]);
  memset(block, 0, sizeof block);
  n = read(sv[0], block, sizeof block);
  printf("blocking socket read: %ld %s\n", n, block);
  int status;
  waitpid(child, &status, 0);
  printf("writer exited %d\n", WEXITSTATUS(status));

  // A child killed while it makes buffered calls: replay has every call it
  // made before the kill.
  child = fork();
  if (child == 0) {
    int c = open("/dev/null", O_WRONLY);
    for (;;) {
      if (write(c, "x", 1) != 1) _exit(1);
      struct stat s;
      fstat(c, &s);
    }
  }
  nap(30);
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  printf("busy child killed by %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return 0;
}
