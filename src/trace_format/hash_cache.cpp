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

std::optional<std::string> HashCache::lookup(const struct ::stat& st) {
  std::optional<std::string> hash = lines_.lookup(file_identity_key(st));
  if (hash && !is_hash(*hash)) return std::nullopt;
  return hash;
}

void HashCache::add(const struct ::stat& st, const std::string& hash) {
  if (is_hash(hash)) lines_.add(file_identity_key(st), hash);
}

}  // namespace rrx::trace
