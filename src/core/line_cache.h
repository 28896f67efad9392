// Facts remembered across rrx runs in small text files under the user's
// cache directory (~/.cache/rrx, or $XDG_CACHE_HOME/rrx): a file's content
// hash (trace_format/hash_cache.h), the rdrand/rdseed sites of a library
// (record/insn_site_cache.h), what the running kernel supports
// (core/kernel_probe.h). Each line is `TAG KEY VALUE`: the tag names the
// kind of fact and its format version, the key (a fixed number of
// space-separated fields) says what the fact is about and must change
// whenever the fact may (a file's identity and mtime, a boot id), the value
// is the rest of the line. Lines are appended whole with one write, so rrx
// processes running at the same time share a file; a line cut short, a
// line of an unknown tag or with the wrong number of fields is ignored.
// A cache that cannot be read or written only stays empty (or lasts as long
// as the object): rrx works the same without it, only slower.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <unordered_map>
#include <optional>
#include <string>

namespace rrx {

// DIR/NAME for the user's rrx cache directory DIR ($XDG_CACHE_HOME/rrx when
// that is an absolute path, else $HOME/.cache/rrx), created when missing.
// Empty when there is none (no HOME): a cache of this process only.
std::filesystem::path user_cache_file(const std::string& name);

// "DEV INO SIZE MTIME_NS" of a file: the key of facts about its content.
// Not ctime: a recording's hard link to a system file changes it. Package
// managers replace files (a new inode) or write them (a new mtime).
std::string file_identity_key(const struct ::stat& st);

class LineCache {
 public:
  // The cache file `path` (empty: none), its lines of tag `tag` with
  // `key_fields` key fields. Nothing is read before the first lookup. Past
  // `max_bytes` the file is removed when read (entries of files long gone).
  LineCache(std::filesystem::path path, std::string tag, unsigned key_fields, uint64_t max_bytes = 4 << 20);

  // The value last added under `key` (by this object or in the file).
  std::optional<std::string> lookup(const std::string& key);
  // Remembers `value` under `key` here and in the file. A key without
  // exactly key_fields space-separated fields, or a key or value with a
  // newline (or a value longer than kMaxValue), is remembered nowhere.
  void add(const std::string& key, const std::string& value);

  static constexpr size_t kMaxValue = 64 * 1024;

 private:
  bool well_formed(const std::string& key, const std::string& value) const;
  void load();
  std::optional<std::string> find_in_text(const std::string& key) const;
  std::filesystem::path path_;
  std::string tag_;
  unsigned key_fields_;
  uint64_t max_bytes_;
  bool loaded_ = false;
  std::string text_;  // the file as read at the first lookup or add
  // Keys looked up or added: their value (nullopt: none in the file).
  std::unordered_map<std::string, std::optional<std::string>> values_;
};

}  // namespace rrx
