/* Which calls the preload library records in its buffer, and when: the rules
 * of core/syscallbuf_abi.h (RRX_BUFFERED_CALLS) applied to one call, the
 * cannot-block checks for calls that may block (by the kind of file, cached
 * per fd in the process state page), and the transaction that records a call
 * with the memory it wrote. Called by preload.c's hook with the buffer locked. */
#include "preload/buffered_calls.h"

#include "preload/sent_crc.h"

enum {
  NR_read = 0, NR_write = 1, NR_close = 3, NR_fstat = 5, NR_ioctl = 16, NR_pwrite64 = 18, NR_fcntl = 72, NR_fstatfs = 138,
  NR_newfstatat = 262, NR_rt_sigpending = 127, NR_dup2 = 33, NR_dup3 = 292,
};
enum {
  kO_NONBLOCK = 04000, kO_TRUNC = 01000, kO_DIRECTORY = 0200000, kO_PATH = 010000000, kO_NOFOLLOW = 0400000,
  kO_CREAT = 0100, kO_APPEND = 02000, kF_GETFL = 3, kF_SETFL = 4, kEFAULT = 14, kSIG_BLOCK = 0, kFIONREAD = 0x541b, kAT_SYMLINK_NOFOLLOW = 0x100, kENOENT = 2,
};
/* struct stat (x86-64): st_dev at 0, st_ino at 8, st_mode at 24, st_rdev at 40; struct statfs: 120 bytes. */
enum { kStatDev = 0, kStatIno = 8, kStatMode = 24, kStatRdev = 40, kStatfsBytes = 120, kS_IFMT = 0170000, kS_IFREG = 0100000, kS_IFDIR = 0040000,
       kS_IFBLK = 0060000, kS_IFCHR = 0020000, kS_IFIFO = 0010000, kS_IFSOCK = 0140000, kS_IFLNK = 0120000 };

static const struct rrx_buffered_call kCalls[] = {RRX_BUFFERED_CALLS};
#define kCallCount (sizeof kCalls / sizeof kCalls[0])
/* nr -> index in kCalls + 1 of its first rule (0: not buffered), for the numbers below 512. */
static uint8_t call_index[512];
static int index_built;

/* Whether the argument test of rule `c` holds (rules without one: yes). */
static int arg_test_holds(const struct rrx_buffered_call* c, const uint64_t args[6]) {
  switch (c->when) {
    case RRX_BW_ZERO: return args[c->cond_arg] == 0;
    case RRX_BW_ARG_EQ: return (args[c->cond_arg] & c->cond_mask) == c->cond_value;
    case RRX_BW_SIGMASK: return args[c->cond_arg] == c->cond_value;
    case RRX_BW_MMAP_ANON: return (args[c->cond_arg] & c->cond_mask) == c->cond_value && !(args[2] & 4 /* PROT_EXEC */);
    case RRX_BW_FD_BELOW: {
      const struct rrx_file_facts* f = &((const struct rrx_process_state*)RRX_STATE_ADDR)->facts;
      const uint64_t floor = f->known && f->desched_floor != 0 && f->desched_floor < c->cond_value ? f->desched_floor
                                                                                               : c->cond_value;
      return args[c->cond_arg] < floor;
    }
    case RRX_BW_ARG_IN:
      for (uint32_t i = 0; i < c->cond_value && i < RRX_MAX_RULE_VALUES; ++i) {
        if ((uint32_t)args[c->cond_arg] == c->values[i]) return 1;
      }
      return 0;
    default: return 1;
  }
}

/* How rule `c` matches a call with `args` by its arguments alone: RRX_BUFFER_PLAIN
 * when its test holds; RRX_BUFFER_DESCHED when the test fails where the call
 * could block and the thread has a desched event (`desched`) that the rule's
 * column allows (core/syscallbuf_abi.h, rrx_desched_allows); else 0. */
static int rule_match(const struct rrx_buffered_call* c, const uint64_t args[6], uint32_t desched) {
  if (arg_test_holds(c, args)) return RRX_BUFFER_PLAIN;
  return desched && rrx_desched_allows(c->desched, args) ? RRX_BUFFER_DESCHED : 0;
}

const struct rrx_buffered_call* rrx_buffered_rule(long nr, const uint64_t args[6], uint32_t desched) {
  if (!index_built) {
    for (unsigned i = kCallCount; i-- > 0;) {
      if (kCalls[i].nr >= 0 && kCalls[i].nr < 512) call_index[kCalls[i].nr] = (uint8_t)(i + 1);
    }
    index_built = 1;
  }
  if (nr < 0 || nr >= 512 || call_index[nr] == 0) return 0;
  const struct rrx_buffered_call* as_desched = 0;
  for (unsigned i = call_index[nr] - 1u; i < kCallCount && kCalls[i].nr == nr; ++i) {
    int m = rule_match(&kCalls[i], args, desched);
    if (m == RRX_BUFFER_PLAIN) return &kCalls[i];
    if (m == RRX_BUFFER_DESCHED && !as_desched) as_desched = &kCalls[i];
  }
  return as_desched;
}

static int is_error(long ret) { return ret < 0 && ret >= -4095; }

uint8_t rrx_sends_of(long nr) {
  const uint64_t none[6] = {0, 0, 0, 0, 0, 0};
  (void)rrx_buffered_rule(nr, none, 0); /* (builds the index) */
  if (nr < 0 || nr >= 512 || call_index[nr] == 0) return RRX_SENDS_NONE;
  return kCalls[call_index[nr] - 1].sends; /* (every rule of a number has the same) */
}

uint32_t rrx_sent_crc_here(uint8_t sends, const uint64_t args[6], uint64_t len, int* ok) {
  const int insn = ((const volatile struct rrx_process_state*)RRX_STATE_ADDR)->facts.crc32_insn != 0;
  return rrx_sent_crc(sends, args, len, insn, ok);
}

static void copy(void* dst, const void* src, uint64_t n) {
  __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

/* The bytes a record of call `c` with `args` needs at most (outputs sized by
 * the result count at their cap), or 0 when that is more than a record may hold. */
static uint32_t record_bound(const struct rrx_buffered_call* c, const uint64_t args[6]) {
  uint64_t size = RRX_ALIGN8(sizeof(struct rrx_buffer_record));
  for (int i = 0; i < 2; ++i) {
    const struct rrx_buffered_out* o = &c->out[i];
    if (o->arg < 0 || args[o->arg] == 0) continue;
    uint64_t len = 0;
    switch (o->size) {
      case RRX_OUT_FIXED: len = o->n; break;
      case RRX_OUT_RET: len = args[o->n]; break;
      case RRX_OUT_ARG_TIMES:
      case RRX_OUT_RET_TIMES:
        if (args[o->n] > RRX_MAX_OUTPUT_BYTES) return 0;
        len = args[o->n] * o->elem;
        break;
      default: break;
    }
    if (len > RRX_MAX_OUTPUT_BYTES) return 0;
    size += sizeof(struct rrx_buffer_output) + RRX_ALIGN8(len);
  }
  if (c->path_arg >= 0) size += sizeof(struct rrx_buffer_string) + RRX_MAX_PATH_BYTES;
  if (c->in_len) size += sizeof(struct rrx_buffer_string) + RRX_ALIGN8(c->in_len);
  return (uint32_t)size;
}

static void requery(struct rrx_buffer_header* h, const struct rrx_buffered_call* c, const uint64_t args[6]);
static struct rrx_process_state* state(void);

long rrx_record_call(struct rrx_buffer_header* h, const struct rrx_buffered_call* c, const uint64_t args[6],
                     uint8_t flags, uint32_t desched) {
  const long nr = c->nr;
  uint32_t bound = record_bound(c, args);
  if (bound == 0) return rrx_traced_syscall(nr, args);
  if (h->bytes_used + bound > h->capacity) {
    /* Full: this call goes traced, and the recorder takes every record at its
     * stop; then the buffer starts over. */
    long ret = rrx_traced_syscall(nr, args);
    h->bytes_used = 0;
    h->record_count = 0;
    h->generation++;
    return ret;
  }
  struct rrx_buffer_record* r = (struct rrx_buffer_record*)((char*)(h + 1) + h->bytes_used);
  long ret;
  if (desched) {
    /* A call that may block, made with the desched event armed: when the
     * thread is switched out in it, the recorder gives it back
     * (RRX_DESCHED_GIVEN_BACK), to be made traced (core/syscallbuf_abi.h,
     * "Desched"). */
    h->desched_nr = (uint16_t)nr;
    __asm__ volatile("" ::: "memory");
    h->desched_armed = 1;
    __asm__ volatile("" ::: "memory");
    rrx_desched_ioctl(desched - 1, RRX_PERF_EVENT_IOC_REFRESH, 1);
    ret = rrx_untraced_syscall(nr, args);
    rrx_desched_ioctl(desched - 1, RRX_PERF_EVENT_IOC_DISABLE, 0);
    __asm__ volatile("" ::: "memory");
    h->desched_armed = 0;
    if (ret == RRX_DESCHED_GIVEN_BACK) return ret; /* no record: the caller makes it traced */
  } else {
    ret = rrx_untraced_syscall(nr, args);
  }
  r->nr = nr;
  for (int i = 0; i < 6; ++i) r->args[i] = args[i];
  r->ret = ret;
  r->flags = flags;
  r->output_count = 0;
  r->string_count = 0;
  r->data_crc = 0;
  r->reserved = (flags & RRX_RECORD_OBJECT_WRITE) ? state()->fd_object[args[0]] : 0; /* (fd < RRX_FD_CACHE_SIZE) */
  if (c->sends != RRX_SENDS_NONE && ret >= 0) {
    /* What it sent (its result's worth: the kernel read them without a fault). */
    int ok;
    uint32_t crc = rrx_sent_crc_here(c->sends, args, (uint64_t)ret, &ok);
    if (ok) {
      r->data_crc = crc;
      r->flags |= RRX_RECORD_DATA_CRC;
    }
  }
  char* at = (char*)r + RRX_ALIGN8(sizeof *r);
  /* The path, read after the call: the kernel read it without a fault unless
   * it failed with EFAULT (a bad pointer must not fault in the library). */
  if (c->path_arg >= 0 && args[c->path_arg] != 0 && ret != -kEFAULT) {
    const char* p = (const char*)args[c->path_arg];
    uint32_t len = 0;
    while (len < RRX_MAX_PATH_BYTES && p[len] != 0) ++len;
    if (len < RRX_MAX_PATH_BYTES) {
      struct rrx_buffer_string* str = (struct rrx_buffer_string*)at;
      str->arg = (uint32_t)c->path_arg;
      str->len = len;
      copy(str + 1, p, len);
      at += sizeof *str + RRX_ALIGN8(len);
      r->string_count = 1;
    }
  }
  /* The input (core/syscallbuf_abi.h, "Signal state"), read after the call:
   * a success read all of it without a fault. */
  if (c->in_len && args[c->in_arg] != 0 && !is_error(ret)) {
    struct rrx_buffer_string* str = (struct rrx_buffer_string*)at;
    str->arg = (uint32_t)c->in_arg;
    str->len = c->in_len;
    copy(str + 1, (const void*)args[c->in_arg], c->in_len);
    at += sizeof *str + RRX_ALIGN8(c->in_len);
    r->string_count++;
  }
  struct rrx_out_range out[2];
  unsigned n = rrx_buffered_outputs(c, args, ret, out);
  for (unsigned i = 0; i < n; ++i) {
    struct rrx_buffer_output* o = (struct rrx_buffer_output*)at;
    o->addr = out[i].addr;
    o->len = out[i].len;
    copy(o + 1, (const void*)o->addr, o->len);
    at += sizeof *o + RRX_ALIGN8(o->len);
    r->output_count++;
  }
  r->size = (uint32_t)(at - (char*)r);
  h->record_count++;
  __asm__ volatile("" ::: "memory");
  h->bytes_used += r->size; /* published */
  if (ret == -kEFAULT && c->in_len && args[c->in_arg] != 0) requery(h, c, args);
  return ret;
}

/* A check of the library's own, recorded like any buffered call. */
static long check_call(struct rrx_buffer_header* h, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3) {
  uint64_t args[6] = {a0, a1, a2, a3, 0, 0};
  return rrx_record_call(h, rrx_buffered_rule(nr, args, 0), args, 0, 0);
}

/* After a call with an input that failed with EFAULT, which may have
 * changed the state before the copy of its output faulted (rt_sigaction's
 * oldact): the same call with no input, its output to here, a buffered
 * query whose record tells the recorder what is in effect. */
static void requery(struct rrx_buffer_header* h, const struct rrx_buffered_call* c, const uint64_t args[6]) {
  uint64_t out[4] = {0, 0, 0, 0}; /* room for the largest such output: struct kernel_sigaction */
  const struct rrx_buffered_out* o = &c->out[0];
  const uint64_t len = o->size == RRX_OUT_FIXED ? o->n : o->size == RRX_OUT_ARG_TIMES ? args[o->n] * o->elem : ~0ull;
  if (o->arg < 0 || o->arg == c->in_arg || len > sizeof out) return;
  /* (rt_sigprocmask checks `how` only with a set) */
  uint64_t q[6] = {args[0], args[1], args[2], args[3], args[4], args[5]};
  q[c->in_arg] = 0;
  q[o->arg] = (uint64_t)out;
  const struct rrx_buffered_call* rule = rrx_buffered_rule(c->nr, q, 0);
  if (rule) rrx_record_call(h, rule, q, 0, 0);
}

static struct rrx_process_state* state(void) {
  struct rrx_process_state* ps = (struct rrx_process_state*)RRX_STATE_ADDR;
  if (ps->cache_epoch != ps->fd_epoch) {
    /* The recorder saw an fd change meanings since the cache was filled. */
    for (unsigned i = 0; i < RRX_FD_CACHE_SIZE; ++i) ps->fd_class[i] = RRX_FD_UNKNOWN;
    ps->cache_epoch = ps->fd_epoch;
  }
  return ps;
}

static uint8_t kind_of_mode(uint32_t mode, uint64_t rdev) {
  switch (mode & kS_IFMT) {
    case kS_IFREG:
    case kS_IFDIR:
    case kS_IFBLK:
      return RRX_FD_NEVER_BLOCKS;
    case kS_IFCHR:
      /* /dev/null, zero, full, random, urandom (major 1; random no longer blocks) */
      if (rdev == 0x103 || rdev == 0x105 || rdev == 0x107 || rdev == 0x108 || rdev == 0x109) return RRX_FD_NEVER_BLOCKS;
      return RRX_FD_TRACED;
    case kS_IFIFO:
    case kS_IFSOCK:
      return RRX_FD_STREAM;
    default:
      return RRX_FD_TRACED; /* anonymous inodes (eventfd, timerfd, signalfd, inotify...) */
  }
}

/* What RRX_CALL_FD_INFO would answer for writes to fd (RRX_FD_INFO_*), found
 * from the recorder's file facts and buffered calls where they allow
 * (core/syscallbuf_abi.h, struct rrx_file_facts), else asked. *object: 1 +
 * the fd's file's index in the facts' shared files when they name it, else 0. */
static long write_info(struct rrx_buffer_header* h, long fd, uint8_t* object) {
  *object = 0;
  const struct rrx_file_facts* f = &state()->facts;
  if (f->known && f->shared_files <= RRX_MAX_SHARED_FILES) {
    uint64_t st[RRX_STAT_BYTES / 8];
    if (!is_error(check_call(h, NR_fstat, (uint64_t)fd, (uint64_t)st, 0, 0))) {
      uint64_t dev, ino;
      uint32_t mode;
      copy(&dev, (char*)st + kStatDev, 8);
      copy(&ino, (char*)st + kStatIno, 8);
      copy(&mode, (char*)st + kStatMode, 4);
      int proc = 0;
      if ((mode & kS_IFMT) == kS_IFREG) {
        for (uint32_t i = 0; i < f->shared_files; ++i) {
          if (dev == f->shared_dev[i] && ino == f->shared_ino[i]) {
            *object = (uint8_t)(i + 1);
            return RRX_FD_INFO_TRACE_WRITES;
          }
        }
        uint64_t sfs[kStatfsBytes / 8];
        proc = is_error(check_call(h, NR_fstatfs, (uint64_t)fd, (uint64_t)sfs, 0, 0)) || sfs[0] == RRX_PROC_SUPER_MAGIC;
      }
      if (!proc) {
        const int out = f->output_ino[0] != 0 && dev == f->output_dev[0] && ino == f->output_ino[0];
        const int err = f->output_ino[1] != 0 && dev == f->output_dev[1] && ino == f->output_ino[1];
        if (err && (fd == 2 || !out)) return RRX_FD_INFO_STDERR;
        return out ? RRX_FD_INFO_STDOUT : 0;
      }
    }
  }
  uint64_t args[6] = {(uint64_t)fd, 0, 0, 0, 0, 0};
  return rrx_traced_syscall(RRX_CALL_FD_INFO, args);
}

/* The class byte of fd (RRX_FD_*), asking what the cache does not know. */
static uint8_t fd_class(struct rrx_buffer_header* h, long fd, int writing) {
  if (fd < 0) return RRX_FD_TRACED;
  struct rrx_process_state* ps = state();
  uint8_t k = (uint64_t)fd < RRX_FD_CACHE_SIZE ? ps->fd_class[fd] : RRX_FD_UNKNOWN;
  if ((k & RRX_FD_KIND_MASK) == RRX_FD_UNKNOWN) {
    uint64_t st[RRX_STAT_BYTES / 8];
    if (is_error(check_call(h, NR_fstat, (uint64_t)fd, (uint64_t)st, 0, 0))) return RRX_FD_TRACED;
    uint32_t mode;
    uint64_t rdev;
    copy(&mode, (char*)st + kStatMode, 4);
    copy(&rdev, (char*)st + kStatRdev, 8);
    k = kind_of_mode(mode, rdev);
    if ((mode & kS_IFMT) == kS_IFREG) {
      /* A procfs file: the recorder may change what a read of it shows
       * (record/proc_status.h, TracerPid), at the read's stop. */
      uint64_t sfs[kStatfsBytes / 8];
      if (is_error(check_call(h, NR_fstatfs, (uint64_t)fd, (uint64_t)sfs, 0, 0)) || sfs[0] == RRX_PROC_SUPER_MAGIC) {
        k = RRX_FD_TRACED;
      }
    }
  }
  uint8_t object = 0;
  if (writing && !(k & RRX_FD_WRITE_ASKED)) {
    long info = write_info(h, fd, &object);
    /* At a stop (the question) other threads may have run and given fd another file. */
    if (is_error(info) || ps->cache_epoch != ps->fd_epoch) return RRX_FD_TRACED;
    k |= RRX_FD_WRITE_ASKED | ((info & RRX_FD_INFO_TRACE_WRITES) ? RRX_FD_WRITE_TRACED : 0) |
         ((info & RRX_FD_INFO_STDOUT) ? RRX_FD_WRITE_STDOUT : 0) | ((info & RRX_FD_INFO_STDERR) ? RRX_FD_WRITE_STDERR : 0);
    if (object != 0 && (uint64_t)fd < RRX_FD_CACHE_SIZE) {
      /* A shared object named by the file facts (whose list only grows: an
       * index names the same file for the whole recording): its pwrite64 is
       * buffered, the record naming the file by its index; its bytes go at
       * its offset (not with O_APPEND, which writes at the end). */
      long fl = check_call(h, NR_fcntl, (uint64_t)fd, kF_GETFL, 0, 0);
      if (ps->cache_epoch != ps->fd_epoch) return RRX_FD_TRACED; /* (a stop: the buffer was full) */
      if (!is_error(fl) && !(fl & kO_APPEND)) {
        k |= RRX_FD_WRITE_OBJECT;
        ps->fd_object[fd] = object;
      }
    }
  }
  if ((uint64_t)fd < RRX_FD_CACHE_SIZE) ps->fd_class[fd] = k;
  return k;
}

/* RRX_BUFFER_PLAIN when a read (writing = 0) or write of fd cannot block;
 * RRX_BUFFER_DESCHED for a pipe or socket when `desched` (the thread has a
 * desched event and the rule's column allows it: no check needed, if the call
 * blocks the recorder gives it back); 0: traced. *flags: the record's
 * RRX_RECORD_* (a write to rrx's output). */
static int fd_cannot_block(struct rrx_buffer_header* h, long fd, int writing, int desched, uint8_t* flags,
                           int object_write) {
  uint8_t k = fd_class(h, fd, writing);
  if (writing && (k & RRX_FD_WRITE_TRACED)) {
    if (!object_write || !(k & RRX_FD_WRITE_OBJECT)) return 0;
    *flags = RRX_RECORD_OBJECT_WRITE; /* a regular file: never blocks */
    return RRX_BUFFER_PLAIN;
  }
  if (writing) {
    *flags = (k & RRX_FD_WRITE_STDERR) ? RRX_RECORD_TO_STDERR : (k & RRX_FD_WRITE_STDOUT) ? RRX_RECORD_TO_STDOUT : 0;
  }
  switch (k & RRX_FD_KIND_MASK) {
    case RRX_FD_NEVER_BLOCKS: return RRX_BUFFER_PLAIN;
    case RRX_FD_STREAM: {
      if (desched) return RRX_BUFFER_DESCHED;
      long fl = check_call(h, NR_fcntl, (uint64_t)fd, kF_GETFL, 0, 0);
      if (is_error(fl)) return 0;
      if (fl & kO_NONBLOCK) return RRX_BUFFER_PLAIN;
      if (writing) return 0;
      int avail = 0;
      long r = check_call(h, NR_ioctl, (uint64_t)fd, kFIONREAD, (uint64_t)&avail, 0);
      return r == 0 && avail > 0 ? RRX_BUFFER_PLAIN : 0; /* the read returns what is there */
    }
    default: return 0;
  }
}

/* An open that cannot block: not of a FIFO or device (which wait for the other
 * end or a device), found with a buffered stat of the path first. */
static int open_cannot_block(struct rrx_buffer_header* h, const struct rrx_buffered_call* c, const uint64_t args[6]) {
  const uint64_t flags = args[c->cond_mask];
  if (flags & kO_TRUNC) return 0; /* may change a shared object's size: the recorder looks at it */
  if (flags & (kO_PATH | kO_DIRECTORY | kO_NONBLOCK)) return 1;
  uint64_t dirfd = c->cond_arg == 0 ? (uint64_t)-100 /* AT_FDCWD */ : args[0];
  uint64_t st[RRX_STAT_BYTES / 8];
  long r = check_call(h, NR_newfstatat, dirfd, args[c->cond_arg], (uint64_t)st,
                      (flags & kO_NOFOLLOW) ? kAT_SYMLINK_NOFOLLOW : 0);
  if (is_error(r)) return r == -kENOENT || !(flags & kO_CREAT);  /* the open fails, or creates a file */
  uint32_t mode;
  uint64_t rdev;
  copy(&mode, (char*)st + kStatMode, 4);
  copy(&rdev, (char*)st + kStatRdev, 8);
  switch (mode & kS_IFMT) {
    case kS_IFREG:
    case kS_IFDIR:
    case kS_IFLNK: /* O_NOFOLLOW: fails with ELOOP */
      return 1;
    case kS_IFCHR: /* the memory devices (/dev/null, zero, full, random, urandom): their open waits for nothing */
      return kind_of_mode(mode, rdev) == RRX_FD_NEVER_BLOCKS;
    default:
      return 0;
  }
}

/* rt_sigprocmask(how, set, old, 8) that delivers nothing as it returns
 * (core/syscallbuf_abi.h, "Signal state"): a query, a SIG_BLOCK, or no
 * blocked signal pending now (a buffered rt_sigpending: the kernel's
 * pending signals that the mask blocks, which are all it could unblock). */
static int sigmask_unblocks_nothing_pending(struct rrx_buffer_header* h, const struct rrx_buffered_call* c,
                                            const uint64_t args[6]) {
  if (args[c->cond_arg] != c->cond_value) return 0;
  if (args[1] == 0 || args[0] == kSIG_BLOCK) return 1;
  uint64_t pending = 0;
  return check_call(h, NR_rt_sigpending, (uint64_t)&pending, 8, 0, 0) == 0 && pending == 0;
}

int rrx_may_buffer(struct rrx_buffer_header* h, const struct rrx_buffered_call* c, const uint64_t args[6],
                   uint32_t desched, uint8_t* flags) {
  *flags = 0;
  const int stream_desched = desched && rrx_desched_allows(c->desched, args);
  switch (c->when) {
    case RRX_BW_ALWAYS: return RRX_BUFFER_PLAIN;
    case RRX_BW_FD_READ: return fd_cannot_block(h, (long)args[0], 0, stream_desched, flags, 0);
    case RRX_BW_FD_WRITE:
      return fd_cannot_block(h, (long)args[0], 1, stream_desched, flags, c->nr == NR_pwrite64);
    case RRX_BW_OPEN: return open_cannot_block(h, c, args) ? RRX_BUFFER_PLAIN : 0;
    case RRX_BW_SIGMASK: return sigmask_unblocks_nothing_pending(h, c, args) ? RRX_BUFFER_PLAIN : 0;
    case RRX_BW_ZERO:
    case RRX_BW_ARG_EQ:
    case RRX_BW_FD_BELOW:
    case RRX_BW_ARG_IN: return rule_match(c, args, desched);
    case RRX_BW_MMAP_ANON: return arg_test_holds(c, args) ? RRX_BUFFER_PLAIN : 0;
    default: return 0;
  }
}

void rrx_after_call(const struct rrx_buffered_call* c, const uint64_t args[6]) {
  if (c->nr == NR_close && args[0] < RRX_FD_CACHE_SIZE) {
    state()->fd_class[args[0]] = RRX_FD_UNKNOWN; /* the number may name another file next */
  }
  if ((c->nr == NR_dup2 || c->nr == NR_dup3) && args[1] < RRX_FD_CACHE_SIZE) {
    state()->fd_class[args[1]] = RRX_FD_UNKNOWN; /* the new number names the old one's file now */
  }
  if (c->nr == NR_fcntl && (uint32_t)args[1] == kF_SETFL && args[0] < RRX_FD_CACHE_SIZE) {
    state()->fd_class[args[0]] = RRX_FD_UNKNOWN; /* O_APPEND may have changed (RRX_FD_WRITE_OBJECT) */
  }
}
