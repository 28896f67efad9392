/* The temporary front door for the file and I/O calls the library buffers
 * (buffered_calls.c): libc's functions interposed by symbol, each a plain
 * call of rrx_syscall_hook with libc's errno convention. Only calls through
 * these symbols are seen (libc's internal calls, such as readdir's getdents64,
 * are not) until the recorder patches syscall sites. */
#include <stdarg.h>
#include <stdint.h>

#define EXPORT __attribute__((visibility("default")))

long rrx_syscall_hook(long nr, long a0, long a1, long a2, long a3, long a4, long a5);
extern int* __errno_location(void);

enum {
  NR_read = 0, NR_write = 1, NR_open = 2, NR_close = 3, NR_poll = 7, NR_pread64 = 17, NR_pwrite64 = 18,
  NR_writev = 20, NR_access = 21, NR_readlink = 89, NR_epoll_wait = 232, NR_openat = 257, NR_newfstatat = 262,
  NR_readlinkat = 267, NR_faccessat = 269, NR_statx = 332, NR_faccessat2 = 439,
};
enum { kO_CREAT = 0100, kO_TMPFILE = 020200000, kAT_FDCWD = -100 };

static long result(long ret) {
  if (ret < 0 && ret >= -4095) {
    *__errno_location() = (int)-ret;
    return -1;
  }
  return ret;
}
#define CALL(nr, a0, a1, a2, a3) result(rrx_syscall_hook(nr, (long)(a0), (long)(a1), (long)(a2), (long)(a3), 0, 0))

EXPORT long read(int fd, void* buf, unsigned long n) { return CALL(NR_read, fd, buf, n, 0); }
EXPORT long write(int fd, const void* buf, unsigned long n) { return CALL(NR_write, fd, buf, n, 0); }
EXPORT long pread64(int fd, void* buf, unsigned long n, long off) { return CALL(NR_pread64, fd, buf, n, off); }
EXPORT long pread(int fd, void* buf, unsigned long n, long off) { return pread64(fd, buf, n, off); }
EXPORT long pwrite64(int fd, const void* buf, unsigned long n, long off) { return CALL(NR_pwrite64, fd, buf, n, off); }
EXPORT long pwrite(int fd, const void* buf, unsigned long n, long off) { return pwrite64(fd, buf, n, off); }
EXPORT long writev(int fd, const void* iov, int count) { return CALL(NR_writev, fd, iov, count, 0); }
EXPORT int close(int fd) { return (int)CALL(NR_close, fd, 0, 0, 0); }

static int open_mode(int flags, va_list ap) {
  return (flags & kO_CREAT) || (flags & kO_TMPFILE) == kO_TMPFILE ? va_arg(ap, int) : 0;
}
EXPORT int openat(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  int mode = open_mode(flags, ap);
  va_end(ap);
  return (int)CALL(NR_openat, dirfd, path, flags, mode);
}
EXPORT int openat64(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  int mode = open_mode(flags, ap);
  va_end(ap);
  return (int)CALL(NR_openat, dirfd, path, flags, mode);
}
/* As glibc does: open is openat(AT_FDCWD). */
EXPORT int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  int mode = open_mode(flags, ap);
  va_end(ap);
  return (int)CALL(NR_openat, kAT_FDCWD, path, flags, mode);
}
EXPORT int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  int mode = open_mode(flags, ap);
  va_end(ap);
  return (int)CALL(NR_openat, kAT_FDCWD, path, flags, mode);
}

EXPORT int fstatat(int dirfd, const char* path, void* st, int flags) {
  return (int)CALL(NR_newfstatat, dirfd, path, st, flags);
}
EXPORT int fstatat64(int dirfd, const char* path, void* st, int flags) { return fstatat(dirfd, path, st, flags); }
EXPORT int stat(const char* path, void* st) { return fstatat(kAT_FDCWD, path, st, 0); }
EXPORT int stat64(const char* path, void* st) { return fstatat(kAT_FDCWD, path, st, 0); }
EXPORT int lstat(const char* path, void* st) { return fstatat(kAT_FDCWD, path, st, 0x100 /* AT_SYMLINK_NOFOLLOW */); }
EXPORT int lstat64(const char* path, void* st) { return lstat(path, st); }
EXPORT int statx(int dirfd, const char* path, int flags, unsigned mask, void* out) {
  return (int)result(rrx_syscall_hook(NR_statx, dirfd, (long)path, flags, mask, (long)out, 0));
}
EXPORT int access(const char* path, int mode) { return (int)CALL(NR_access, path, mode, 0, 0); }
EXPORT int faccessat(int dirfd, const char* path, int mode, int flags) {
  /* glibc's faccessat is faccessat2 where flags are given (the old call has none). */
  if (flags == 0) return (int)CALL(NR_faccessat, dirfd, path, mode, 0);
  return (int)CALL(NR_faccessat2, dirfd, path, mode, flags);
}
EXPORT long readlink(const char* path, char* buf, unsigned long n) { return CALL(NR_readlink, path, buf, n, 0); }
EXPORT long readlinkat(int dirfd, const char* path, char* buf, unsigned long n) {
  return CALL(NR_readlinkat, dirfd, path, buf, n);
}
EXPORT int poll(void* fds, unsigned long n, int timeout) { return (int)CALL(NR_poll, fds, n, timeout, 0); }
EXPORT int epoll_wait(int epfd, void* events, int max, int timeout) {
  return (int)CALL(NR_epoll_wait, epfd, events, max, timeout);
}
EXPORT int __open_2(const char* path, int flags) { return (int)CALL(NR_openat, kAT_FDCWD, path, flags, 0); }
EXPORT int __open64_2(const char* path, int flags) { return (int)CALL(NR_openat, kAT_FDCWD, path, flags, 0); }
EXPORT long __read_chk(int fd, void* buf, unsigned long n, unsigned long buflen) {
  if (n > buflen) __builtin_trap();
  return read(fd, buf, n);
}
