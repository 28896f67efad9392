// rdrand/rdseed sites remembered across recordings: see insn_site_cache.h.
#include "record/insn_site_cache.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <tuple>

namespace rrx::record {

namespace {

bool parse_hex(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  *out = std::strtoull(s.c_str(), nullptr, 16);
  return true;
}

}  // namespace

InsnSiteCache::InsnSiteCache(std::filesystem::path path) {
  if (path.empty()) return;
  dir_ = path.string() + ".d";
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) dir_.clear();
  // The single file of rrx before its shards: no longer read.
  if (!dir_.empty()) std::filesystem::remove(path, ec);
}

LineCache& InsnSiteCache::shard(const std::string& key) {
  uint32_t h = 2166136261u;
  for (char c : key) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  const unsigned n = h % 64;
  auto it = shards_.find(n);
  if (it == shards_.end()) {
    char name[8];
    std::snprintf(name, sizeof name, "%02x", n);
    it = shards_.emplace(std::piecewise_construct, std::forward_as_tuple(n),
                         std::forward_as_tuple(dir_.empty() ? std::filesystem::path() : dir_ / name,
                                               "rrx-insn-" + std::to_string(insn_scan::kScanVersion), 4))
             .first;
  }
  return it->second;
}

std::string InsnSiteCache::encode(const std::vector<insn_scan::Site>& sites) {
  std::string v = std::to_string(sites.size());
  char item[64];
  for (const insn_scan::Site& s : sites) {
    std::snprintf(item, sizeof item, " %s:%" PRIx64 ":%" PRIx64, s.mnemonic.c_str(), s.file_offset, s.elf_addr);
    v += item;
  }
  return v;
}

std::optional<std::vector<insn_scan::Site>> InsnSiteCache::decode(const std::string& value) {
  size_t sp = value.find(' ');
  std::string count_text = value.substr(0, sp);
  if (count_text.empty() || count_text.size() > 9 || count_text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  const size_t count = std::strtoul(count_text.c_str(), nullptr, 10);
  std::vector<insn_scan::Site> sites;
  size_t at = sp == std::string::npos ? value.size() : sp + 1;
  while (at < value.size()) {
    size_t end = value.find(' ', at);
    if (end == std::string::npos) end = value.size();
    std::string item = value.substr(at, end - at);
    at = end + 1;
    size_t c1 = item.find(':'), c2 = c1 == std::string::npos ? c1 : item.find(':', c1 + 1);
    if (c2 == std::string::npos) return std::nullopt;
    std::string mnemonic = item.substr(0, c1);
    insn_scan::Site site;
    if ((mnemonic != "rdrand" && mnemonic != "rdseed") ||
        !parse_hex(item.substr(c1 + 1, c2 - c1 - 1), &site.file_offset) ||
        !parse_hex(item.substr(c2 + 1), &site.elf_addr))
      return std::nullopt;
    site.mnemonic = mnemonic;
    sites.push_back(std::move(site));
    if (sites.size() > count) return std::nullopt;
  }
  if (sites.size() != count || (count > 0 && value.back() == ' ')) return std::nullopt;
  return sites;
}

std::optional<std::vector<insn_scan::Site>> InsnSiteCache::lookup(const struct ::stat& st) {
  const std::string key = file_identity_key(st);
  std::optional<std::string> v = shard(key).lookup(key);
  if (!v) return std::nullopt;
  return decode(*v);
}

void InsnSiteCache::add(const struct ::stat& st, const std::vector<insn_scan::Site>& sites) {
  const std::string key = file_identity_key(st);
  shard(key).add(key, encode(sites));
}

}  // namespace rrx::record
