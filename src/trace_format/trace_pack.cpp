// rrx pack (trace_pack.h): real copies for hard links, every copy checked
// against its hash, files/ made read-only, the `packed` marker.
#include "trace_format/trace_pack.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "core/unique_fd.h"
#include "trace_format/format.h"
#include "trace_format/trace_dir.h"

namespace fs = std::filesystem;

namespace rrx::trace {

namespace {

constexpr mode_t kReadOnlyDir = 0500;

bool is_hash_name(const std::string& s) {
  return s.size() == 16 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

void chmod_or_throw(const fs::path& p, mode_t mode) {
  if (::chmod(p.c_str(), mode) != 0) throw_errno("cannot chmod " + p.string());
}

// The one copy in files/HASH/ (stored_file_path's rule), with its lstat.
struct Copy {
  std::string hash;
  fs::path path;
  struct stat st {};
};

std::vector<Copy> copies_of(const fs::path& dir) {
  std::vector<Copy> out;
  fs::path files = dir / kFilesDirName;
  std::error_code ec;
  if (!fs::is_directory(files, ec)) return out;
  for (const auto& e : fs::directory_iterator(files, ec)) {
    std::string name = e.path().filename().string();
    if (!is_hash_name(name)) continue;  // a recorder's temporary (.copy.*.rrxtmp): not part of the trace
    Copy c;
    c.hash = name;
    c.path = stored_file_path(dir, name);
    if (::lstat(c.path.c_str(), &c.st) != 0) throw_errno("cannot stat " + c.path.string());
    if (!S_ISREG(c.st.st_mode)) throw Error("the trace's copy " + c.path.string() + " is not a regular file");
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const Copy& a, const Copy& b) { return a.hash < b.hash; });
  return out;
}

[[noreturn]] void damaged(const Copy& c, const std::string& actual) {
  throw Error("the trace's copy " + c.path.string() + " is damaged: its content hash is " + actual +
              ", the recording stored " + c.hash + "; the trace was not packed");
}

// Replaces the hard link c.path by a copy of its content (a clone where the
// file system can, else a sparse copy), checked against c.hash.
uint64_t replace_link(const Copy& c, FileHashKind kind) {
  UniqueFd in(::open(c.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) throw_errno("cannot open " + c.path.string());
  const uint64_t size = static_cast<uint64_t>(c.st.st_size);
  fs::path tmp = c.path.parent_path() / (".pack." + std::to_string(::getpid()) + ".rrxtmp");
  ::unlink(tmp.c_str());
  UniqueFd out(::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) throw_errno("cannot create " + tmp.string());
  try {
    std::string hash;
    if (!clone_file(in.get(), out.get())) {
      empty_for_copy(out.get(), tmp.string());
      hash = sparse_copy(in.get(), 0, size, out.get(), c.path.string(), tmp.string());
    }
    if (hash.empty() || kind != FileHashKind::Pages) hash = content_hash_of_range(out.get(), 0, kind == FileHashKind::Pages ? size : UINT64_MAX, kind, tmp.string());
    if (hash != c.hash) damaged(c, hash);
    mode_t mode = 0400 | ((c.st.st_mode & 0111) != 0 ? 0100 : 0);
    if (::fchmod(out.get(), mode) != 0) throw_errno("cannot chmod " + tmp.string());
    if (::rename(tmp.c_str(), c.path.c_str()) != 0) throw_errno("cannot replace " + c.path.string());
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  return size;
}

std::string now_text() {
  time_t t = ::time(nullptr);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

}  // namespace

PackResult pack_trace(const fs::path& dir, FileHashKind kind) {
  PackResult r;
  fs::path files = dir / kFilesDirName;
  std::error_code ec;
  r.already_packed = fs::exists(dir / kPackedFileName, ec);
  if (!fs::is_directory(files, ec)) throw Error("the trace " + dir.string() + " has no " + kFilesDirName + " directory");
  std::vector<Copy> copies = copies_of(dir);
  // Writable while links are replaced (a packed trace whose files/ was
  // tampered with gets the same treatment); read-only again at the end.
  chmod_or_throw(files, 0700);
  for (const Copy& c : copies) {
    ++r.files;
    fs::path hdir = c.path.parent_path();
    if (c.st.st_nlink > 1) {
      chmod_or_throw(hdir, 0700);
      r.copied_bytes += replace_link(c, kind);
      ++r.copied;
    } else {
      std::string actual = content_hash_of_file(c.path, kind);
      if (actual != c.hash) damaged(c, actual);
      mode_t mode = 0400 | ((c.st.st_mode & 0111) != 0 ? 0100 : 0);
      chmod_or_throw(c.path, mode);
    }
    UniqueFd fd(::open(c.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() >= 0) r.data_bytes += data_bytes(fd.get(), 0, static_cast<uint64_t>(c.st.st_size), c.path.string());
    chmod_or_throw(hdir, kReadOnlyDir);
  }
  // Leftover temporaries of an interrupted recording or pack are not the trace's.
  for (const auto& e : fs::directory_iterator(files, ec)) {
    if (e.path().extension() == ".rrxtmp") fs::remove(e.path(), ec);
  }
  chmod_or_throw(files, kReadOnlyDir);
  if (!r.already_packed) {
    fs::path tmp = dir / (std::string(kPackedFileName) + ".rrxtmp");
    {
      std::ofstream out(tmp);
      out << "packed " << now_text() << " by rrx " << RRX_VERSION << ": " << r.files << " files, "
          << describe_size(r.data_bytes) << " of data\n";
      if (!out) throw Error("cannot write " + tmp.string());
    }
    if (::rename(tmp.c_str(), (dir / kPackedFileName).c_str()) != 0)
      throw_errno("cannot write " + (dir / kPackedFileName).string());
  }
  return r;
}

std::string packed_note(const fs::path& dir) {
  std::ifstream in(dir / kPackedFileName);
  if (!in) return "";
  std::string line;
  std::getline(in, line);
  return line.empty() ? "packed" : line;
}

uint64_t linked_file_count(const fs::path& dir) {
  uint64_t n = 0;
  try {
    for (const Copy& c : copies_of(dir)) n += c.st.st_nlink > 1;
  } catch (const Error&) {
  }
  return n;
}

void remove_trace_tree(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) return;
  // Directories first made writable (top-down), then everything removed.
  if (fs::is_directory(fs::symlink_status(dir, ec))) {
    ::chmod(dir.c_str(), 0700);
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0700);
    }
  }
  fs::remove_all(dir, ec);
  if (ec) throw Error("cannot remove " + dir.string() + ": " + ec.message());
}

}  // namespace rrx::trace
