// sparse_maps: huge files with little data, for tests/e2e/sparse_files.sh.
//   sparse_maps sparse DIR   a 50 GiB sparse file with a few data pages and a
//                            1 TiB memfd with a few pages written, each mapped
//                            whole and read; a 3 MiB dense file mapped through
//                            a 64 KiB window at 2 MiB. Prints what it read.
//   sparse_maps dense DIR MB a file holding MB MiB of data, mapped and summed.
// The files are removed before it exits.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096ull
#define GIB (1ull << 30)

static uint64_t fnv(const unsigned char* p, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

static void die(const char* what) {
  perror(what);
  exit(1);
}

// Fills a page with a pattern that names its offset.
static void pattern(unsigned char* page, uint64_t off) {
  for (size_t i = 0; i < PAGE; ++i) page[i] = (unsigned char)((off >> 12) * 31 + i * 7 + 1);
}

// Writes one pattern page at each offset, maps [0, size) and prints, for each
// offset, the hash of the page read through the mapping, and whether the page
// after it (a hole) reads as zeros.
static void check_file(const char* label, int fd, uint64_t size, const uint64_t* offs, int n, int prot, int flags) {
  unsigned char page[PAGE];
  for (int i = 0; i < n; ++i) {
    pattern(page, offs[i]);
    if (pwrite(fd, page, PAGE, (off_t)offs[i]) != (ssize_t)PAGE) die("pwrite");
  }
  const unsigned char* m = mmap(NULL, size, prot, flags, fd, 0);
  if (m == MAP_FAILED) die("mmap");
  for (int i = 0; i < n; ++i) {
    const unsigned char* p = m + offs[i];
    int hole_zero = 1;
    if (offs[i] + 2 * PAGE <= size) {
      for (size_t k = 0; k < PAGE; ++k) hole_zero &= p[PAGE + k] == 0;
    }
    printf("%s page at %llu: %016llx, next page %s\n", label, (unsigned long long)offs[i],
           (unsigned long long)fnv(p, PAGE, 1469598103934665603ull), hole_zero ? "zeros" : "NOT ZEROS");
  }
  if (prot & PROT_WRITE) {
    // A store through the shared mapping, read back.
    unsigned char* w = (unsigned char*)m + 7 * GIB;
    memset(w, 0x5a, 100);
    printf("%s stored through the mapping: %016llx\n", label, (unsigned long long)fnv(w, PAGE, 1469598103934665603ull));
  }
  munmap((void*)m, size);
}

static int sparse(const char* dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/sparse.bin", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) die(path);
  uint64_t size = 50 * GIB;
  if (ftruncate(fd, (off_t)size) != 0) die("ftruncate");
  uint64_t offs[] = {0, 123 * PAGE, GIB + 5 * PAGE, 25 * GIB, size - PAGE};
  check_file("sparse", fd, size, offs, 5, PROT_READ, MAP_PRIVATE);
  close(fd);
  unlink(path);

  int mfd = memfd_create("rrx-sparse", MFD_CLOEXEC);
  if (mfd < 0) die("memfd_create");
  uint64_t msize = 1024 * GIB;
  if (ftruncate(mfd, (off_t)msize) != 0) die("ftruncate memfd");
  uint64_t moffs[] = {PAGE, 3 * GIB, 512 * GIB + 17 * PAGE, msize - PAGE};
  check_file("memfd", mfd, msize, moffs, 4, PROT_READ | PROT_WRITE, MAP_SHARED);
  close(mfd);

  // A dense file seen through a window: with a small --max-file-data, the
  // trace keeps only the window's bytes.
  snprintf(path, sizeof path, "%s/dense.bin", dir);
  fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) die(path);
  unsigned char page[PAGE];
  for (uint64_t off = 0; off < 3 * (1ull << 20); off += PAGE) {
    pattern(page, off);
    if (pwrite(fd, page, PAGE, (off_t)off) != (ssize_t)PAGE) die("pwrite dense");
  }
  const unsigned char* w = mmap(NULL, 65536, PROT_READ, MAP_PRIVATE, fd, 2 << 20);
  if (w == MAP_FAILED) die("mmap window");
  printf("window at 2 MiB: %016llx\n", (unsigned long long)fnv(w, 65536, 1469598103934665603ull));
  close(fd);
  unlink(path);
  return 0;
}

static int dense(const char* dir, long mb) {
  char path[4096];
  snprintf(path, sizeof path, "%s/big.bin", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) die(path);
  unsigned char* chunk = malloc(1 << 20);
  for (long i = 0; i < mb; ++i) {
    memset(chunk, (int)(i + 1), 1 << 20);
    if (write(fd, chunk, 1 << 20) != 1 << 20) die("write");
  }
  size_t size = (size_t)mb << 20;
  const unsigned char* m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (m == MAP_FAILED) die("mmap");
  uint64_t sum = 0;
  for (size_t i = 0; i < size; i += PAGE) sum += m[i];
  printf("big: %llu\n", (unsigned long long)sum);
  close(fd);
  unlink(path);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "sparse") == 0) return sparse(argv[2]);
  if (argc == 4 && strcmp(argv[1], "dense") == 0) return dense(argv[2], atol(argv[3]));
  fprintf(stderr, "usage: sparse_maps sparse DIR | sparse_maps dense DIR MB\n");
  return 2;
}
