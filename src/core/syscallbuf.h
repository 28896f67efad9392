// The syscall buffer's records as rrx reads them (layout: core/syscallbuf_abi.h):
// parsing the bytes the preload library published, and checking each call
// against the syscall table's kBuffered column. Used by the recorder's flush
// (record/syscallbuf_record.h) and the unit tests of the protocol.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/syscall_table.h"

namespace rrx::syscallbuf {

struct Output {
  uint64_t addr = 0;
  std::vector<uint8_t> bytes;
};

struct Call {
  int64_t nr = 0;
  uint64_t args[6] = {};
  int64_t ret = 0;
  uint8_t flags = 0;  // RRX_RECORD_* (a write to rrx's stdout or stderr; a data crc)
  uint32_t data_crc = 0;  // with RRX_RECORD_DATA_CRC: the CRC-32C of the bytes the call sent
  uint32_t reserved = 0;  // with RRX_RECORD_OBJECT_WRITE: 1 + the object's index in the file facts
  std::vector<std::pair<int, std::string>> strings;  // path arguments (argument index, bytes without the NUL)
  std::vector<Output> outputs;
};

// One record as it lies in the buffer's bytes: strings and outputs point
// into them (valid while those bytes are). The recorder's flush reads a
// buffer with one RecordView and no allocation per call.
struct OutputView {
  uint64_t addr = 0;
  std::span<const uint8_t> bytes;
};
struct RecordView {
  int64_t nr = 0;
  uint64_t args[6] = {};
  int64_t ret = 0;
  uint8_t flags = 0;
  uint32_t data_crc = 0;
  uint32_t reserved = 0;
  std::vector<std::pair<int, std::string_view>> strings;  // (capacity kept from record to record)
  std::vector<OutputView> outputs;
};

// Walks the records in `bytes` (which start at a record boundary and end at one).
class RecordParser {
 public:
  explicit RecordParser(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  // The next record into `out`; false after the last. Throws rrx::Error
  // naming the offset of a malformed record.
  bool next(RecordView& out);

 private:
  std::span<const uint8_t> bytes_;
  size_t at_ = 0;
};

// The records in `bytes`, copied out (for tests and tools).
std::vector<Call> parse_records(std::span<const uint8_t> bytes);

// Empty when the call is one the table marks kBuffered and its outputs are
// exactly the ranges the table's row gives for it; otherwise what is wrong.
// `desched`: the recording gave threads a desched event, so a call the
// row's rule says could block is allowed where its desched column says so.
std::string check_call(const Call& call, bool desched = false);
// The same for a record in place: true when it is right, else false with
// the reason in `why`. `ranges` is scratch space (kept from call to call).
bool check_record(const RecordView& call, bool desched, std::string& why, std::vector<sys::Range>& ranges);

// Where a record of `call` would put its bytes: the layout the library
// writes (for tests and tools that build buffers).
std::vector<uint8_t> encode_record(const Call& call);

}  // namespace rrx::syscallbuf
