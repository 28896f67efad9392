#include <pthread.h>
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
static long sum;
static void* worker(void* arg) {
  (void)arg;
  for (int i = 0; i < 200; ++i) {
    struct stat st;
    int fd = open("/etc/hostname", O_RDONLY);
    if (fd >= 0) { fstat(fd, &st); sum += st.st_size > 0; close(fd); }
  }
  return NULL;
}
__attribute__((constructor)) static void start(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  for (int i = 0; i < 200; ++i) { struct stat st; if (stat("/", &st) == 0) sum += 1; }
  pthread_join(t, NULL);
}
long ctor_sum(void) { return sum; }
