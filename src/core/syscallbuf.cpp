// Parsing and checking syscall buffer records: see syscallbuf.h.
#include "core/syscallbuf.h"

#include <sys/syscall.h>

#include <cstring>

#include "core/error.h"
#include "core/syscall_table.h"
#include "core/syscallbuf_abi.h"

namespace rrx::syscallbuf {

bool RecordParser::next(RecordView& c) {
  if (at_ >= bytes_.size()) return false;
  const size_t at = at_;
  auto bad = [&](const std::string& what) {
    return Error("syscall buffer: malformed record at offset " + std::to_string(at) + ": " + what);
  };
  rrx_buffer_record r;
  if (bytes_.size() - at < sizeof r) throw bad("truncated header");
  std::memcpy(&r, bytes_.data() + at, sizeof r);
  if (r.size < RRX_ALIGN8(sizeof r) || r.size % 8 != 0 || r.size > bytes_.size() - at) {
    throw bad("size " + std::to_string(r.size));
  }
  c.nr = r.nr;
  std::memcpy(c.args, r.args, sizeof c.args);
  c.ret = r.ret;
  c.flags = r.flags;
  c.data_crc = r.data_crc;
  c.reserved = r.reserved;
  c.strings.clear();
  c.outputs.clear();
  size_t o = at + RRX_ALIGN8(sizeof r);
  const size_t end = at + r.size;
  for (unsigned i = 0; i < r.string_count; ++i) {
    rrx_buffer_string str;
    if (end - o < sizeof str) throw bad("truncated string " + std::to_string(i));
    std::memcpy(&str, bytes_.data() + o, sizeof str);
    o += sizeof str;
    if (str.arg > 5 || str.len >= RRX_MAX_PATH_BYTES || RRX_ALIGN8(str.len) > end - o) {
      throw bad("string length " + std::to_string(str.len));
    }
    c.strings.emplace_back(static_cast<int>(str.arg), std::string_view(reinterpret_cast<const char*>(bytes_.data() + o), str.len));
    o += RRX_ALIGN8(str.len);
  }
  for (unsigned i = 0; i < r.output_count; ++i) {
    rrx_buffer_output out;
    if (end - o < sizeof out) throw bad("truncated output " + std::to_string(i));
    std::memcpy(&out, bytes_.data() + o, sizeof out);
    o += sizeof out;
    if (out.len > RRX_MAX_RECORD_BYTES || RRX_ALIGN8(out.len) > end - o) throw bad("output length " + std::to_string(out.len));
    c.outputs.push_back(OutputView{out.addr, bytes_.subspan(o, out.len)});
    o += RRX_ALIGN8(out.len);
  }
  if (o != end) throw bad("size does not match its outputs");
  at_ = end;
  return true;
}

std::vector<Call> parse_records(std::span<const uint8_t> bytes) {
  std::vector<Call> calls;
  RecordParser parser(bytes);
  RecordView r;
  while (parser.next(r)) {
    Call c;
    c.nr = r.nr;
    std::memcpy(c.args, r.args, sizeof c.args);
    c.ret = r.ret;
    c.flags = r.flags;
    c.data_crc = r.data_crc;
    c.reserved = r.reserved;
    for (const auto& [arg, str] : r.strings) c.strings.emplace_back(arg, std::string(str));
    for (const OutputView& o : r.outputs) c.outputs.push_back(Output{o.addr, std::vector<uint8_t>(o.bytes.begin(), o.bytes.end())});
    calls.push_back(std::move(c));
  }
  return calls;
}

namespace {
class NoMemory : public sys::MemReader {
 public:
  bool read(uint64_t, void*, size_t) override { return false; }
};
}  // namespace

std::string check_call(const Call& call, bool desched) {
  RecordView r;
  r.nr = call.nr;
  std::memcpy(r.args, call.args, sizeof r.args);
  r.ret = call.ret;
  r.flags = call.flags;
  r.data_crc = call.data_crc;
  r.reserved = call.reserved;
  for (const auto& [arg, str] : call.strings) r.strings.emplace_back(arg, str);
  for (const Output& o : call.outputs) r.outputs.push_back(OutputView{o.addr, o.bytes});
  std::string why;
  std::vector<sys::Range> ranges;
  return check_record(r, desched, why, ranges) ? std::string() : why;
}

bool check_record(const RecordView& call, bool desched, std::string& why, std::vector<sys::Range>& want) {
  const sys::SyscallDesc* d = sys::lookup(call.nr);
  if (!d || !(d->flags & sys::kBuffered)) {
    why = sys::syscall_name(call.nr) + " is not a buffered call";
    return false;
  }
  const sys::BufferRule& rule = d->buffered;
  // The library's decision (core/syscallbuf_abi.h, RRX_BUFFERED_CALLS): the
  // argument test holds, or the recording gave threads a desched event and the
  // desched column allows the call where the test says it could block.
  if (!rule.arg_test_holds(call.args) && !(desched && rrx_desched_allows(rule.desched, call.args))) {
    why = sys::syscall_name(call.nr) + " is not buffered with argument " + std::to_string(rule.arg) + " " +
          std::to_string(call.args[rule.arg]);
    return false;
  }
  const unsigned stream = call.flags & RRX_RECORD_STREAM_MASK;
  if (stream != 0) {
    const bool one_stream = stream == RRX_RECORD_TO_STDOUT || stream == RRX_RECORD_TO_STDERR;
    if (!one_stream || d->sends.shape == sys::Sends::None) {
      why = sys::syscall_name(call.nr) + ": record flags " + std::to_string(call.flags) +
            " (only a write may go to rrx's stdout or stderr)";
      return false;
    }
  }
  if ((call.flags & RRX_RECORD_DATA_CRC) && (d->sends.shape == sys::Sends::None || sys::is_error_return(call.ret))) {
    why = sys::syscall_name(call.nr) + ": a data crc on a call that sent nothing";
    return false;
  }
  if (call.flags & ~(RRX_RECORD_STREAM_MASK | RRX_RECORD_DATA_CRC | RRX_RECORD_OBJECT_WRITE)) {
    why = sys::syscall_name(call.nr) + ": record flags " + std::to_string(call.flags);
    return false;
  }
  const bool object_write = (call.flags & RRX_RECORD_OBJECT_WRITE) != 0;
  if (object_write) {
    // A pwrite64 to a shared object (which of the file facts' shared files: reserved).
    const bool wrote = !sys::is_error_return(call.ret);
    if (call.nr != SYS_pwrite64 || stream != 0 || call.reserved == 0 || call.reserved > RRX_MAX_SHARED_FILES ||
        (wrote && static_cast<uint64_t>(call.ret) > call.args[2]) || !call.strings.empty()) {
      why = sys::syscall_name(call.nr) + ": a shared object's write (file " + std::to_string(call.reserved) +
            " of the facts, " + std::to_string(call.strings.size()) + " strings)";
      return false;
    }
  }
  for (size_t i = 0; i < call.strings.size(); ++i) {
    const int arg = call.strings[i].first;
    if (arg < 0 || arg > 5 || (i > 0 && call.strings[i - 1].first >= arg)) {
      why = sys::syscall_name(call.nr) + ": a string for argument " + std::to_string(arg) + " out of order";
      return false;
    }
    if (rule.in_len != 0 && arg == rule.in_arg) {
      // The input the row names (core/syscallbuf_abi.h, "Signal state"): all of it, after a success.
      if (call.strings[i].second.size() != rule.in_len || call.args[arg] == 0 || sys::is_error_return(call.ret)) {
        why = sys::syscall_name(call.nr) + ": an input of " + std::to_string(call.strings[i].second.size()) +
              " bytes for argument " + std::to_string(arg) + ", the table has " + std::to_string(rule.in_len);
        return false;
      }
    } else if (d->args[arg] != sys::Arg::Path) {
      why = sys::syscall_name(call.nr) + ": a string for argument " + std::to_string(arg) + ", which is not a path";
      return false;
    }
  }
  if (rule.in_len != 0 && call.args[rule.in_arg] != 0 && !sys::is_error_return(call.ret)) {
    bool has = false;
    for (const auto& [arg, str] : call.strings) has = has || arg == rule.in_arg;
    if (!has) {
      why = sys::syscall_name(call.nr) + ": its input (argument " + std::to_string(rule.in_arg) + ") is missing";
      return false;
    }
  }
  want.clear();
  if (!sys::is_error_return(call.ret)) {
    sys::CallView view{call.nr, {}, call.ret};
    std::memcpy(view.args, call.args, sizeof view.args);
    NoMemory none;
    sys::output_ranges(*d, view, none, want);
  }
  if (want.size() != call.outputs.size()) {
    why = sys::syscall_name(call.nr) + ": " + std::to_string(call.outputs.size()) + " outputs recorded, the table has " +
          std::to_string(want.size());
    return false;
  }
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i].addr != call.outputs[i].addr || want[i].len != call.outputs[i].bytes.size()) {
      why = sys::syscall_name(call.nr) + ": output " + std::to_string(i) + " differs from the table's";
      return false;
    }
  }
  return true;
}

std::vector<uint8_t> encode_record(const Call& call) {
  rrx_buffer_record r{};
  r.nr = call.nr;
  std::memcpy(r.args, call.args, sizeof r.args);
  r.ret = call.ret;
  r.flags = call.flags;
  r.data_crc = call.data_crc;
  r.reserved = call.reserved;
  r.output_count = static_cast<uint16_t>(call.outputs.size());
  r.string_count = static_cast<uint8_t>(call.strings.size());
  std::vector<uint8_t> out(RRX_ALIGN8(sizeof r));
  for (const auto& [arg, str] : call.strings) {
    rrx_buffer_string h{static_cast<uint32_t>(arg), static_cast<uint32_t>(str.size())};
    size_t at = out.size();
    out.resize(at + sizeof h + RRX_ALIGN8(str.size()));
    std::memcpy(out.data() + at, &h, sizeof h);
    std::memcpy(out.data() + at + sizeof h, str.data(), str.size());
  }
  for (const Output& o : call.outputs) {
    rrx_buffer_output h{o.addr, o.bytes.size()};
    size_t at = out.size();
    out.resize(at + sizeof h + RRX_ALIGN8(o.bytes.size()));
    std::memcpy(out.data() + at, &h, sizeof h);
    std::memcpy(out.data() + at + sizeof h, o.bytes.data(), o.bytes.size());
  }
  r.size = static_cast<uint32_t>(out.size());
  std::memcpy(out.data(), &r, sizeof r);
  return out;
}

}  // namespace rrx::syscallbuf
