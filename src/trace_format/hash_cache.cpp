// Content hashes remembered across recordings: see hash_cache.h.
#include "trace_format/hash_cache.h"

namespace rrx::trace {

namespace {

bool is_hash(const std::string& h) {
  if (h.size() != 16) return false;
  for (char c : h) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string HashCache::key_of(const struct ::stat& st) const {
  std::string key = file_identity_key(st);
  if (with_ctime_) key += " " + std::to_string(static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec);
  return key;
}

std::optional<std::string> HashCache::lookup(const struct ::stat& st) {
  std::optional<std::string> hash = lines_.lookup(key_of(st));
  if (hash && !is_hash(*hash)) return std::nullopt;
  return hash;
}

void HashCache::add(const struct ::stat& st, const std::string& hash) {
  if (is_hash(hash)) lines_.add(key_of(st), hash);
}

}  // namespace rrx::trace
