// SharedObjects: see shared_objects.h.
#include "record/shared_objects.h"

#include <algorithm>
#include <dirent.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/proc_maps.h"
#include "core/unique_fd.h"
#include "record/namespaces.h"

namespace rrx::record {

namespace {

std::string fd_path(pid_t tid, int fd) { return "/proc/" + std::to_string(tid) + "/fd/" + std::to_string(fd); }

std::string read_link(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  if (n < 0) return path;
  return std::string(buf, static_cast<size_t>(n));
}

// The file position and open flags of `fd` in `tid` (/proc/TID/fdinfo/FD).
bool fd_info(pid_t tid, int fd, uint64_t* pos, int* flags) {
  std::ifstream in("/proc/" + std::to_string(tid) + "/fdinfo/" + std::to_string(fd));
  if (!in) return false;
  std::string key;
  bool got_pos = false;
  bool got_flags = false;
  while (in >> key) {
    if (key == "pos:") {
      in >> *pos;
      got_pos = true;
    } else if (key == "flags:") {
      std::string octal;
      in >> octal;
      *flags = static_cast<int>(std::strtol(octal.c_str(), nullptr, 8));
      got_flags = true;
    } else {
      std::string rest;
      std::getline(in, rest);
    }
    if (got_pos && got_flags) return true;
  }
  return got_pos && got_flags;
}

// The mapping that starts at `addr` in `tid`: its end and its path column.
bool mapping_at(pid_t tid, uint64_t addr, uint64_t* end, std::string* path) {
  for (const ProcMapping& m : read_proc_maps(tid)) {
    if (m.start != addr) continue;
    *end = m.end;
    *path = m.path;
    return true;
  }
  return false;
}

// Processes outside `tree` with a writable shared mapping of (dev, ino): "PID (COMM)".
std::vector<std::string> outside_mappers(dev_t dev, ino_t ino, const std::vector<pid_t>& tree) {
  std::vector<std::string> out;
  std::set<pid_t> inside(tree.begin(), tree.end());
  inside.insert(::getpid());
  const std::string inode_field = " " + std::to_string(ino) + " ";
  DIR* proc = ::opendir("/proc");
  if (!proc) return out;
  while (dirent* e = ::readdir(proc)) {
    char* endp = nullptr;
    long pid = std::strtol(e->d_name, &endp, 10);
    if (*endp != '\0' || pid <= 0 || inside.count(static_cast<pid_t>(pid))) continue;
    // Every process of the machine: only a writable shared map can change
    // the bytes, and the kernel is asked for those alone (PROCMAP_QUERY),
    // else only the lines of its maps naming the inode are parsed.
    std::optional<bool> found = maps_file_writable_shared(static_cast<pid_t>(pid), major(dev), minor(dev), ino);
    if (!found) {
      const std::string text = read_proc_maps_text(static_cast<pid_t>(pid));
      found = false;
      for (size_t at = text.find(inode_field); at != std::string::npos && !*found; at = text.find(inode_field, at + 1)) {
        size_t begin = text.rfind('\n', at);
        begin = begin == std::string::npos ? 0 : begin + 1;
        size_t end = text.find('\n', at);
        auto m = parse_proc_maps_line(std::string_view(text).substr(begin, end == std::string::npos ? end : end - begin));
        found = m && m->writable() && m->shared() && m->inode == ino && m->dev_major == major(dev) &&
                m->dev_minor == minor(dev);
      }
    }
    if (*found) {
      std::ifstream comm(std::string("/proc/") + e->d_name + "/comm");
      std::string name;
      std::getline(comm, name);
      out.push_back(std::string(e->d_name) + " (" + name + ")");
    }
    if (out.size() >= 5) break;
  }
  ::closedir(proc);
  return out;
}

}  // namespace

SharedObjects::~SharedObjects() {
  for (auto& [key, o] : files_by_inode_) {
    if (o.fd >= 0) ::close(o.fd);
  }
}

std::optional<SharedObjects::Mapping> SharedObjects::on_file_map(pid_t tid, int fd, const struct stat& st, bool shared,
                                                                 const std::vector<pid_t>& tree) {
  if (!S_ISREG(st.st_mode)) return std::nullopt;
  auto key = std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
  auto it = files_by_inode_.find(key);
  // An ordinary private map (nearly every mmap of a file): nothing more to read.
  if (it == files_by_inode_.end() && !shared) return std::nullopt;
  std::string path = fd_path(tid, fd);
  Mapping m;
  m.size = static_cast<uint64_t>(st.st_size);
  uint64_t pos = 0;
  int flags = 0;
  if (fd_info(tid, fd, &pos, &flags)) m.writable = (flags & O_ACCMODE) == O_RDWR;
  if (it != files_by_inode_.end()) {
    m.id = it->second.id;
    m.name = it->second.name;
    if (shared && m.writable) it->second.changed = true;
    it->second.size = m.size;  // (as replay sizes its copy at this mapping)
    return m;
  }
  Object o;
  o.id = next_id_++;
  o.name = read_link(path);
  o.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (o.fd < 0) throw_errno("open " + path + " (" + o.name + ", mapped shared)");
  o.changed = m.writable;
  m.id = o.id;
  m.name = o.name;
  m.content = files_.store(path, o.name);
  // (After the store: its hard link into the trace changes the file's ctime.)
  if (::fstat(o.fd, &o.first) != 0) o.changed = true;
  o.size = static_cast<uint64_t>(o.first.st_size);
  // (Every process of the machine is looked at: not for a package-managed
  // file, which nothing writes in place. glibc maps its gconv-modules.cache
  // shared in every program that converts characters: python at start-up.)
  if (!trace::package_managed(o.name)) m.outside_mappers = outside_mappers(st.st_dev, st.st_ino, tree);
  files_by_inode_.emplace(key, std::move(o));
  file_order_.push_back(key);
  return m;
}

SharedObjects::Mapping SharedObjects::on_sysv_attach(Task& task, int shmid, uint64_t addr) {
  Mapping m;
  uint64_t end = 0;
  std::string path;
  if (!mapping_at(task.tid(), addr, &end, &path) || end <= addr) {
    throw Error("shmat of segment " + std::to_string(shmid) + " at 0x" + std::to_string(addr) +
                ": no mapping there in /proc/" + std::to_string(task.tid()) + "/maps");
  }
  m.size = end - addr;
  m.name = path.empty() ? "SysV segment " + std::to_string(shmid) : path + ", shmid " + std::to_string(shmid);
  m.writable = true;
  struct stat ipc_ns {};
  ::stat(("/proc/" + std::to_string(task.tid()) + "/ns/ipc").c_str(), &ipc_ns);
  const std::pair<uint64_t, int> key{static_cast<uint64_t>(ipc_ns.st_ino), shmid};
  auto it = sysv_.find(key);
  if (it != sysv_.end()) {
    m.id = it->second;
    return m;
  }
  m.id = next_id_++;
  sysv_[key] = m.id;
  // Its bytes now (a segment created outside the recording may hold data):
  // stored as a sparse file when any page is not zero.
  std::filesystem::path tmp = files_.dir() / (".sysv-" + std::to_string(shmid));
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) throw_errno("create " + tmp.string());
  bool any = false;
  std::vector<char> page(4096);
  static const std::vector<char> zeros(4096, 0);
  for (uint64_t off = 0; off < m.size; off += page.size()) {
    size_t n = task.read_mem(addr + off, page.data(), page.size());
    if (n == 0 || std::memcmp(page.data(), zeros.data(), n) == 0) continue;
    if (::pwrite(out, page.data(), n, static_cast<off_t>(off)) != static_cast<ssize_t>(n)) {
      ::close(out);
      ::unlink(tmp.c_str());
      throw_errno("write " + tmp.string());
    }
    any = true;
  }
  if (::ftruncate(out, static_cast<off_t>(m.size)) != 0) {
    ::close(out);
    ::unlink(tmp.c_str());
    throw_errno("truncate " + tmp.string());
  }
  ::close(out);
  if (any) m.content = files_.store(tmp, m.name);
  ::unlink(tmp.c_str());
  return m;
}

std::vector<std::pair<uint64_t, uint64_t>> SharedObjects::file_inodes() const { return file_order_; }

SharedObjects::Object* SharedObjects::mutable_object_of_fd(pid_t tid, int fd) {
  return const_cast<Object*>(object_of_fd(tid, fd));
}

const SharedObjects::Object* SharedObjects::object_of_fd(pid_t tid, int fd) const {
  if (fd < 0) return nullptr;
  struct stat st {};
  if (::stat(fd_path(tid, fd).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
  auto it = files_by_inode_.find({static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)});
  return it == files_by_inode_.end() ? nullptr : &it->second;
}

std::optional<SharedObjects::Change> SharedObjects::on_file_change(const sys::SyscallDesc& desc,
                                                                   const sys::CallView& call, Task& task) {
  if (files_by_inode_.empty() || call.ret < 0) return std::nullopt;
  const sys::FileChangeFrom& fc = desc.changes_file;
  pid_t tid = task.tid();
  Object* o = nullptr;
  int fd = -1;
  if (fc.kind == sys::FileChange::ResizePath) {
    std::string p = task.read_string(call.args[fc.fd]);
    if (p.empty()) return std::nullopt;
    // The file the path names for the task (its root, mount namespace, cwd).
    UniqueFd file(open_as_seen_by(tid, p, "/proc/" + std::to_string(tid) + "/cwd", O_PATH));
    struct stat st {};
    if (file.get() < 0 || ::fstat(file.get(), &st) != 0) return std::nullopt;
    auto it = files_by_inode_.find({static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)});
    if (it == files_by_inode_.end()) return std::nullopt;
    o = &it->second;
  } else if (fc.kind == sys::FileChange::Opened) {
    fd = static_cast<int>(call.ret);
    o = mutable_object_of_fd(tid, fd);
  } else {
    fd = static_cast<int>(call.args[fc.fd]);
    o = mutable_object_of_fd(tid, fd);
  }
  if (o == nullptr) return std::nullopt;
  Change c;
  c.id = o->id;
  uint64_t ret = static_cast<uint64_t>(call.ret);
  uint64_t end = 0;
  bool bytes = false;
  auto at_position = [&]() {
    uint64_t pos = 0;
    int flags = 0;
    if (!fd_info(tid, fd, &pos, &flags)) throw Error("cannot read /proc/" + std::to_string(tid) + "/fdinfo/" + std::to_string(fd));
    end = pos;
    bytes = true;
  };
  switch (fc.kind) {
    case sys::FileChange::AtPosition:
      at_position();
      break;
    case sys::FileChange::AtOffset: {
      int64_t off = static_cast<int64_t>(call.args[fc.off]);
      uint64_t pos = 0;
      int flags = 0;
      if (off == -1) {
        at_position();
      } else if (fd_info(tid, fd, &pos, &flags) && (flags & O_APPEND)) {
        // Linux appends a pwrite to an O_APPEND file, whatever the offset.
        struct stat st {};
        if (::fstat(o->fd, &st) == 0) end = static_cast<uint64_t>(st.st_size);
        bytes = true;
      } else {
        end = static_cast<uint64_t>(off) + ret;
        bytes = true;
      }
      break;
    }
    case sys::FileChange::AtOffsetPtr: {
      uint64_t ptr = call.args[fc.off];
      if (ptr == 0) {
        at_position();
      } else if (task.read_exact(ptr, &end, sizeof end)) {
        bytes = true;
      }
      break;
    }
    case sys::FileChange::Allocate: {
      int mode = static_cast<int>(call.args[1]);
      uint64_t off = call.args[2];
      uint64_t len = call.args[3];
      if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
        c.offset = off;
        c.length = len;  // zeros
      } else if (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)) {
        // The bytes from `off` on moved: all of them, as they are now.
        struct stat st {};
        if (::fstat(o->fd, &st) == 0 && static_cast<uint64_t>(st.st_size) > off) {
          c.offset = off;
          end = static_cast<uint64_t>(st.st_size);
          ret = end - off;
          bytes = true;
        }
      }
      break;
    }
    default:
      break;  // Resize, ResizePath, Opened: the size alone
  }
  if (bytes && ret > 0 && end >= ret) {
    c.offset = end - ret;
    c.length = ret;
    c.data.resize(ret);
    ssize_t got = ::pread(o->fd, c.data.data(), c.data.size(), static_cast<off_t>(c.offset));
    c.data.resize(got > 0 ? static_cast<size_t>(got) : 0);
  }
  struct stat st {};
  if (::fstat(o->fd, &st) != 0) throw_errno("fstat of shared object " + o->name);
  c.size = static_cast<uint64_t>(st.st_size);
  if (c.length > c.size - std::min(c.size, c.offset)) c.length = c.size - std::min(c.size, c.offset);
  // (An open that truncated nothing changed nothing.)
  if (fc.kind != sys::FileChange::Opened || st.st_size != o->first.st_size) o->changed = true;
  o->size = c.size;
  return c;
}

std::optional<SharedObjects::Change> SharedObjects::on_buffered_write(size_t index, uint64_t offset,
                                                                      uint64_t length) {
  if (index >= file_order_.size()) return std::nullopt;
  Object* o = &files_by_inode_.at(file_order_[index]);
  Change c;
  c.id = o->id;
  c.offset = offset;
  c.length = length;
  // A pwrite grows the file to its end, never shrinks it.
  c.size = std::max(o->size, offset + length);
  o->size = c.size;
  o->changed = true;
  return c;
}

std::vector<trace::SharedObjectEnd> SharedObjects::final_states() const {
  std::vector<trace::SharedObjectEnd> out;
  constexpr uint64_t kHashLimit = uint64_t{1} << 30;
  for (const auto& [key, o] : files_by_inode_) {
    trace::SharedObjectEnd e;
    e.object = o.id;
    e.path = o.name;
    struct stat st {};
    if (::fstat(o.fd, &st) != 0) continue;
    e.size = static_cast<uint64_t>(st.st_size);
    // Untouched from its first mapping to now (times to the nanosecond): its
    // stored copy is its content throughout, and there is nothing to hash
    // (a JDK's 128 MB lib/modules, mapped shared read-only by every JVM).
    auto same_time = [](const struct timespec& a, const struct timespec& b) {
      return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
    };
    e.unchanged = !o.changed && st.st_size == o.first.st_size && same_time(st.st_mtim, o.first.st_mtim) &&
                  same_time(st.st_ctim, o.first.st_ctim);
    if (e.unchanged) {
      out.push_back(std::move(e));
      continue;
    }
    try {
      // Holes cost nothing to hash: the limit is on the data.
      if (trace::data_bytes(o.fd, 0, e.size, o.name) <= kHashLimit)
        e.content_hash = trace::content_hash_of_file("/proc/self/fd/" + std::to_string(o.fd));
    } catch (const Error&) {
      // Unreadable now: not checked.
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace rrx::record
