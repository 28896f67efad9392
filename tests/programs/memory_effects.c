// Syscalls whose effect is a write into user memory that replay must redo
// (issue 11): capget's header, SysV semaphores and message queues, futex
// WAKE_OP and PI futex words, madvise dropping pages, process_vm_readv/writev
// and /proc/PID/mem between a parent and its child. Prints what it observed;
// and the lengths written back by failing getsockopt and sched_setattr.
// `memory_effects PART` runs one part (capget sem msg futex madvise vm lengths).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char* what) {
  printf("%s failed: %s\n", what, strerror(errno));
  exit(1);
}

static int capget_part(void) {
  struct __user_cap_header_struct hdr = {0, 0};  // version 0: the kernel writes its preferred one
  long r = syscall(SYS_capget, &hdr, NULL);
  printf("capget(version 0, NULL) = %ld, version now %#x\n", r, hdr.version);
  struct __user_cap_data_struct data[2];
  memset(data, 0xa5, sizeof data);
  r = syscall(SYS_capget, &hdr, data);
  printf("capget(v3) = %ld, effective %#x/%#x\n", r, data[0].effective, data[1].effective);
  hdr.version = 0x12345678;
  memset(data, 0xa5, sizeof data);
  r = syscall(SYS_capget, &hdr, data);
  printf("capget(bad version) = %ld (%s), version now %#x, data untouched %d\n", r, r < 0 ? strerror(errno) : "ok",
         hdr.version, data[0].effective == 0xa5a5a5a5u);
  return 0;
}

union semun {
  int val;
  struct semid_ds* buf;
  unsigned short* array;
};

static int sem_part(void) {
  int id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
  if (id < 0) die("semget");
  unsigned short init[3] = {1, 2, 3};
  if (semctl(id, 0, SETALL, (union semun){.array = init}) != 0) die("semctl SETALL");
  struct sembuf up = {0, 4, 0};
  if (semop(id, &up, 1) != 0) die("semop");

  pid_t child = fork();
  if (child == 0) {
    // Waits in the kernel until the parent raises semaphore 2 by 10.
    struct sembuf down = {2, -12, 0};
    if (semop(id, &down, 1) != 0) die("child semop");
    printf("child: took 12 from semaphore 2\n");
    fflush(stdout);
    _exit(0);
  }
  struct sembuf raise = {2, 10, 0};
  if (semop(id, &raise, 1) != 0) die("semop raise");
  int st = 0;
  waitpid(child, &st, 0);

  unsigned short all[3];
  memset(all, 0xff, sizeof all);
  if (semctl(id, 0, GETALL, (union semun){.array = all}) != 0) die("semctl GETALL");
  printf("GETALL: %u %u %u\n", all[0], all[1], all[2]);
  struct semid_ds ds;
  memset(&ds, 0xff, sizeof ds);
  if (semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}) != 0) die("semctl IPC_STAT");
  printf("IPC_STAT: nsems %lu mode %o\n", (unsigned long)ds.sem_nsems, ds.sem_perm.mode & 0777);
  printf("GETVAL(1) = %d, GETNCNT(0) = %d, GETZCNT(0) = %d\n", semctl(id, 1, GETVAL), semctl(id, 0, GETNCNT),
         semctl(id, 0, GETZCNT));
  struct seminfo si;
  memset(&si, 0, sizeof si);
  int max = semctl(0, 0, SEM_INFO, (union semun){.buf = (struct semid_ds*)&si});
  printf("SEM_INFO: %s, semmsl %s\n", max >= 0 ? "ok" : "failed", si.semmsl > 0 ? "set" : "unset");
  if (semctl(id, 0, IPC_RMID) != 0) die("semctl IPC_RMID");
  printf("removed\n");
  return 0;
}

static int msg_part(void) {
  int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (id < 0) die("msgget");
  struct {
    long mtype;
    char text[32];
  } out = {7, "hello, queue"}, in;
  if (msgsnd(id, &out, strlen(out.text) + 1, 0) != 0) die("msgsnd");
  struct msqid_ds ds;
  memset(&ds, 0xff, sizeof ds);
  if (msgctl(id, IPC_STAT, &ds) != 0) die("msgctl IPC_STAT");
  printf("IPC_STAT: %lu message(s), %lu bytes\n", (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes);
  memset(&in, 0, sizeof in);
  ssize_t n = msgrcv(id, &in, sizeof in.text, 0, 0);
  printf("msgrcv = %zd: type %ld \"%s\"\n", n, in.mtype, in.text);
  if (msgctl(id, IPC_RMID, NULL) != 0) die("msgctl IPC_RMID");
  return 0;
}

static long futex(uint32_t* uaddr, int op, uint32_t val, uintptr_t val2, uint32_t* uaddr2, uint32_t val3) {
  return syscall(SYS_futex, uaddr, op, val, val2, uaddr2, val3);
}

static int futex_part(void) {
  static uint32_t word = 0, second = 5;
  // WAKE_OP: second += 3, wake nobody on either word.
  long r = futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, 1, &second, FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_GT, 0));
  printf("FUTEX_WAKE_OP = %ld, second word %u\n", r, second);
  // PI: the kernel stores the owner's tid in the word.
  static uint32_t pi = 0;
  const uint32_t me = (uint32_t)syscall(SYS_gettid);
  r = futex(&pi, FUTEX_LOCK_PI_PRIVATE, 0, 0, NULL, 0);
  printf("FUTEX_LOCK_PI = %ld, owner is me %d\n", r, (pi & FUTEX_TID_MASK) == me);
  r = futex(&pi, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, NULL, 0);
  printf("FUTEX_UNLOCK_PI = %ld, word %u\n", r, pi);
  r = futex(&pi, FUTEX_TRYLOCK_PI_PRIVATE, 0, 0, NULL, 0);
  printf("FUTEX_TRYLOCK_PI = %ld, owner is me %d\n", r, (pi & FUTEX_TID_MASK) == me);
  r = futex(&pi, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, NULL, 0);
  printf("FUTEX_UNLOCK_PI = %ld, word %u\n", r, pi);
  return 0;
}

static void show_pages(const char* what, const unsigned char* p, size_t pages) {
  printf("%s:", what);
  for (size_t i = 0; i < pages; i++) printf(" %s", p[i * 4096] ? (const char[]){(char)p[i * 4096], 0} : "0");
  printf("\n");
}

static int madvise_part(void) {
  const size_t page = 4096;
  unsigned char* anon = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (anon == MAP_FAILED) die("mmap");
  memset(anon, 'A', 3 * page);
  if (madvise(anon + page, page, MADV_DONTNEED) != 0) die("madvise DONTNEED");
  show_pages("anonymous after DONTNEED of page 2", anon, 3);

  // A private file mapping: the dropped page reads the file again.
  const char* tmp = getenv("TMPDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/rrx-memory-effects-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) die("mkstemp");
  unlink(path);
  char content[2 * 4096];
  memset(content, 'F', sizeof content);
  memcpy(content, "file page one", 13);
  if (write(fd, content, sizeof content) != (ssize_t)sizeof content) die("write");
  char* file = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (file == MAP_FAILED) die("mmap file");
  memcpy(file, "changed in memory", 17);
  file[page] = 'P';
  if (madvise(file, 2 * page, MADV_DONTNEED) != 0) die("madvise DONTNEED file");
  printf("private file mapping after DONTNEED: \"%.13s\" and '%c'\n", file, file[page]);

  // A shared memfd mapping: REMOVE frees its backing: zeros.
  int mfd = memfd_create("rrx-remove", 0);
  if (mfd < 0) die("memfd_create");
  if (ftruncate(mfd, 2 * page) != 0) die("ftruncate");
  char* shared = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
  if (shared == MAP_FAILED) die("mmap memfd");
  memset(shared, 'S', 2 * page);
  int r = madvise(shared, page, MADV_REMOVE);
  printf("MADV_REMOVE = %d: first page byte %d, second '%c'\n", r, shared[0], shared[page]);

  // MADV_FREE: refused under rrx (EINVAL); either way the program goes on.
  r = madvise(anon, page, MADV_FREE);
  if (r != 0 && errno == EINVAL) r = madvise(anon, page, MADV_DONTNEED);
  printf("MADV_FREE or its fallback = %d\n", r);
  anon[0] = 'B';
  show_pages("anonymous after the free", anon, 3);
  return 0;
}

// Lengths the kernel writes back when a call fails: getsockopt's size needed
// (ERANGE), sched_setattr's struct size (E2BIG).
static int lengths_part(void) {
  // Two supplementary groups (as root; otherwise there may be none and the
  // call succeeds): the peer's groups do not fit in 0 bytes.
  gid_t two[2] = {1, 2};
  (void)setgroups(2, two);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) die("socketpair");
  gid_t groups[1];
  socklen_t len = 0;
  int r = getsockopt(sv[0], SOL_SOCKET, SO_PEERGROUPS, groups, &len);
  printf("getsockopt(SO_PEERGROUPS, len 0) = %d (%s), len now %u\n", r, r < 0 ? strerror(errno) : "ok", len);
  int one = 0;
  len = sizeof one;
  r = getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &one, &len);
  printf("getsockopt(SO_TYPE) = %d: %d, len %u\n", r, one, len);

  struct {
    uint32_t size;
    uint32_t policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
    uint32_t util_min, util_max;
    uint64_t future[4];  // past the kernel's struct: non-zero
  } attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.future[3] = 1;
  r = syscall(SYS_sched_setattr, 0, &attr, 0);
  printf("sched_setattr(bigger struct) = %d (%s), size now %u\n", r, r < 0 ? strerror(errno) : "ok", attr.size);
  return 0;
}

static char g_buf[64] = "child's initial bytes";
static char g_buf2[64] = "child's second buffer";

static int vm_part(void) {
  int to_child[2], to_parent[2];
  if (pipe(to_child) != 0 || pipe(to_parent) != 0) die("pipe");
  pid_t child = fork();
  if (child < 0) die("fork");
  char c;
  if (child == 0) {
    strcpy(g_buf, "written by the child");
    if (write(to_parent[1], "r", 1) != 1) die("child write");
    if (read(to_child[0], &c, 1) != 1) die("child read");  // the parent writes into g_buf meanwhile
    printf("child: g_buf \"%s\", g_buf2 \"%s\"\n", g_buf, g_buf2);
    fflush(stdout);
    _exit(0);
  }
  if (read(to_parent[0], &c, 1) != 1) die("parent read");

  char got[64] = {0};
  struct iovec local = {got, sizeof got}, remote = {g_buf, sizeof g_buf};
  ssize_t n = process_vm_readv(child, &local, 1, &remote, 1, 0);
  printf("process_vm_readv = %zd: \"%s\"\n", n, got);

  char news[] = "from the parent";
  struct iovec src[2] = {{news, 9}, {news + 9, sizeof news - 9}};
  struct iovec dst = {g_buf, sizeof news};
  n = process_vm_writev(child, src, 2, &dst, 1, 0);
  printf("process_vm_writev = %zd\n", n);

  char mem_path[64];
  snprintf(mem_path, sizeof mem_path, "/proc/%d/mem", child);
  int mfd = open(mem_path, O_RDWR);
  if (mfd < 0) die("open /proc/child/mem");
  const char via_mem[] = "via /proc/PID/mem";
  n = pwrite(mfd, via_mem, sizeof via_mem, (off_t)(uintptr_t)g_buf2);
  printf("pwrite(/proc/child/mem) = %zd\n", n);
  close(mfd);

  // The parent's own memory through /proc/self/mem, at the file position.
  int self = open("/proc/self/mem", O_RDWR);
  if (self < 0) die("open /proc/self/mem");
  static char mine[32] = "parent's own bytes";
  if (lseek(self, (off_t)(uintptr_t)mine, SEEK_SET) < 0) die("lseek");
  n = write(self, "patched", 7);
  printf("write(/proc/self/mem) = %zd: \"%s\"\n", n, mine);
  close(self);

  fflush(stdout);
  if (write(to_child[1], "g", 1) != 1) die("parent write");
  int st = 0;
  waitpid(child, &st, 0);
  printf("child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  return 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* part = argc > 1 ? argv[1] : "";
  if (!strcmp(part, "capget")) return capget_part();
  if (!strcmp(part, "sem")) return sem_part();
  if (!strcmp(part, "msg")) return msg_part();
  if (!strcmp(part, "futex")) return futex_part();
  if (!strcmp(part, "madvise")) return madvise_part();
  if (!strcmp(part, "vm")) return vm_part();
  if (!strcmp(part, "lengths")) return lengths_part();
  fprintf(stderr, "usage: memory_effects capget|sem|msg|futex|madvise|vm|lengths\n");
  return 2;
}
