// Calls benchmark harnesses and old code make (tests/e2e/rare_calls.sh).
//   perf    perf_event_open of software counters (task-clock, context
//           switches, page faults), enabled around some work and read: the
//           counts it prints are inputs like any read, the same on replay;
//           PERF_EVENT_IOC_ID; mmap of the counter's ring buffer (refused
//           while recording: the kernel writes it at any time).
//   quota   quotactl(Q_GETFMT) and Q_GETQUOTA on the root file system.
//   int80   a 32-bit syscall (int $0x80, getpid: i386 number 20) from this
//           64-bit program, then a 64-bit getpid.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/quota.h>
#include <sys/syscall.h>
#include <unistd.h>

static int open_counter(uint64_t config, int group) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = config;
  attr.disabled = group < 0;
  attr.exclude_kernel = 0;
  attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
  return (int)syscall(SYS_perf_event_open, &attr, 0, -1, group, 0);
}

static int perf(void) {
  int clock = open_counter(PERF_COUNT_SW_TASK_CLOCK, -1);
  if (clock < 0) {
    printf("perf_event_open(task-clock) failed: %s\n", strerror(errno));
    return 0;
  }
  int switches = open_counter(PERF_COUNT_SW_CONTEXT_SWITCHES, clock);
  int faults = open_counter(PERF_COUNT_SW_PAGE_FAULTS, clock);
  printf("opened: task-clock %s, context-switches %s, page-faults %s\n", clock >= 0 ? "yes" : "no",
         switches >= 0 ? "yes" : "no", faults >= 0 ? "yes" : "no");
  uint64_t id = 0;
  int r = ioctl(clock, PERF_EVENT_IOC_ID, &id);
  printf("PERF_EVENT_IOC_ID = %d, id %llu\n", r, (unsigned long long)id);
  ioctl(clock, PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP);
  ioctl(clock, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
  volatile uint64_t sum = 0;
  for (uint64_t i = 0; i < 3000000; ++i) sum += i * i;
  char* pages = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (int i = 0; i < 64; ++i) pages[i * 4096] = 1;
  usleep(1000);
  ioctl(clock, PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
  const char* names[3] = {"task-clock", "context-switches", "page-faults"};
  int fds[3] = {clock, switches, faults};
  for (int i = 0; i < 3; ++i) {
    uint64_t v[3] = {0, 0, 0};  // value, time enabled, time running
    if (fds[i] < 0) continue;
    ssize_t n = read(fds[i], v, sizeof v);
    printf("%s: read %zd bytes: value %llu, enabled %llu ns, running %llu ns\n", names[i], n,
           (unsigned long long)v[0], (unsigned long long)v[1], (unsigned long long)v[2]);
  }
  void* ring = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, clock, 0);
  if (ring == MAP_FAILED) {
    printf("mmap of the counter: %s\n", strerrorname_np(errno));
  } else {
    printf("mmap of the counter: mapped\n");
    munmap(ring, 2 * 4096);
  }
  printf("work sum %llu\n", (unsigned long long)sum);
  return 0;
}

static int quota(void) {
  uint32_t fmt = 0;
  errno = 0;
  int r = quotactl(QCMD(Q_GETFMT, USRQUOTA), "/", 0, (caddr_t)&fmt);
  printf("quotactl(Q_GETFMT) = %d (%s), format %u\n", r, r < 0 ? strerrorname_np(errno) : "ok", fmt);
  struct dqblk q;
  memset(&q, 0xab, sizeof q);
  errno = 0;
  r = quotactl(QCMD(Q_GETQUOTA, USRQUOTA), "/", 0, (caddr_t)&q);
  printf("quotactl(Q_GETQUOTA) = %d (%s), blocks %llu\n", r, r < 0 ? strerrorname_np(errno) : "ok",
         (unsigned long long)q.dqb_curspace);
  return 0;
}

static int int80(void) {
  long ret;
  // i386 getpid is 20 (20 is writev in the 64-bit table).
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
  printf("int $0x80 getpid = %ld%s\n", ret, ret == -ENOSYS ? " (ENOSYS)" : ret > 0 ? " (a pid)" : "");
  printf("getpid > 0: %s\n", getpid() > 0 ? "yes" : "no");
  return 0;
}

int main(int argc, char** argv) {
  const char* what = argc > 1 ? argv[1] : "";
  if (strcmp(what, "perf") == 0) return perf();
  if (strcmp(what, "quota") == 0) return quota();
  if (strcmp(what, "int80") == 0) return int80();
  fprintf(stderr, "usage: %s perf|quota|int80\n", argv[0]);
  return 2;
}
