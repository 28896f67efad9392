// The recorder's registry of shared objects: files, memfds, /dev/shm objects
// and SysV segments that a recorded process maps MAP_SHARED (or attaches).
// Each gets a number; the trace says which mapping is which
// object, what it held when first mapped, and every change a syscall makes
// to its bytes through a file descriptor, so replay can rebuild one object
// that all its mappings share (replay/shared_memory.h).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/ptrace_task.h"
#include "core/syscall_table.h"
#include "trace_format/trace_dir.h"
#include "trace_format/trace_writer.h"

namespace rrx::record {

class SharedObjects {
 public:
  explicit SharedObjects(trace::FileStore& files) : files_(files) {}
  ~SharedObjects();
  SharedObjects(const SharedObjects&) = delete;
  SharedObjects& operator=(const SharedObjects&) = delete;

  struct Mapping {
    uint32_t id = 0;
    std::optional<trace::FileStore::Stored> content;  // at the object's first mapping
    std::string name;                                 // path (or description) of the object
    uint64_t size = 0;                                // its size now
    bool writable = false;
    // Processes outside the recorded tree that map it too (at its first mapping).
    std::vector<std::string> outside_mappers;
  };

  // An mmap of fd `fd` (a regular file) by `tid` succeeded. A MAP_SHARED map
  // makes the file a shared object (the first time: its contents are stored);
  // a MAP_PRIVATE map of a file that already is one names that object, so
  // replay maps it copy-on-write from the object's current bytes. Otherwise
  // nullopt: an ordinary private file map. `st` is the fd's stat (taken by
  // the caller: /proc/TID/fd/FD); `tree` says which pids are recorded (for
  // the outside-mapper check).
  std::optional<Mapping> on_file_map(pid_t tid, int fd, const struct stat& st, bool shared,
                                     const std::vector<pid_t>& tree);
  // shmat of SysV segment `shmid` succeeded at `addr` in `task`: the segment
  // is an object; at its first attach its bytes are read from the task.
  Mapping on_sysv_attach(Task& task, int shmid, uint64_t addr);

  // A successful call whose row has a FileChange (write, pwrite, ftruncate,
  // fallocate, copy_file_range, O_TRUNC opens...): the change it made to a
  // shared object, when its fd names one.
  struct Change {
    uint32_t id;
    uint64_t offset = 0;
    uint64_t length = 0;
    std::string data;  // the bytes in [offset, offset+length) after the call; zeros follow
    uint64_t size = 0;
  };
  std::optional<Change> on_file_change(const sys::SyscallDesc& desc, const sys::CallView& call, Task& task);
  // A buffered pwrite64 to the shared file at `index` of file_inodes() (the
  // library's RRX_RECORD_OBJECT_WRITE: an fd without O_APPEND; the list as
  // the file facts the process had published it) wrote `length` bytes at
  // `offset`: its change, without data (the bytes are the call's, which its
  // data crc checks), with the size the object has after it (every other
  // change of its size is a traced call's, seen in order). nullopt: no such
  // object.
  std::optional<Change> on_buffered_write(size_t index, uint64_t offset, uint64_t length);

  bool empty() const { return next_id_ == 1; }
  // The (device, inode) of every regular file (or memfd) that is a shared
  // object, in the order they became one: a file keeps its index for the
  // whole recording (the file facts list them so; a buffered write's
  // record names its file by index, RRX_RECORD_OBJECT_WRITE).
  std::vector<std::pair<uint64_t, uint64_t>> file_inodes() const;
  // True when fd `fd` of `tid` is a file that is a shared object.
  bool is_object_fd(pid_t tid, int fd) const { return object_of_fd(tid, fd) != nullptr; }
  // The objects' sizes and content hashes now (at the end of the recording).
  std::vector<trace::SharedObjectEnd> final_states() const;

 private:
  struct Object {
    uint32_t id;
    int fd = -1;  // the recorder's own read-only descriptor (files and memfds)
    std::string name;
    // A process of the tree wrote to it, or mapped it shared with write
    // access (it could write through memory): its bytes may change.
    bool changed = false;
    struct stat first {};  // at its first mapping: an outside writer changes size or times
    uint64_t size = 0;     // after the last change recorded (its first mapping's size before any)
  };
  Object* mutable_object_of_fd(pid_t tid, int fd);
  const Object* object_of_fd(pid_t tid, int fd) const;
  trace::FileStore& files_;
  uint32_t next_id_ = 1;
  std::map<std::pair<uint64_t, uint64_t>, Object> files_by_inode_;  // (dev, ino)
  std::vector<std::pair<uint64_t, uint64_t>> file_order_;            // its keys, in the order they came
  // (IPC namespace inode, shmid) -> id: a shmid names a segment in one IPC namespace.
  std::map<std::pair<uint64_t, int>, uint32_t> sysv_;
};

}  // namespace rrx::record
