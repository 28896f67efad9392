// The rdrand/rdseed sites of executable files (insn_scan::scan_file)
// remembered across recordings, for the recorder's search on machines
// without CPUID faulting (cpuid_record.h): scanning every library a short
// program maps was a large part of its recording. Keyed by the file's
// identity and mtime (core/line_cache.h) under the scanner's version, in
// ~/.cache/rrx/insn-sites.d/, one of 64 line files by a hash of the key:
// the single file of before held every binary a test suite ever ran
// (~4,000 lines), read and searched at every recording's start. A wrong
// entry would only change what rrx warns about and lists: nothing the
// replay relies on.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/line_cache.h"
#include "record/insn_scan/insn_scan.h"

namespace rrx::record {

class InsnSiteCache {
 public:
  // The cache at `path` (its shards in PATH.d/; empty: this object only).
  explicit InsnSiteCache(std::filesystem::path path);
  // The sites found in the file whose stat is `st`, if it was scanned.
  std::optional<std::vector<insn_scan::Site>> lookup(const struct ::stat& st);
  void add(const struct ::stat& st, const std::vector<insn_scan::Site>& sites);

  // "N MNEMONIC:FILE_OFFSET:ELF_ADDR..." (hex), and back; nullopt for a
  // value that is not exactly that.
  static std::string encode(const std::vector<insn_scan::Site>& sites);
  static std::optional<std::vector<insn_scan::Site>> decode(const std::string& value);

 private:
  LineCache& shard(const std::string& key);
  std::filesystem::path dir_;  // PATH.d, empty: none
  // "rrx-insn-VERSION DEV INO SIZE MTIME_NS VALUE", by shard (made on first use).
  std::map<unsigned, LineCache> shards_;
};

}  // namespace rrx::record
