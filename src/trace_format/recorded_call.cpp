#include "trace_format/recorded_call.h"

#include "trace_format/format.h"

namespace rrx::trace {

std::string data_string(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

sys::RecordedCall recorded_call(schema::Syscall::Reader s, bool with_ret) {
  sys::RecordedCall c;
  c.nr = s.getNr();
  auto args = s.getArgs();
  for (unsigned i = 0; i < 6 && i < args.size(); ++i) c.args[i] = args[i];
  c.ret = s.getRet();
  c.has_ret = with_ret;
  c.i386 = (s.getFlags() & kSyscallI386) != 0;
  for (auto str : s.getStrings()) c.strings.emplace_back(str.getArg(), data_string(str.getValue()));
  for (auto w : s.getMemWrites()) c.writes.emplace_back(w.getAddr(), data_string(w.getData()));
  return c;
}

}  // namespace rrx::trace
