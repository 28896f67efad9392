// The syscall buffer's records as rrx reads them (layout: core/syscallbuf_abi.h):
// parsing the bytes the preload library published, and checking each call
// against the syscall table's kBuffered column. Used by the recorder's flush
// (record/syscallbuf_record.h) and the unit tests of the protocol.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace rrx::syscallbuf {

struct Output {
  uint64_t addr = 0;
  std::vector<uint8_t> bytes;
};

struct Call {
  int64_t nr = 0;
  uint64_t args[6] = {};
  int64_t ret = 0;
  uint8_t flags = 0;  // RRX_RECORD_* (a write to rrx's stdout or stderr)
  std::vector<std::pair<int, std::string>> strings;  // path arguments (argument index, bytes without the NUL)
  std::vector<Output> outputs;
};

// The records in `bytes` (which start at a record boundary and end at one).
// Throws rrx::Error naming the offset of a malformed record.
std::vector<Call> parse_records(std::span<const uint8_t> bytes);

// Empty when the call is one the table marks kBuffered and its outputs are
// exactly the ranges the table's row gives for it; otherwise what is wrong.
// `desched`: the recording gave threads a desched event, so a call the
// row's rule says could block is allowed where its desched column says so.
std::string check_call(const Call& call, bool desched = false);

// Where a record of `call` would put its bytes: the layout the library
// writes (for tests and tools that build buffers).
std::vector<uint8_t> encode_record(const Call& call);

}  // namespace rrx::syscallbuf
