// syscallbuf_wrap DIR: buffered calls that carry a path (stat, access,
// openat, readlink) in loops long enough to fill a thread's syscall buffer
// several times, in the main thread and then in two threads at once. The
// call that finds the buffer full is made traced and empties it; on replay
// the buffered call after it has a stop of its own, and the calls after that
// are fed while the thread stands at its exit, after the record (path
// string included) that the library has still to publish. Prints what the
// calls returned, summed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char file_path[512], link_path[512], missing_path[512];

struct sums {
  unsigned long long sizes, fails, opens, links;
};

static void calls(int rounds, struct sums* s) {
  for (int i = 0; i < rounds; ++i) {
    struct stat st;
    if (stat(file_path, &st) == 0) s->sizes += (unsigned long long)st.st_size;
    if (stat(missing_path, &st) != 0 && errno == ENOENT) s->fails++;
    if (access(file_path, R_OK) == 0) s->sizes++;
    if (i % 4 == 0) {
      int fd = open(file_path, O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        s->opens++;
        close(fd);
      }
      char target[512];
      ssize_t n = readlink(link_path, target, sizeof target);
      if (n > 0) s->links += (unsigned long long)n;
    }
  }
}

static void* thread_main(void* arg) {
  calls(1500, arg);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: syscallbuf_wrap DIR\n");
    return 2;
  }
  // Long names: larger records, so the buffer fills sooner.
  char name[201];
  memset(name, 'n', sizeof name - 1);
  name[sizeof name - 1] = 0;
  snprintf(file_path, sizeof file_path, "%s/%s.file", argv[1], name);
  snprintf(link_path, sizeof link_path, "%s/%s.link", argv[1], name);
  snprintf(missing_path, sizeof missing_path, "%s/%s.missing", argv[1], name);
  FILE* f = fopen(file_path, "w");
  if (!f) {
    perror(file_path);
    return 1;
  }
  fputs("twenty bytes of text", f);
  fclose(f);
  unlink(link_path);
  if (symlink(file_path, link_path) != 0) {
    perror(link_path);
    return 1;
  }

  struct sums main_sums = {0, 0, 0, 0};
  calls(6000, &main_sums);
  printf("main: sizes %llu, ENOENT %llu, opens %llu, link bytes %llu\n", main_sums.sizes, main_sums.fails,
         main_sums.opens, main_sums.links);

  struct sums t_sums[2] = {{0, 0, 0, 0}, {0, 0, 0, 0}};
  pthread_t t[2];
  for (int i = 0; i < 2; ++i) pthread_create(&t[i], NULL, thread_main, &t_sums[i]);
  for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
  for (int i = 0; i < 2; ++i) {
    printf("thread %d: sizes %llu, ENOENT %llu, opens %llu, link bytes %llu\n", i, t_sums[i].sizes,
           t_sums[i].fails, t_sums[i].opens, t_sums[i].links);
  }
  unlink(link_path);
  unlink(file_path);
  return 0;
}
