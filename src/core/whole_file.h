// A whole file read into memory: /proc files (status, auxv), whose size
// stat does not tell, and small cache files.
#pragma once

#include <optional>
#include <string>

namespace rrx {

// The file's bytes, read in as few reads as its size allows (one for a
// regular file, as many as procfs needs for a /proc file: it fills a read
// of a page or more at once); nullopt when it cannot be opened.
std::optional<std::string> read_whole_file(const std::string& path);

}  // namespace rrx
