// rr's gdb commands for the gdb `rrx replay` starts (see gdb_script.h).
//
// Commands that move the program (goto, restart) go through gdb's `starti`
// (the vRun packet), which gdb takes as a new start of the program: it reads
// registers, memory, threads and the shared library list again. Before that
// they ask the stub whether the move can be made (`monitor can-goto N`,
// `monitor can-restart N`): starti first kills gdb's view of the process, so
// a refused vRun would leave gdb without one. The others are monitor
// commands, which change nothing gdb holds.
#include "cli/gdb_script.h"

#include <unistd.h>

#include <cstdlib>

namespace rrx::cli {

namespace {

const char kScript[] = R"GDB(# rrx: commands for debugging a replay (loaded by rrx replay).
define hookpost-monitor
maint flush register-cache
maint flush dcache
sharedlibrary
end
python
import gdb

def _rrx_monitor(command, to_string=False):
    if not to_string:
        return gdb.execute("monitor " + command)
    # `set debug remote` would put the packets (binary) into the captured
    # answer: off while capturing.
    debug = gdb.parameter("debug remote")
    if debug:
        gdb.execute("set debug remote 0")
    try:
        return gdb.execute("monitor " + command, to_string=True)
    finally:
        if debug:
            gdb.execute("set debug remote %d" % debug)

def _rrx_number(arg, usage):
    words = gdb.string_to_argv(arg)
    if len(words) != 1 or not words[0].isdigit():
        raise gdb.GdbError(usage)
    return words[0]

def _rrx_move(check, run_arg):
    # The stub says "ok" or why not, without moving anything.
    answer = _rrx_monitor(check, to_string=True).strip()
    if answer != "ok":
        raise gdb.GdbError(answer)
    gdb.execute("starti " + run_arg)

class RrxWhen(gdb.Command):
    """Print the current event number of the replay (as rrx dump numbers events)."""
    def __init__(self):
        super().__init__("when", gdb.COMMAND_STATUS, gdb.COMPLETE_NONE)
    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError("usage: when")
        _rrx_monitor("when")

class RrxWhenTid(gdb.Command):
    """Print the recorded thread id (tid) of the current thread."""
    def __init__(self):
        super().__init__("when-tid", gdb.COMMAND_STATUS, gdb.COMPLETE_NONE)
    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError("usage: when-tid")
        thread = gdb.selected_thread()
        if thread is None or not thread.is_valid():
            raise gdb.GdbError("The program is not being run.")
        print("Current tid: %d" % thread.ptid[1])

class RrxGoto(gdb.Command):
    """Go to event EVENT: the start of the stretch of execution that ends with it.
Usage: goto EVENT (an event number from rrx dump, or from `when`)."""
    def __init__(self):
        super().__init__("goto", gdb.COMMAND_RUNNING, gdb.COMPLETE_NONE)
    def invoke(self, arg, from_tty):
        n = _rrx_number(arg, "usage: goto EVENT (an event number, see rrx dump or when)")
        _rrx_move("can-goto " + n, n)

class RrxCheckpoint(gdb.Command):
    """Keep the current position as a checkpoint (go back to it with restart N)."""
    def __init__(self):
        super().__init__("checkpoint", gdb.COMMAND_RUNNING, gdb.COMPLETE_NONE)
    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError("usage: checkpoint")
        _rrx_monitor("checkpoint")

class RrxRestart(gdb.Command):
    """Go back to checkpoint N (see info checkpoints).
Usage: restart N"""
    def __init__(self):
        super().__init__("restart", gdb.COMMAND_RUNNING, gdb.COMPLETE_NONE)
    def invoke(self, arg, from_tty):
        n = _rrx_number(arg, "usage: restart CHECKPOINT (a checkpoint number, see info checkpoints)")
        _rrx_move("can-restart " + n, "c" + n)

class RrxInfoCheckpoints(gdb.Command):
    """List the checkpoints of the replay and the memory they hold."""
    def __init__(self):
        super().__init__("info checkpoints", gdb.COMMAND_STATUS, gdb.COMPLETE_NONE)
    def invoke(self, arg, from_tty):
        _rrx_monitor("info checkpoints")

class RrxDeleteCheckpoint(gdb.Command):
    """Delete checkpoint N.
Usage: delete checkpoint N"""
    def __init__(self):
        super().__init__("delete checkpoint", gdb.COMMAND_RUNNING, gdb.COMPLETE_NONE)
    def invoke(self, arg, from_tty):
        n = _rrx_number(arg, "usage: delete checkpoint N")
        answer = _rrx_monitor("delete checkpoint " + n, to_string=True)
        if answer.startswith("rrx: "):
            raise gdb.GdbError(answer.strip())
        gdb.write(answer)

RrxWhen()
RrxWhenTid()
RrxGoto()
RrxCheckpoint()
RrxRestart()
RrxInfoCheckpoints()
RrxDeleteCheckpoint()
end
)GDB";

}  // namespace

const std::string& gdb_startup_script() {
  static const std::string text = kScript;
  return text;
}

GdbStartupFile::GdbStartupFile() {
  char path[] = "/tmp/rrx-gdb-commands.XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) return;
  const std::string& text = gdb_startup_script();
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (ok) path_ = path;
  else ::unlink(path);
}

GdbStartupFile::~GdbStartupFile() { remove(); }

void GdbStartupFile::remove() {
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
}

}  // namespace rrx::cli
