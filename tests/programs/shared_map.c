// Shared memory that replay must rebuild as one shared object: a MAP_SHARED
// file written with pwrite/write/ftruncate and read through the map; a file,
// a shm_open object, a memfd, a SysV segment, shared anonymous memory and
// /dev/zero shared by a parent and its child, each with a counter the two
// update in turn (no syscall between a store and the other's load of it);
// mremap growing a shared map; a short file mapped past its end (SIGBUS).
// Usage: shared_map MODE (pwrite | pwrite-turns | file | shm_open | memfd |
// sysv | anon | devzero | mremap | sigbus | readonly), or with a FILE: hold FILE (maps it
// shared, says so in FILE.held, sleeps), map-file FILE (maps it shared and
// reads it), map-wait FILE (maps it shared, says so in FILE.mapped, sleeps
// half a second and exits without reading it).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

static void die(const char* what) {
  perror(what);
  exit(2);
}

static int temp_file(const char* tag) {
  char path[] = "/tmp/rrx-shared-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) die("mkstemp");
  unlink(path);
  (void)tag;
  return fd;
}

// Parent and child take turns on a counter in `mem`: each waits (spinning
// on the shared word itself, with sched_yield) until it is its turn, then
// increments. The turn lives in shared memory too, so every step depends
// on seeing the other's stores.
static int ping_pong(volatile uint32_t* mem, const char* what) {
  const int rounds = 100;
  mem[0] = 0;  // counter
  pid_t pid = fork();
  if (pid < 0) die("fork");
  int me = pid == 0 ? 1 : 0;
  for (int i = 0; i < rounds; ++i) {
    while ((mem[0] & 1) != (uint32_t)me) sched_yield();
    mem[0] = mem[0] + 1;
  }
  if (pid == 0) _exit(0);
  int status;
  waitpid(pid, &status, 0);
  printf("%s: counter %u (expected %d), child status %d\n", what, mem[0], 2 * rounds, status);
  return mem[0] == (uint32_t)(2 * rounds) ? 0 : 1;
}

static int mode_pwrite(void) {
  int fd = temp_file("pwrite");
  if (ftruncate(fd, 8192) != 0) die("ftruncate");
  char* map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) die("mmap");
  pwrite(fd, "written by pwrite", 17, 100);
  printf("map at 100: %.17s\n", map + 100);
  lseek(fd, 4096, SEEK_SET);
  write(fd, "written by write", 16);
  printf("map at 4096: %.16s\n", map + 4096);
  memcpy(map + 200, "stored in the map", 17);
  char buf[32] = {0};
  pread(fd, buf, 17, 200);
  printf("pread at 200: %s\n", buf);
  ftruncate(fd, 100);
  if (ftruncate(fd, 8192) != 0) die("ftruncate");
  printf("after truncate and growth: [%d %d]\n", map[100], map[4096]);
  struct iovec iov[2] = {{"vec", 3}, {"tor", 3}};
  pwritev(fd, iov, 2, 300);
  printf("map at 300: %.6s\n", map + 300);
  // Another mapping of the same file, private: copy-on-write of what the file holds now.
  char* priv = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (priv == MAP_FAILED) die("mmap private");
  printf("private map at 300: %.6s\n", priv + 300);
  priv[300] = 'V';
  printf("shared map still: %.6s\n", map + 300);
  return 0;
}

static int mode_file(void) {
  int fd = temp_file("file");
  if (ftruncate(fd, 4096) != 0) die("ftruncate");
  uint32_t* mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mem == MAP_FAILED) die("mmap");
  int r = ping_pong(mem, "file");
  // The child's stores reached the file too.
  uint32_t v = 0;
  pread(fd, &v, 4, 0);
  printf("file holds %u\n", v);
  return r;
}

static int mode_shm_open(void) {
  char name[64];
  snprintf(name, sizeof name, "/rrx-test-%d", getpid());
  int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) die("shm_open");
  shm_unlink(name);
  if (ftruncate(fd, 4096) != 0) die("ftruncate");
  uint32_t* mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mem == MAP_FAILED) die("mmap");
  return ping_pong(mem, "shm_open");
}

static int mode_memfd(void) {
  int fd = memfd_create("rrx-test", 0);
  if (fd < 0) die("memfd_create");
  if (ftruncate(fd, 4096) != 0) die("ftruncate");
  uint32_t* mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mem == MAP_FAILED) die("mmap");
  // A second mapping of the same memfd in the same process sees the first's stores.
  uint32_t* alias = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
  if (alias == MAP_FAILED) die("mmap alias");
  mem[5] = 1234;
  printf("alias sees %u\n", alias[5]);
  return ping_pong(mem, "memfd");
}

static int mode_sysv(void) {
  int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
  if (id < 0) die("shmget");
  uint32_t* mem = shmat(id, NULL, 0);
  if (mem == (void*)-1) die("shmat");
  shmctl(id, IPC_RMID, NULL);  // gone when the last attach ends
  int r = ping_pong(mem, "sysv");
  // A second attach of the same segment.
  uint32_t* again = shmat(id, NULL, SHM_RDONLY);
  if (again == (void*)-1) die("shmat again");
  printf("second attach sees %u\n", again[0]);
  struct shmid_ds ds;
  if (shmctl(id, IPC_STAT, &ds) == 0) printf("segment size %zu, attached %lu\n", ds.shm_segsz, (unsigned long)ds.shm_nattch);
  if (shmdt(again) != 0) die("shmdt");
  if (shmdt(mem) != 0) die("shmdt");
  return r;
}

static int mode_anon(void) {
  uint32_t* mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) die("mmap");
  return ping_pong(mem, "anonymous");
}

static int mode_devzero(void) {
  int fd = open("/dev/zero", O_RDWR);
  if (fd < 0) die("open /dev/zero");
  uint32_t* mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mem == MAP_FAILED) die("mmap");
  return ping_pong(mem, "/dev/zero");
}

static int mode_mremap(void) {
  int fd = temp_file("mremap");
  if (ftruncate(fd, 4096) != 0) die("ftruncate");
  char* map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) die("mmap");
  strcpy(map, "first page");
  if (ftruncate(fd, 3 * 4096) != 0) die("ftruncate");
  char* big = mremap(map, 4096, 3 * 4096, MREMAP_MAYMOVE);
  if (big == MAP_FAILED) die("mremap");
  pwrite(fd, "third page", 10, 2 * 4096);
  printf("%s / %.10s\n", big, big + 2 * 4096);
  pid_t pid = fork();
  if (pid == 0) {
    strcpy(big + 4096, "from the child");
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  printf("second page: %s\n", big + 4096);
  return 0;
}

static sigjmp_buf jb;
static void on_bus(int sig) { siglongjmp(jb, sig); }

static int mode_sigbus(void) {
  int fd = temp_file("sigbus");
  write(fd, "short", 5);
  char* map = mmap(NULL, 3 * 4096, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) die("mmap");
  signal(SIGBUS, on_bus);
  printf("first page: %.5s\n", map);
  int sig = sigsetjmp(jb, 1);
  if (sig == 0) {
    volatile char c = map[2 * 4096];
    printf("no fault: %d\n", c);
  } else {
    printf("past the end: signal %d\n", sig);
  }
  // The file grows: the page is there now.
  if (ftruncate(fd, 3 * 4096) != 0) die("ftruncate");
  pwrite(fd, "grown", 5, 2 * 4096);
  printf("after growth: %.5s\n", map + 2 * 4096);
  return 0;
}

// For reverse execution: shared anonymous memory changed step by step, with
// syscalls between the steps (so checkpoints fall between them).
__attribute__((noinline)) void step_done(volatile uint32_t* mem, int i) {
  (void)mem;
  (void)i;
  __asm__ volatile("" ::: "memory");
}

static int mode_anon_steps(void) {
  volatile uint32_t* mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) die("mmap");
  for (int i = 1; i <= 6; ++i) {
    mem[0] = (uint32_t)i * 11;
    for (int k = 0; k < 5; ++k) getppid();
    step_done(mem, i);
  }
  printf("last %u\n", mem[0]);
  return 0;
}

// bench/: a 16 MiB memfd mapped shared by a parent and its child; 20,000
// pwrites of 4 KiB into it (each a change replay applies to its copy),
// and sums of the map in between.
static int mode_bench(void) {
  const size_t size = 16u << 20;
  int fd = memfd_create("rrx-bench", 0);
  if (fd < 0 || ftruncate(fd, (off_t)size) != 0) die("memfd");
  unsigned char* map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) die("mmap");
  unsigned char block[4096];
  uint64_t sum = 0;
  pid_t pid = fork();
  for (int i = 0; i < 10000; ++i) {
    memset(block, (i * 7 + (pid == 0)) & 0xff, sizeof block);
    size_t off = ((size_t)i * 4096 * 2 + (pid == 0) * 4096) % size;
    if (pwrite(fd, block, sizeof block, (off_t)off) != (ssize_t)sizeof block) die("pwrite");
    sum += map[(off + 4096 * 3) % size];
  }
  if (pid == 0) _exit(0);
  waitpid(pid, NULL, 0);
  for (size_t off = 0; off < size; off += 512) sum += map[off];
  printf("sum %llu\n", (unsigned long long)sum);
  return 0;
}

// pwrite64 to a shared object, the kernel's rules that replay must keep:
// bytes a pwrite writes are seen at once through every shared mapping of the
// file, in every process (parent and child take turns, each pwriting its
// answer for the other to read through its map, no syscall between); a
// pwrite past the end grows the file (zeros between); with O_APPEND (set at
// open, or later with fcntl F_SETFL) a pwrite goes to the end whatever its
// offset; a pwrite's bytes stay after its fd is closed.
static int mode_pwrite_turns(void) {
  int fd = memfd_create("rrx-turns", 0);
  if (fd < 0 || ftruncate(fd, 8192) != 0) die("memfd");
  volatile uint64_t* map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) die("mmap");
  const int rounds = 300;
  pid_t pid = fork();
  if (pid < 0) die("fork");
  const int me = pid == 0 ? 1 : 0;
  uint64_t bad = 0;
  for (int i = 0; i < rounds; ++i) {
    const uint64_t turn = 2 * (uint64_t)i + (uint64_t)me;
    while (map[0] != turn) sched_yield();  // the other's pwrite, seen through the map
    // The other's answer of its last turn (slots of its own, 250 each).
    const int other_round = me == 1 ? i : i - 1;
    if (other_round >= 0 && map[1 + (1 - me) * 250 + other_round % 250] != turn - 1) ++bad;
    uint64_t v[2] = {turn + 1, turn};
    // Its answer at a slot of its own, then the turn word.
    if (pwrite(fd, &v[1], 8, (off_t)(8 * (1 + me * 250 + i % 250))) != 8) die("pwrite");
    if (pwrite(fd, &v[0], 8, 0) != 8) die("pwrite");
  }
  if (pid == 0) _exit(bad != 0);
  int status;
  waitpid(pid, &status, 0);
  printf("turns: %d rounds, %llu wrong, child status %d\n", rounds, (unsigned long long)bad, status);
  // Past the end: the file grows, zeros between.
  if (pwrite(fd, "grown", 5, 3 * 4096 - 5) != 5) die("pwrite past the end");
  struct stat st;
  fstat(fd, &st);
  char* big = mmap(NULL, 3 * 4096, PROT_READ, MAP_SHARED, fd, 0);
  if (big == MAP_FAILED) die("mmap grown");
  printf("grown to %lld: '%.5s', zeros between %d\n", (long long)st.st_size, big + 3 * 4096 - 5,
         big[8192] == 0 && big[3 * 4096 - 6] == 0);
  // O_APPEND, at open: the pwrite goes to the end.
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  int app = open(path, O_RDWR | O_APPEND);
  if (app < 0) die("open O_APPEND");
  if (pwrite(app, "tail", 4, 0) != 4) die("pwrite O_APPEND");
  fstat(fd, &st);
  char* all = mmap(NULL, 4 * 4096, PROT_READ, MAP_SHARED, fd, 0);
  if (all == MAP_FAILED) die("mmap all");
  printf("O_APPEND: size %lld, '%.4s' at the end, first word %llu\n", (long long)st.st_size, all + st.st_size - 4,
         (unsigned long long)map[0]);
  // O_APPEND set later on an fd that wrote before: to the end too.
  if (pwrite(fd, "mid", 3, 100) != 3) die("pwrite");
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_APPEND);
  char at200[4];
  memcpy(at200, (const char*)map + 200, 4);
  if (pwrite(fd, "last", 4, 200) != 4) die("pwrite F_SETFL");
  fstat(fd, &st);
  printf("F_SETFL O_APPEND: size %lld, '%.4s' at the end, '%.3s' at 100, 200 unchanged %d\n", (long long)st.st_size,
         all + st.st_size - 4, (const char*)map + 100, memcmp(at200, (const char*)map + 200, 4) == 0);
  // The bytes of a pwrite whose fd is closed right after it.
  int w = open(path, O_WRONLY);
  if (w < 0) die("open");
  pwrite(w, "closed", 6, 300);
  close(w);
  printf("after close: '%.6s'\n", (const char*)map + 300);
  return 0;
}

static int mode_readonly(void) {
  int fd = temp_file("ro");
  write(fd, "read only", 9);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  int ro = open(path, O_RDONLY);
  char* map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
  if (map == MAP_FAILED) die("mmap");
  int r = mprotect(map, 4096, PROT_READ | PROT_WRITE);
  printf("%.9s; mprotect writable: %d (%s)\n", map, r, r ? strerror(errno) : "ok");
  return 0;
}

static char* map_path(const char* path, int len) {
  int fd = open(path, O_RDWR);
  if (fd < 0) die(path);
  char* map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) die("mmap");
  return map;
}

static void touch(const char* path, const char* suffix) {
  char name[4096];
  snprintf(name, sizeof name, "%s%s", path, suffix);
  int fd = open(name, O_WRONLY | O_CREAT, 0600);
  if (fd >= 0) close(fd);
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char* mode = argc > 1 ? argv[1] : "pwrite";
  if (!strcmp(mode, "pwrite")) return mode_pwrite();
  if (!strcmp(mode, "file")) return mode_file();
  if (!strcmp(mode, "shm_open")) return mode_shm_open();
  if (!strcmp(mode, "memfd")) return mode_memfd();
  if (!strcmp(mode, "sysv")) return mode_sysv();
  if (!strcmp(mode, "anon")) return mode_anon();
  if (!strcmp(mode, "devzero")) return mode_devzero();
  if (!strcmp(mode, "mremap")) return mode_mremap();
  if (!strcmp(mode, "sigbus")) return mode_sigbus();
  if (!strcmp(mode, "readonly")) return mode_readonly();
  if (!strcmp(mode, "anon-steps")) return mode_anon_steps();
  if (!strcmp(mode, "bench")) return mode_bench();
  if (!strcmp(mode, "pwrite-turns")) return mode_pwrite_turns();
  if (argc > 2 && !strcmp(mode, "hold")) {
    map_path(argv[2], 4096);
    touch(argv[2], ".held");
    for (;;) pause();
  }
  if (argc > 2 && !strcmp(mode, "map-file")) {
    char* map = map_path(argv[2], 4096);
    printf("first byte %d\n", map[0]);
    return 0;
  }
  if (argc > 2 && !strcmp(mode, "map-wait")) {
    map_path(argv[2], 4096);
    touch(argv[2], ".mapped");
    struct timespec ts = {0, 500 * 1000 * 1000};
    nanosleep(&ts, NULL);
    printf("done\n");
    return 0;
  }
  fprintf(stderr, "unknown mode %s\n", mode);
  return 2;
}
