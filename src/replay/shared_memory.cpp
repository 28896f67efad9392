// SharedMemory: see shared_memory.h.
#include "replay/shared_memory.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

#include "core/error.h"
#include "core/proc_maps.h"
#include "core/remote_syscall.h"
#include "trace_format/sparse_file.h"
#include "trace_format/trace_dir.h"

namespace rrx::replay {

namespace {

constexpr const char* kMemfdPrefix = "rrx-shared-";

uint64_t size_of(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno("fstat (shared object copy)");
  return static_cast<uint64_t>(st.st_size);
}

// Copies the data of `from` (holes and pages of zeros stay holes) into `to`,
// which has the same size and only holes.
void copy_data(int from, int to, uint64_t size, const std::string& what) {
  trace::for_each_data_block(from, 0, size, what, [&](uint64_t pos, const unsigned char* data, size_t n) {
    trace::for_each_nonzero_run(pos, data, n, [&](uint64_t at, const unsigned char* bytes, size_t len) {
      while (len > 0) {
        ssize_t w = ::pwrite(to, bytes, len, static_cast<off_t>(at));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) throw_errno("write " + what);
        bytes += w;
        len -= static_cast<size_t>(w);
        at += static_cast<uint64_t>(w);
      }
    });
  });
}

int new_memfd(const std::string& name) {
  int fd = static_cast<int>(::syscall(SYS_memfd_create, name.c_str(), MFD_CLOEXEC));
  if (fd < 0) throw_errno("memfd_create (a shared object of the replay)");
  return fd;
}

}  // namespace

struct SharedMemory::Snapshot {
  struct Entry {
    int fd = -1;
    uint64_t size = 0;
  };
  std::map<uint32_t, Entry> entries;  // the objects initialized then
  struct Anonymous {
    int tid;  // recorded: a task that maps it
    uint64_t addr;
    std::string bytes;
  };
  std::vector<Anonymous> anonymous;
  ~Snapshot() {
    for (auto& [id, e] : entries) ::close(e.fd);
  }
};

SharedMemory::SharedMemory(std::function<std::filesystem::path(const std::string&)> stored_copy)
    : stored_copy_(std::move(stored_copy)) {}

SharedMemory::~SharedMemory() {
  for (auto& [id, o] : objects_) ::close(o.fd);
}

SharedMemory::Object& SharedMemory::object(uint32_t id, schema::FileMapping::Reader m) {
  Object& o = objects_[id];
  if (o.fd < 0) o.fd = new_memfd(kMemfdPrefix + std::to_string(id));
  if (o.initialized) return o;
  // Its first mapping: as big as the file was, with the bytes it held.
  o.name = m.getPath().cStr();
  o.writable = m.getWritable();
  uint64_t size = m.getFileSize();
  if (::ftruncate(o.fd, 0) != 0 || ::ftruncate(o.fd, static_cast<off_t>(size)) != 0) {
    throw_errno("size the replay's copy of " + o.name);
  }
  std::string hash = m.getContentHash().cStr();
  if (!hash.empty()) {
    std::filesystem::path p = stored_copy_(hash);
    int src = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (src < 0) throw_errno("open " + p.string());
    try {
      copy_data(src, o.fd, std::min(size, size_of(src)), p.string());
    } catch (...) {
      ::close(src);
      throw;
    }
    ::close(src);
  }
  o.initialized = true;
  return o;
}

void SharedMemory::map(Task& t, uint64_t scratch, schema::FileMapping::Reader m, const MapRequest& req) {
  uint32_t id = m.getSharedObject();
  Object& o = object(id, m);
  if (size_of(o.fd) != m.getFileSize()) {
    // The file's size changed in a way no recorded syscall did (a writer
    // outside the recorded tree): the mapping gets the size it had.
    if (::ftruncate(o.fd, static_cast<off_t>(m.getFileSize())) != 0) throw_errno("resize the copy of " + o.name);
  }
  int64_t fd = open_copy(t, scratch, o, req.shared && o.writable ? O_RDWR : O_RDONLY);
  if (fd < 0) {
    throw Error("cannot open the replay's copy of shared object " + std::to_string(id) + " (" + o.name +
                ") in the replayed process: " + std::strerror(static_cast<int>(-fd)));
  }
  uint64_t flags = (req.shared ? MAP_SHARED : MAP_PRIVATE) | (req.replace ? MAP_FIXED : MAP_FIXED_NOREPLACE);
  int64_t at = remote_syscall(t, scratch, SYS_mmap, {req.addr, req.len, static_cast<uint64_t>(req.prot), flags,
                                                     static_cast<uint64_t>(fd), req.offset});
  remote_syscall(t, scratch, SYS_close, {static_cast<uint64_t>(fd)});
  if (at != static_cast<int64_t>(req.addr)) {
    throw Error("cannot map shared object " + std::to_string(id) + " (" + o.name + ") at 0x" +
                [&] {
                  char b[32];
                  std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(req.addr));
                  return std::string(b);
                }() +
                (at < 0 ? std::string(": ") + std::strerror(static_cast<int>(-at)) : " (mapped elsewhere)"));
  }
}

int64_t SharedMemory::open_copy(Task& t, uint64_t scratch, const Object& o, int mode) {
  std::string path = "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(o.fd);
  StackScratch name(t, path);
  return remote_syscall(t, scratch, SYS_openat,
                        {static_cast<uint64_t>(AT_FDCWD), name.addr(), static_cast<uint64_t>(mode | O_CLOEXEC), 0});
}

int64_t SharedMemory::open_in(Task& t, uint64_t scratch, uint32_t id) {
  auto it = objects_.find(id);
  if (it == objects_.end() || it->second.fd < 0 || !it->second.initialized || !it->second.writable) return -ENOENT;
  return open_copy(t, scratch, it->second, O_RDWR);
}

uint64_t SharedMemory::copy_size(uint32_t id) const {
  auto it = objects_.find(id);
  return it == objects_.end() || it->second.fd < 0 ? 0 : size_of(it->second.fd);
}

bool SharedMemory::unmap_segment(Task& t, uint64_t scratch, uint64_t addr) {
  uint64_t end = 0;
  std::string name;
  for (const ProcMapping& m : read_proc_maps(t.tid())) {
    if (end == 0) {
      if (m.start != addr) continue;
      if (m.path.rfind(std::string("/memfd:") + kMemfdPrefix, 0) != 0) return false;
      name = m.path;
      end = m.end;
    } else if (m.start == end && m.path == name) {
      end = m.end;  // the same segment, split by an mprotect
    } else {
      break;
    }
  }
  if (end == 0) return false;
  int64_t r = remote_syscall(t, scratch, SYS_munmap, {addr, end - addr});
  if (r != 0) throw Error("cannot unmap a SysV segment of the replay: " + std::string(std::strerror(static_cast<int>(-r))));
  return true;
}

void SharedMemory::apply(schema::FileWrite::Reader w, std::string_view sent) {
  auto it = objects_.find(w.getObject());
  if (it == objects_.end() || !it->second.initialized) {
    throw Error("the trace changes shared object " + std::to_string(w.getObject()) +
                ", which no replayed process has mapped");
  }
  Object& o = it->second;
  if (w.getSent() && sent.size() != w.getLength()) {
    throw Error("the " + std::to_string(w.getLength()) + " bytes a call wrote to shared object " +
                std::to_string(w.getObject()) + " (" + o.name + ") cannot be read from the replayed call");
  }
  auto data = w.getSent() ? capnp::Data::Reader(reinterpret_cast<const uint8_t*>(sent.data()), sent.size())
                          : w.getData();
  if (data.size() > 0 &&
      ::pwrite(o.fd, data.begin(), data.size(), static_cast<off_t>(w.getOffset())) != static_cast<ssize_t>(data.size())) {
    throw_errno("write the replay's copy of " + o.name);
  }
  if (w.getLength() > data.size()) {
    uint64_t from = w.getOffset() + data.size();
    uint64_t len = w.getLength() - data.size();
    if (::fallocate(o.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from),
                    static_cast<off_t>(len)) != 0) {
      throw_errno("zero a range of the replay's copy of " + o.name);
    }
  }
  if (size_of(o.fd) != w.getSize() && ::ftruncate(o.fd, static_cast<off_t>(w.getSize())) != 0) {
    throw_errno("resize the replay's copy of " + o.name);
  }
}

std::shared_ptr<const SharedMemory::Snapshot> SharedMemory::snapshot(const std::map<int, Task*>& tasks) const {
  auto snap = std::make_shared<Snapshot>();
  // Shared anonymous memory (and /dev/zero maps): each piece once, by its
  // shmem inode and page offset, from the first task that maps it.
  std::set<std::pair<uint64_t, uint64_t>> seen;
  for (const auto& [tid, task] : tasks) {
    for (const ProcMapping& m : read_proc_maps(task->tid())) {
      if (!m.shared() || (m.path.rfind("/dev/zero", 0) != 0 && m.path.rfind("[anon_shmem", 0) != 0)) continue;
      if (!seen.insert({m.inode, m.offset}).second) continue;
      Snapshot::Anonymous a{tid, m.start, std::string(m.end - m.start, '\0')};
      a.bytes.resize(task->read_mem(m.start, a.bytes.data(), a.bytes.size()));
      snap->anonymous.push_back(std::move(a));
    }
  }
  for (const auto& [id, o] : objects_) {
    if (!o.initialized) continue;
    Snapshot::Entry e;
    e.size = size_of(o.fd);
    e.fd = new_memfd("rrx-snapshot-" + std::to_string(id));
    snap->entries[id] = e;
    if (::ftruncate(e.fd, static_cast<off_t>(e.size)) != 0) throw_errno("size a checkpoint copy of " + o.name);
    copy_data(o.fd, e.fd, e.size, o.name);
  }
  return snap;
}

void SharedMemory::restore(const Snapshot& snap, const std::map<int, Task*>& tasks) {
  for (const Snapshot::Anonymous& a : snap.anonymous) {
    auto it = tasks.find(a.tid);
    if (it == tasks.end() || !it->second->write_mem(a.addr, a.bytes.data(), a.bytes.size())) {
      throw Error("cannot restore the shared memory of thread " + std::to_string(a.tid) + " from a checkpoint");
    }
  }
  for (auto& [id, o] : objects_) {
    // Emptied first: the bytes come back from the copy (or, for an object
    // first mapped after the checkpoint, at that mapping again).
    if (::ftruncate(o.fd, 0) != 0) throw_errno("reset the replay's copy of " + o.name);
    auto it = snap.entries.find(id);
    o.initialized = it != snap.entries.end();
    if (!o.initialized) continue;
    if (::ftruncate(o.fd, static_cast<off_t>(it->second.size)) != 0) throw_errno("resize the copy of " + o.name);
    copy_data(it->second.fd, o.fd, it->second.size, o.name);
  }
}

std::vector<std::string> SharedMemory::compare_end(const std::vector<trace::SharedObjectEnd>& recorded,
                                                   trace::FileHashKind kind) const {
  std::vector<std::string> out;
  for (const trace::SharedObjectEnd& r : recorded) {
    if (r.content_hash.empty()) continue;
    auto it = objects_.find(r.object);
    if (it == objects_.end() || !it->second.initialized) continue;
    uint64_t size = size_of(it->second.fd);
    std::string hash;
    try {
      hash = trace::content_hash_of_file("/proc/self/fd/" + std::to_string(it->second.fd), kind);
    } catch (const Error&) {
      continue;
    }
    if (size != r.size || hash != r.content_hash) {
      out.push_back("shared object " + std::to_string(r.object) + " (" + r.path + ") ended with " +
                    (size != r.size ? "another size (" + std::to_string(size) + " bytes, recorded " +
                                          std::to_string(r.size) + ")"
                                    : std::string("other bytes")) +
                    " than when recording: a process outside the recorded tree wrote to it, so the replay "
                    "may not be what was recorded");
    }
  }
  return out;
}

}  // namespace rrx::replay
