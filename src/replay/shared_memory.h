// The replay's shared objects: one memfd of rrx's own per object the trace
// numbers (a file, memfd, /dev/shm object, SysV segment or shared anonymous
// memory that recorded processes mapped MAP_SHARED). Every replayed mapping
// of the object maps that memfd, so a store by one process is seen by the
// others as it was when recording; file writes of skipped syscalls are
// applied to it; checkpoints keep a copy of each.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/ptrace_task.h"
#include "trace_format/sparse_file.h"
#include "trace_format/trace.capnp.h"
#include "trace_format/trace_writer.h"

namespace rrx::replay {

class SharedMemory {
 public:
  // `stored_copy` gives the path of a stored file for a content hash.
  explicit SharedMemory(std::function<std::filesystem::path(const std::string&)> stored_copy);
  ~SharedMemory();
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;

  struct MapRequest {
    uint64_t addr = 0;
    uint64_t len = 0;
    int prot = 0;
    bool shared = true;          // MAP_SHARED, or a copy-on-write MAP_PRIVATE map of the object
    bool replace = true;         // MAP_FIXED (else MAP_FIXED_NOREPLACE)
    uint64_t offset = 0;
  };
  // Maps the object of `m` (a FileMapping with sharedObject set) into the
  // stopped task `t` (at a syscall-exit or one-stop entry stop; `scratch` is
  // the address of its syscall instruction), creating and filling the memfd
  // at the object's first mapping. Throws rrx::Error when it cannot.
  void map(Task& t, uint64_t scratch, schema::FileMapping::Reader m, const MapRequest& req);
  // shmdt at `addr`: unmaps the segment's mapping there. False when no
  // mapping of one of rrx's objects starts there.
  bool unmap_segment(Task& t, uint64_t scratch, uint64_t addr);
  // A skipped syscall's change to an object's bytes or size; for a write of
  // the bytes the call sent (w.getSent()), `sent` holds them.
  void apply(schema::FileWrite::Reader w, std::string_view sent = {});
  // Opens the copy of object `id` (mapped before) in the stopped task `t`
  // (as map() does), close-on-exec, read-write: the fd in the task, or
  // -errno (-ENOENT: no such object yet).
  int64_t open_in(Task& t, uint64_t scratch, uint32_t id);
  // The size of object `id`'s copy now (0 when it has none).
  uint64_t copy_size(uint32_t id) const;

  // Copies of every object's bytes, for a checkpoint, and of the shared
  // anonymous memory of the replayed processes `tasks` (recorded tid ->
  // task; mapped for real, so a checkpoint's frozen fork shares it with the
  // live process); restore() puts them back into the processes forked from
  // the checkpoint (objects first mapped after the snapshot are emptied
  // until their first mapping comes again).
  struct Snapshot;
  std::shared_ptr<const Snapshot> snapshot(const std::map<int, Task*>& tasks) const;
  void restore(const Snapshot& snap, const std::map<int, Task*>& tasks);

  // The objects whose bytes differ from the recording's at its end: one line
  // each, empty when all match (or none were checked). `kind`: the hash the
  // trace names files by (its header).
  std::vector<std::string> compare_end(const std::vector<trace::SharedObjectEnd>& recorded,
                                       trace::FileHashKind kind) const;

 private:
  struct Object {
    int fd = -1;
    std::string name;
    bool writable = true;
    bool initialized = false;  // sized and filled by its first mapping (since the last restore)
  };
  Object& object(uint32_t id, schema::FileMapping::Reader m);
  // An fd of o's memfd in the stopped task `t` (openat of its /proc path,
  // `mode` | O_CLOEXEC), or -errno.
  static int64_t open_copy(Task& t, uint64_t scratch, const Object& o, int mode);
  std::function<std::filesystem::path(const std::string&)> stored_copy_;
  std::map<uint32_t, Object> objects_;
};

}  // namespace rrx::replay
