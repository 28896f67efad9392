// Prints the program's view of its environment (environ, main's envp, getenv,
// /proc/self/environ byte for byte, which preloads are mapped), makes buffered
// calls, and with no argument runs itself again by fork + exec as "child".
// tests/e2e/preload_env.sh compares its output under rrx with a native run.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

static int mapped(const char* name) {
  FILE* f = fopen("/proc/self/maps", "r");
  if (!f) return -1;
  char line[4096];
  int found = 0;
  while (fgets(line, sizeof line, f)) {
    if (strstr(line, name)) found = 1;
  }
  fclose(f);
  return found;
}

int main(int argc, char** argv, char** envp) {
  const char* tag = argc > 1 ? argv[1] : "main";
  int n = 0;
  for (char** e = environ; *e; ++e, ++n) printf("%s environ[%d]: %s\n", tag, n, *e);
  printf("%s envp is environ: %d\n", tag, envp == environ);
  const char* p = getenv("LD_PRELOAD");
  printf("%s getenv LD_PRELOAD: %s\n", tag, p ? p : "(unset)");
  int fd = open("/proc/self/environ", O_RDONLY);
  if (fd < 0) return 1;
  char buf[65536];
  size_t len = 0;
  ssize_t r;
  while (len < sizeof buf && (r = read(fd, buf + len, sizeof buf - len)) > 0) len += (size_t)r;
  close(fd);
  printf("%s /proc/self/environ (%zu bytes): ", tag, len);
  for (size_t i = 0; i < len; ++i) {
    if (buf[i] == 0) {
      fputs("\\0", stdout);
    } else {
      putchar(buf[i]);
    }
  }
  putchar('\n');
  printf("%s libm mapped: %d\n", tag, mapped("/libm.so"));
  long sum = 0;
  for (int i = 0; i < 2000; ++i) sum += getppid() > 0;
  printf("%s getppid calls: %ld\n", tag, sum);
  fflush(stdout);
  if (argc > 1) return 0;
  pid_t pid = fork();
  if (pid == 0) {
    char* child_argv[] = {argv[0], "child", NULL};
    execv(argv[0], child_argv);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  printf("child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return 0;
}
