#pragma once

#include <cstdint>
#include <string>

#include "core/error.h"

namespace rrx::trace {

// A trace that cannot be read: names the file and the byte offset.
class TraceError : public rrx::Error {
 public:
  TraceError(std::string file, uint64_t offset, const std::string& what)
      : rrx::Error(file + ": at offset " + std::to_string(offset) + ": " + what),
        file_(std::move(file)),
        offset_(offset) {}
  const std::string& file() const { return file_; }
  uint64_t offset() const { return offset_; }

 private:
  std::string file_;
  uint64_t offset_;
};

}  // namespace rrx::trace
