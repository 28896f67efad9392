// rrx_trace_edit: copies an rrx trace directory, changing the recorded result
// of one syscall event. Used by the end-to-end tests to make a replay take
// another path than the recording did (tests/e2e/divergence.sh).
//
//   rrx_trace_edit IN_DIR OUT_DIR --syscall NAME [--nth K] [--string S]
//                  [--ret VALUE] [--arg I VALUE] [--clear-writes]
//   rrx_trace_edit IN_DIR --list
//
// The K-th (1-based, default 1) `syscall` event whose syscall is NAME (a name
// like "statx", or a number), and with --string whose captured string
// arguments contain S, gets VALUE (decimal, or 0x hex; negative for -errno)
// as its result; isError follows the value. --arg I VALUE sets its argument
// I (0-5) instead, or as well (one of --ret and --arg is required: a trace
// whose recorded argument differs from what the program passes makes the
// replay diverge at that call). --clear-writes drops the memory
// the kernel wrote during that call. Every other event, the header and the
// End record are copied unchanged; files/ is hard-linked (copied where links
// fail). An incomplete input trace gives an incomplete output trace.
//
// Prints "edited event N: NAME ret OLD -> NEW" (or "arg I OLD -> NEW") on stdout. Exit status: 0 done,
// 1 no matching event or unreadable trace, 2 bad usage.
#include <capnp/message.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/syscall_table.h"
#include "trace_format/format.h"
#include "trace_format/trace_reader.h"
#include "trace_format/trace_writer.h"

namespace fs = std::filesystem;

namespace {

[[noreturn]] void usage(const std::string& why) {
  if (!why.empty()) std::cerr << "rrx_trace_edit: " << why << "\n";
  std::cerr << "usage: rrx_trace_edit IN_DIR OUT_DIR --syscall NAME [--nth K] [--string S] [--ret VALUE] "
               "[--arg I VALUE] [--clear-writes]\n"
               "       rrx_trace_edit IN_DIR --list\n";
  std::exit(2);
}

std::optional<int64_t> parse_int(const std::string& s) {
  if (s.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 0);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return v;
}

bool strings_contain(rrx::schema::Syscall::Reader sc, const std::string& needle) {
  for (auto s : sc.getStrings()) {
    auto data = s.getValue();
    std::string_view value(reinterpret_cast<const char*>(data.begin()), data.size());
    if (value.find(needle) != std::string_view::npos) return true;
  }
  return false;
}

// Hard-links (or copies) everything in IN except the trace stream and its index.
void copy_tree(const fs::path& in, const fs::path& out, bool top) {
  for (const auto& entry : fs::directory_iterator(in)) {
    const auto name = entry.path().filename();
    if (top && (name == rrx::trace::kTraceFileName || name == rrx::trace::kIndexFileName)) continue;
    const fs::path dest = out / name;
    if (entry.is_symlink()) {
      fs::copy_symlink(entry.path(), dest);
    } else if (entry.is_directory()) {
      fs::create_directory(dest);
      copy_tree(entry.path(), dest, false);
    } else {
      std::error_code ec;
      fs::create_hard_link(entry.path(), dest, ec);
      if (ec) fs::copy_file(entry.path(), dest);
    }
  }
}

int list_events(const fs::path& in) {
  rrx::trace::TraceReader reader(in);
  while (auto rec = reader.next()) {
    auto ev = rec->get();
    if (!ev.isSyscall()) continue;
    auto sc = ev.getSyscall();
    std::cout << rec->number << " " << rrx::sys::syscall_name(sc.getNr()) << " = " << sc.getRet() << "\n";
  }
  if (!reader.complete()) std::cout << "(incomplete trace: " << reader.incomplete_reason() << ")\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positional;
  std::string syscall;
  std::string needle;
  int64_t nth = 1;
  std::optional<int64_t> ret;
  std::optional<std::pair<int, int64_t>> arg;
  bool clear_writes = false, list = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--syscall") {
      syscall = value();
    } else if (a == "--nth") {
      auto v = parse_int(value());
      if (!v || *v < 1) usage("--nth takes a number >= 1");
      nth = *v;
    } else if (a == "--ret") {
      ret = parse_int(value());
      if (!ret) usage("--ret takes an integer");
    } else if (a == "--arg") {
      auto index = parse_int(value());
      auto v = parse_int(value());
      if (!index || *index < 0 || *index > 5 || !v) usage("--arg takes an index 0-5 and an integer");
      arg = std::make_pair(static_cast<int>(*index), *v);
    } else if (a == "--string") {
      needle = value();
    } else if (a == "--clear-writes") {
      clear_writes = true;
    } else if (a == "--list") {
      list = true;
    } else if (a == "-h" || a == "--help") {
      usage("");
    } else if (a.size() > 1 && a[0] == '-' && !parse_int(a)) {
      usage("unknown option " + a);
    } else {
      positional.push_back(a);
    }
  }

  try {
    if (list) {
      if (positional.size() != 1) usage("--list takes one trace directory");
      return list_events(positional[0]);
    }
    if (positional.size() != 2) usage("expected IN_DIR and OUT_DIR");
    if (syscall.empty()) usage("--syscall is required");
    if (!ret && !arg) usage("--ret or --arg is required");

    int64_t nr = rrx::sys::syscall_number(syscall);
    if (nr < 0) {
      auto n = parse_int(syscall);
      if (!n) usage("unknown syscall name: " + syscall);
      nr = *n;
    }

    const fs::path in = positional[0], out = positional[1];
    if (fs::exists(out) && !(fs::is_directory(out) && fs::is_empty(out))) {
      std::cerr << "rrx_trace_edit: " << out << " exists and is not an empty directory\n";
      return 1;
    }
    rrx::trace::TraceReader reader(in);
    fs::create_directories(out);
    copy_tree(in, out, true);

    capnp::MallocMessageBuilder header;
    header.setRoot(reader.header());
    rrx::trace::TraceWriter writer(out, header);

    int64_t seen = 0;
    std::optional<uint64_t> edited;
    while (auto rec = reader.next()) {
      capnp::MallocMessageBuilder event;
      event.setRoot(rec->get());
      auto ev = event.getRoot<rrx::schema::Event>();
      if (!edited && ev.isSyscall()) {
        auto sc = ev.getSyscall();
        if (sc.getNr() == nr && (needle.empty() || strings_contain(sc.asReader(), needle)) && ++seen == nth) {
          std::cout << "edited event " << rec->number << ": " << rrx::sys::syscall_name(nr);
          if (ret) {
            const int64_t old = sc.getRet();
            sc.setRet(*ret);
            sc.setIsError(rrx::sys::is_error_return(*ret));
            std::cout << " ret " << old << " -> " << *ret;
          }
          if (arg) {
            auto args = sc.getArgs();
            if (static_cast<unsigned>(arg->first) >= args.size()) usage("the event has no argument " + std::to_string(arg->first));
            std::cout << " arg " << arg->first << " " << static_cast<int64_t>(args[arg->first]) << " -> " << arg->second;
            args.set(arg->first, static_cast<uint64_t>(arg->second));
          }
          if (clear_writes) sc.initMemWrites(0);
          edited = rec->number;
          std::cout << std::endl;
        }
      }
      writer.append(event);
    }
    if (reader.complete()) {
      writer.close(reader.end()->exit_status, reader.end()->reason);
    } else {
      writer.flush();
      std::cerr << "rrx_trace_edit: note: the input trace is incomplete (" << reader.incomplete_reason()
                << "); so is the copy\n";
    }
    if (!edited) {
      std::error_code ec;
      fs::remove_all(out, ec);
      std::cerr << "rrx_trace_edit: no event matched: " << syscall << " occurrence " << nth
                << (needle.empty() ? "" : " with string \"" + needle + "\"") << " (" << seen
                << " matching events)\n";
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "rrx_trace_edit: " << e.what() << "\n";
    return 1;
  }
}
