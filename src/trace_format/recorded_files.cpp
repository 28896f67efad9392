#include "trace_format/recorded_files.h"

#include <sys/syscall.h>

#include <algorithm>

#include "trace_format/trace_reader.h"

namespace fs = std::filesystem;

namespace rrx::trace {

namespace {

// The path string an open-like call was given (its ArgString for `arg`).
std::optional<std::string> arg_string(schema::Syscall::Reader s, unsigned arg) {
  for (auto str : s.getStrings()) {
    if (str.getArg() != arg) continue;
    auto v = str.getValue();
    std::string out(reinterpret_cast<const char*>(v.begin()), v.size());
    while (!out.empty() && out.back() == '\0') out.pop_back();
    return out;
  }
  return std::nullopt;
}

}  // namespace

void RecordedFiles::add(const std::string& path, Version v) {
  if (path.empty()) return;
  v.path = path;
  auto& versions = by_path_[path];
  if (versions.empty() || versions.back().hash != v.hash || versions.back().pid != v.pid) versions.push_back(v);
  auto it = copy_index_.find(v.hash);
  if (it == copy_index_.end()) {
    copy_index_.emplace(v.hash, copies_.size());
    copies_.push_back(Copy{v.hash, {path}, v.role});
    return;
  }
  auto& paths = copies_[it->second].paths;
  if (std::find(paths.begin(), paths.end(), path) == paths.end()) paths.push_back(path);
}

RecordedFiles::RecordedFiles(const fs::path& trace_dir)
    : trace_dir_(trace_dir), reader_(std::make_unique<TraceReader>(trace_dir)) {
  hash_kind_ = reader_->header().getFileHash() == schema::Header::FileHash::PAGES ? FileHashKind::Pages
                                                                                : FileHashKind::Stream;
}

RecordedFiles::~RecordedFiles() = default;
RecordedFiles::RecordedFiles(RecordedFiles&&) noexcept = default;

RecordedFiles RecordedFiles::scan(const fs::path& trace_dir) {
  RecordedFiles files(trace_dir);
  files.read_until(UINT64_MAX);
  return files;
}

void RecordedFiles::read_until(uint64_t now) {
  while (!read_all_ && reader_->position() < now) {
    auto rec = reader_->next();
    if (!rec) {
      read_all_ = true;
      break;
    }
    auto ev = rec->get();
    const int pid = ev.getPid();
    if (ev.which() == schema::Event::EXEC) {
      auto ex = ev.getExec();
      Version v{rec->number, pid, ex.getExeHash().cStr(), Role::Executable};
      if (!v.hash.empty()) {
        add(ex.getExePath().cStr(), v);
        v.path = ex.getExePath().cStr();
        exes_[pid].push_back(v);
      }
      if (ex.hasInterpPath() && ex.getInterpPath().size() > 0 && ex.getInterpHash().size() > 0)
        add(ex.getInterpPath().cStr(), Version{rec->number, pid, ex.getInterpHash().cStr(), Role::Interpreter});
      opened_.erase(pid);  // close-on-exec or not, a later mmap is rarely of an fd from before
      continue;
    }
    if (ev.which() != schema::Event::SYSCALL) continue;
    auto s = ev.getSyscall();
    auto args = s.getArgs();
    auto arg = [&](unsigned i) { return i < args.size() ? args[i] : 0; };
    const int64_t nr = s.getNr();
    const bool ok = !s.getIsError() && s.getRet() >= 0;
    auto& fds = opened_[pid];
    switch (nr) {
      case SYS_open:
      case SYS_openat:
      case SYS_openat2: {
        if (!ok) break;
        auto path = arg_string(s, nr == SYS_open ? 0 : 1);
        if (path && !path->empty() && (*path)[0] == '/') fds[s.getRet()] = fs::path(*path).lexically_normal().string();
        else fds.erase(s.getRet());
        break;
      }
      case SYS_close:
        fds.erase(static_cast<int64_t>(arg(0)));
        break;
      case SYS_dup2:
      case SYS_dup3:
        if (ok) fds.erase(static_cast<int64_t>(arg(1)));
        break;
      case SYS_close_range:
        if (ok) {
          for (auto it = fds.lower_bound(static_cast<int64_t>(arg(0)));
               it != fds.end() && it->first <= static_cast<int64_t>(arg(1));)
            it = fds.erase(it);
        }
        break;
      default:
        break;
    }
    if (!s.hasMapping()) continue;
    auto m = s.getMapping();
    if (m.getContentHash().size() == 0 || m.getRangeOnly()) continue;
    Version v{rec->number, pid, m.getContentHash().cStr(), Role::Mapping};
    add(m.getPath().cStr(), v);
    if (nr == SYS_mmap) {
      auto it = fds.find(static_cast<int64_t>(static_cast<int>(arg(4))));
      if (it != fds.end()) add(it->second, v);
    }
  }
}

const RecordedFiles::Version* RecordedFiles::pick(const std::vector<Version>& versions, int pid, uint64_t now) {
  const Version* any = nullptr;
  const Version* own = nullptr;
  for (const auto& v : versions) {
    if (v.event >= now) break;
    any = &v;
    if (v.pid == pid) own = &v;
  }
  if (own) return own;
  if (any) return any;
  return versions.empty() ? nullptr : &versions.front();
}

std::optional<std::string> RecordedFiles::exe_of(int pid, uint64_t now) const {
  auto it = exes_.find(pid);
  if (it == exes_.end()) return std::nullopt;
  const Version* v = pick(it->second, pid, now);
  if (!v) return std::nullopt;
  return v->path;
}

std::optional<std::string> RecordedFiles::proc_exe(const std::string& path, int pid, uint64_t now) const {
  static const std::string proc = "/proc/";
  if (path.compare(0, proc.size(), proc) != 0 || path.size() <= proc.size() + 4 ||
      path.compare(path.size() - 4, 4, "/exe") != 0)
    return std::nullopt;
  std::string who = path.substr(proc.size(), path.size() - proc.size() - 4);
  if (who != "self") {
    if (who.empty() || who.find_first_not_of("0123456789") != std::string::npos || who.size() > 9)
      return std::nullopt;
    pid = std::stoi(who);
  }
  return exe_of(pid, now);
}

std::optional<RecordedFiles::Version> RecordedFiles::find(const std::string& path, int pid, uint64_t now) const {
  if (auto exe = proc_exe(path, pid, now)) return find(*exe, pid, now);
  auto it = by_path_.find(path);
  if (it == by_path_.end()) it = by_path_.find(fs::path(path).lexically_normal().string());
  if (it == by_path_.end()) return std::nullopt;
  const Version* v = pick(it->second, pid, now);
  if (!v) return std::nullopt;
  return *v;
}

}  // namespace rrx::trace
