// Facts remembered across rrx runs: see line_cache.h.
#include "core/line_cache.h"

#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <system_error>

#include "core/unique_fd.h"

namespace rrx {

namespace fs = std::filesystem;

fs::path user_cache_file(const std::string& name) {
  fs::path dir;
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  if (xdg != nullptr && *xdg == '/') {
    dir = fs::path(xdg) / "rrx";
  } else if (home != nullptr && *home == '/') {
    dir = fs::path(home) / ".cache" / "rrx";
  } else {
    return {};
  }
  std::error_code ec;
  fs::create_directories(dir, ec);  // when it fails, so will every open: no cache
  return dir / name;
}

std::string file_identity_key(const struct ::stat& st) {
  const int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return std::to_string(static_cast<uint64_t>(st.st_dev)) + " " + std::to_string(static_cast<uint64_t>(st.st_ino)) +
         " " + std::to_string(static_cast<uint64_t>(st.st_size)) + " " + std::to_string(mtime);
}

LineCache::LineCache(fs::path path, std::string tag, unsigned key_fields, uint64_t max_bytes)
    : path_(std::move(path)), tag_(std::move(tag)), key_fields_(key_fields), max_bytes_(max_bytes) {}

namespace {

// The check word that ends each line: " #" and 8 hex digits of an FNV-1a
// hash of everything before it. A line cut short (a writer killed
// mid-write), or run into by the next one, does not end with its own.
constexpr size_t kCheckLen = 10;

uint32_t check_hash(const char* text, size_t len) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; ++i) h = (h ^ static_cast<unsigned char>(text[i])) * 16777619u;
  return h;
}

std::string check_word(const char* text, size_t len) {
  char buf[16];
  std::snprintf(buf, sizeof buf, " #%08x", check_hash(text, len));
  return buf;
}

// Whether the kCheckLen bytes at `word` are the check word of [text, text + len)
// (what check_word gives, compared without formatting it: the load's hot path).
bool has_check_word(const char* word, const char* text, size_t len) {
  if (word[0] != ' ' || word[1] != '#') return false;
  uint32_t h = check_hash(text, len);
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    if (word[2 + i] != kHex[(h >> (28 - 4 * i)) & 0xf]) return false;
  }
  return true;
}

}  // namespace

bool LineCache::well_formed(const std::string& key, const std::string& value) const {
  if (value.empty() || value.size() > kMaxValue || value.find('\n') != std::string::npos) return false;
  // key_fields fields, each non-empty, separated by single spaces.
  unsigned fields = 0;
  size_t at = 0;
  for (;;) {
    size_t sp = key.find(' ', at);
    size_t end = sp == std::string::npos ? key.size() : sp;
    if (end == at) return false;
    for (size_t i = at; i < end; ++i) {
      if (key[i] == '\n' || key[i] == '\t' || key[i] == '\r') return false;
    }
    ++fields;
    if (sp == std::string::npos) break;
    at = sp + 1;
  }
  return fields == key_fields_;
}

void LineCache::load() {
  loaded_ = true;
  if (path_.empty()) return;
  UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return;
  struct ::stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  if (static_cast<uint64_t>(st.st_size) > max_bytes_) {
    ::unlink(path_.c_str());
    return;
  }
  text_.assign(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text_.size()) {
    ssize_t n = ::read(fd.get(), text_.data() + got, text_.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  text_.resize(got);
}

// The file's lines are not parsed when it is read: a cache of a few
// thousand lines (the sites of every binary a test suite ran) took
// milliseconds to parse into a map at each rrx start, for the few keys a
// run asks for. A lookup searches the text for its own key's lines instead.
std::optional<std::string> LineCache::find_in_text(const std::string& key) const {
  if (text_.empty() || !well_formed(key, "v")) return std::nullopt;
  const std::string needle = tag_ + " " + key + " ";
  std::optional<std::string> found;
  const char* const begin = text_.data();
  const char* const end = begin + text_.size();
  const char* p = begin;
  while (p < end) {
    const void* hit = ::memmem(p, static_cast<size_t>(end - p), needle.data(), needle.size());
    if (hit == nullptr) break;
    const char* line = static_cast<const char*>(hit);
    p = line + 1;
    if (line != begin && line[-1] != '\n') continue;  // not at a line's start
    const char* nl = static_cast<const char*>(std::memchr(line, '\n', static_cast<size_t>(end - line)));
    if (nl == nullptr) break;  // a line still being written, or cut short
    p = nl + 1;
    size_t len = static_cast<size_t>(nl - line);
    if (len <= kCheckLen + needle.size() || !has_check_word(nl - kCheckLen, line, len - kCheckLen)) continue;
    std::string value(line + needle.size(), nl - kCheckLen);
    // The needle ends at the key's last field: a line whose key has more
    // fields (or a value that fails the rules) is another entry's or damaged.
    if (!well_formed(key, value)) continue;
    found = std::move(value);  // the last line wins
  }
  return found;
}

std::optional<std::string> LineCache::lookup(const std::string& key) {
  if (!loaded_) load();
  auto it = values_.find(key);
  if (it == values_.end()) it = values_.emplace(key, find_in_text(key)).first;
  return it->second;
}

void LineCache::add(const std::string& key, const std::string& value) {
  if (!loaded_) load();
  if (!well_formed(key, value)) return;
  if (lookup(key) == value) return;
  values_[key] = value;
  if (path_.empty()) return;
  std::string body = tag_ + " " + key + " " + value;
  std::string line = "\n" + body + check_word(body.data(), body.size()) + "\n";
  // One write of a whole line in append mode: processes running at the same
  // time interleave whole lines. The newline before it ends a line that a
  // writer killed mid-write left cut short (empty lines are skipped).
  UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) return;
  (void)!::write(fd.get(), line.data(), line.size());
}

}  // namespace rrx
