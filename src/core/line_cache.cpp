// Facts remembered across rrx runs: see line_cache.h.
#include "core/line_cache.h"

#include <cstdio>

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
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  values_.reserve(got / 48);  // (lines of ~30-100 bytes)
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) break;  // a line still being written, or cut short
    size_t line = at;
    at = nl + 1;
    // Another tag's line (a file shared by several caches) is skipped first.
    if (nl - line <= kCheckLen + tag_.size() || text.compare(line, tag_.size(), tag_) != 0 ||
        text[line + tag_.size()] != ' ')
      continue;
    // The line's own check word, then the line without it.
    if (!has_check_word(&text[nl - kCheckLen], &text[line], nl - line - kCheckLen)) continue;
    nl -= kCheckLen;
    // The key: key_fields_ fields after the tag; the value: the rest.
    size_t key_start = line + tag_.size() + 1, p = key_start;
    bool ok = true;
    for (unsigned f = 0; f < key_fields_ && ok; ++f) {
      size_t sp = text.find(' ', p);
      if (sp == std::string::npos || sp >= nl || sp == p) ok = false;
      else p = sp + 1;
    }
    if (!ok || p >= nl) continue;
    std::string key = text.substr(key_start, p - 1 - key_start);
    std::string value = text.substr(p, nl - p);
    if (!well_formed(key, value)) continue;
    values_[std::move(key)] = std::move(value);
  }
}

std::optional<std::string> LineCache::lookup(const std::string& key) {
  if (!loaded_) load();
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

void LineCache::add(const std::string& key, const std::string& value) {
  if (!loaded_) load();
  if (!well_formed(key, value)) return;
  auto it = values_.find(key);
  if (it != values_.end() && it->second == value) return;
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
