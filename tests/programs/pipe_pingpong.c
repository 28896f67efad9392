// A pipe ping-pong between two threads or two processes (bench/desched.sh):
// each round, one side writes 4 bytes and reads the other's answer; every
// read blocks until the other side runs. Prints the rounds and a checksum.
//   pipe_pingpong threads|processes ROUNDS
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int ping[2], pong[2];
static long rounds;

static void read_int(int fd, int* v) {
  size_t got = 0;
  while (got < sizeof *v) {
    ssize_t r = read(fd, (char*)v + got, sizeof *v - got);
    if (r <= 0) exit(1);
    got += (size_t)r;
  }
}

static void* echo(void* arg) {
  (void)arg;
  for (long i = 0; i < rounds; ++i) {
    int v;
    read_int(ping[0], &v);
    ++v;
    if (write(pong[1], &v, sizeof v) != sizeof v) exit(1);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: pipe_pingpong threads|processes ROUNDS\n");
    return 2;
  }
  rounds = atol(argv[2]);
  if (pipe(ping) != 0 || pipe(pong) != 0) return 1;
  pthread_t t;
  pid_t pid = -1;
  if (strcmp(argv[1], "threads") == 0) {
    pthread_create(&t, NULL, echo, NULL);
  } else {
    pid = fork();
    if (pid == 0) {
      echo(NULL);
      _exit(0);
    }
  }
  long sum = 0;
  for (long i = 0; i < rounds; ++i) {
    int v = (int)i;
    if (write(ping[1], &v, sizeof v) != sizeof v) return 1;
    read_int(pong[0], &v);
    sum += v;
  }
  if (pid < 0) {
    pthread_join(t, NULL);
  } else {
    waitpid(pid, NULL, 0);
  }
  printf("%ld rounds, sum %ld\n", rounds, sum);
  return 0;
}
