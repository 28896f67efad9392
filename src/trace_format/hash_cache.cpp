// Content hashes remembered across recordings: see hash_cache.h.
#include "trace_format/hash_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "core/unique_fd.h"

namespace rrx::trace {

namespace {

// One line per file: "TAG DEV INO SIZE MTIME_NS HASH" ("rrx-hash-1 ..."),
// or "TAG DEV INO SIZE MTIME_NS CTIME_NS HASH" with Key::WithCtime.

int64_t ns(const struct timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec; }

bool is_hash(const char* h) {
  if (std::strlen(h) != 16) return false;
  for (const char* c = h; *c; ++c) {
    if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'))) return false;
  }
  return true;
}

// The whole of `word` as a decimal number.
template <typename T>
bool number(std::string_view word, T& out) {
  auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), out);
  return ec == std::errc() && end == word.data() + word.size();
}

}  // namespace

HashCache::Id HashCache::key_of(const struct ::stat& st) const {
  return Id{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
            ns(st.st_mtim), with_ctime_ ? ns(st.st_ctim) : 0};
}

void HashCache::load() {
  loaded_ = true;
  UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return;
  struct ::stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  if (static_cast<uint64_t>(st.st_size) > max_bytes_) {
    ::unlink(path_.c_str());
    return;
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  // By hand rather than sscanf: a replay reads the whole file before its
  // first lookup.
  const size_t fields = with_ctime_ ? 7 : 6;
  std::string_view rest(text);
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) break;  // a line still being written, or cut short
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    std::string_view f[7];
    size_t n = 0;
    while (!line.empty() && n <= fields) {
      size_t sp = line.find(' ');
      std::string_view word = line.substr(0, sp);
      if (word.empty() || n == fields) {
        n = fields + 1;  // two spaces, a leading space, or too many fields
        break;
      }
      f[n++] = word;
      line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    }
    if (n != fields || f[0] != tag_ || f[fields - 1].size() != 16) continue;
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime = 0, ctime = 0;
    if (!number(f[1], dev) || !number(f[2], ino) || !number(f[3], size) || !number(f[4], mtime) ||
        (with_ctime_ && !number(f[5], ctime)))
      continue;
    std::string hash(f[fields - 1]);
    if (!is_hash(hash.c_str())) continue;
    hashes_[Id{dev, ino, size, mtime, ctime}] = std::move(hash);
  }
}

std::optional<std::string> HashCache::lookup(const struct ::stat& st) {
  if (!loaded_) load();
  auto it = hashes_.find(key_of(st));
  if (it == hashes_.end()) return std::nullopt;
  return it->second;
}

void HashCache::add(const struct ::stat& st, const std::string& hash) {
  if (!loaded_) load();
  if (!is_hash(hash.c_str())) return;
  Id k = key_of(st);
  if (hashes_.count(k)) return;
  hashes_[k] = hash;
  char line[192];
  int n = with_ctime_ ? std::snprintf(line, sizeof line,
                                      "\n%s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %s\n",
                                      tag_.c_str(), std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k),
                                      std::get<4>(k), hash.c_str())
                      : std::snprintf(line, sizeof line, "\n%s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %s\n",
                                      tag_.c_str(), std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k),
                                      hash.c_str());
  if (n <= 0 || static_cast<size_t>(n) >= sizeof line) return;
  // One write of a whole line in append mode: recordings running at the same
  // time interleave whole lines. The newline before it ends a line that a
  // writer killed mid-write left cut short (the empty lines are skipped).
  UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) return;
  (void)!::write(fd.get(), line, static_cast<size_t>(n));
}

}  // namespace rrx::trace
