#!/usr/bin/env python3
"""Replays the MI command sequence VS Code's C/C++ extension (cpptools'
MIEngine, "MIMode": "gdb" with "miDebuggerServerAddress") sends, against
`rrx replay -s 0`, and checks every answer (tests/gdb/ide.sh).

The threads session connects with -target-select extended-remote, as CLion's
"Remote Debug" configuration does.

Usage: mi_ide.py RRX DEMO_TRACE DEMO_EXE THREADS_TRACE THREADS_EXE SOURCE_DIR

MIEngine's launch: gdb --interpreter=mi; -gdb-set mi-async on; the
launch.json setupCommands; -interpreter-exec console "set pagination off";
-environment-cd; -file-exec-and-symbols; "show architecture";
-break-insert main (its entry breakpoint, deleted when hit);
-target-select remote HOST:PORT; the user's breakpoints (-break-insert -f
FILE:LINE); -exec-continue (a remote launch continues rather than runs).
At each stop: -thread-info, -stack-list-frames, -stack-list-variables,
-var-create/-var-list-children, -data-evaluate-expression; the step
buttons: -exec-next/-exec-step/-exec-finish and their --reverse forms,
-exec-continue --reverse; pause: -exec-interrupt. Prints one line per
check; exits 1 on a failure."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mi_client import MiError, MiSession  # noqa: E402

rrx, demo_trace, demo_exe, mt_trace, mt_exe, source_dir = sys.argv[1:7]
failures = 0


def check(ok, what, detail=""):
    global failures
    print(("ok:   " if ok else "FAIL: ") + what + ("" if ok or not detail else "\n  | " + str(detail)))
    sys.stdout.flush()
    if not ok:
        failures += 1
    return ok


def select(gdb, thread, frame="0"):
    """MIEngine selects the thread and frame a command is about with
    -thread-select and -stack-select-frame before sending it."""
    rec = gdb.command("-thread-select %s" % thread)
    check(rec.cls == "done", "-thread-select " + thread, rec)
    rec = gdb.command("-stack-select-frame %s" % frame)
    check(rec.cls == "done", "-stack-select-frame " + frame, rec)


def variables(gdb, thread="1", frame="0"):
    """-stack-list-variables as MIEngine asks for them: name -> value."""
    select(gdb, thread, frame)
    rec = gdb.command("-stack-list-variables --simple-values")
    if rec.cls != "done":
        return {}
    return {v["name"]: v.get("value") for v in rec.results.get("variables", [])}


def evaluate(gdb, expr, thread="1", frame="0"):
    select(gdb, thread, frame)
    rec = gdb.command('-data-evaluate-expression "%s"' % expr)
    return rec.results.get("value") if rec.cls == "done" else "^error: " + rec.results.get("msg", "")


def frame_of(stop):
    return stop.results.get("frame", {})


def launch(session, exe, cwd, target="remote"):
    """MIEngine's launch sequence up to the connection (CLion's is the same
    with target="extended-remote")."""
    gdb = session.start_gdb()
    gdb.command("-gdb-set mi-async on")
    # launch.json "setupCommands" (the template's pretty printing), then MIEngine's own.
    rec = gdb.command("-enable-pretty-printing")
    check(rec.cls == "done", "setupCommands: -enable-pretty-printing", rec)
    gdb.command('-interpreter-exec console "set pagination off"')
    rec = gdb.command("-environment-cd " + cwd)
    check(rec.cls == "done", "-environment-cd", rec)
    rec = gdb.command("-file-exec-and-symbols " + exe)
    check(rec.cls == "done", "-file-exec-and-symbols", rec)
    rec = gdb.command('-interpreter-exec console "show architecture"')
    check(rec.cls == "done" and "x86-64" in "".join(gdb.console), "show architecture: x86-64",
          "".join(gdb.console))
    rec = gdb.command("-break-insert main")
    entry_bp = rec.results.get("bkpt", {}).get("number")
    check(rec.cls == "done" and entry_bp is not None, "entry breakpoint at main", rec)
    rec = gdb.command("-target-select %s 127.0.0.1:%d" % (target, session.port), timeout=60)
    check(rec.cls == "connected", "-target-select %s connects" % target, rec)
    # The stop a connection reports (the replay at its first instruction):
    # MIEngine ignores it as gdbserver's attach stop.
    initial = [r for r in gdb.pending_async if r.kind == "*" and r.cls == "stopped"]
    check(len(initial) == 1 and frame_of(initial[0]).get("func") == "_start",
          "the connection reports the stop at _start", gdb.pending_async)
    gdb.pending_async.clear()
    return gdb, entry_bp


def run_to_user_code(gdb, entry_bp):
    """-exec-continue to the entry breakpoint, delete it and continue (MIEngine's
    "stopAtEntry": false). Returns the next stop."""
    rec = gdb.command("-exec-continue")
    check(rec.cls == "running", "-exec-continue runs", rec)
    stop = gdb.wait_async("stopped", 120)
    check(stop.results.get("reason") == "breakpoint-hit" and stop.results.get("bkptno") == entry_bp and
          frame_of(stop).get("func") == "main", "stopped at the entry breakpoint in main", stop)
    rec = gdb.command("-break-delete " + entry_bp)
    check(rec.cls == "done", "entry breakpoint deleted", rec)
    rec = gdb.command("-exec-continue")
    return gdb.wait_async("stopped", 120)


def demo_session():
    session = MiSession(rrx, demo_trace)
    try:
        gdb, entry_bp = launch(session, demo_exe, source_dir)
        src = os.path.join(source_dir, "gdb_demo.c")
        rec = gdb.command("-break-insert -f %s:15" % src)
        bkpt = rec.results.get("bkpt", {})
        check(rec.cls == "done" and bkpt.get("line") == "15" and bkpt.get("func") == "square",
              "-break-insert -f gdb_demo.c:15 (in square)", rec)
        user_bp = bkpt.get("number")

        # The command list of "list-target-features": gdb says whether the
        # target reverses (IDEs enable Step Back / Reverse Continue on it).
        rec = gdb.command("-list-target-features")
        check(rec.cls == "done" and "reverse" in rec.results.get("features", []),
              "-list-target-features includes reverse", rec)

        stop = run_to_user_code(gdb, entry_bp)
        f = frame_of(stop)
        check(stop.results.get("reason") == "breakpoint-hit" and stop.results.get("bkptno") == user_bp and
              f.get("func") == "square" and f.get("line") == "15" and f.get("fullname", "").endswith("gdb_demo.c"),
              "breakpoint hit in square at gdb_demo.c:15", stop)
        check(f.get("args") == [{"name": "v", "value": "1"}], "frame args: v=1", f.get("args"))
        thread_id = stop.results.get("thread-id", "1")

        # The Debug Console's "-exec monitor when".
        rec = gdb.command('-interpreter-exec console "monitor when"')
        check(rec.cls == "done" and re.search(r"Current event: \d+", "".join(gdb.console)) is not None,
              "monitor when", "".join(gdb.console))
        rec = gdb.command("-thread-info")
        threads = rec.results.get("threads", [])
        check(rec.cls == "done" and len(threads) == 1 and threads[0].get("state") == "stopped" and
              threads[0].get("frame", {}).get("func") == "square" and
              rec.results.get("current-thread-id") == thread_id,
              "-thread-info: one stopped thread in square", rec)
        rec = gdb.command("-stack-info-depth 1000")
        select(gdb, thread_id)
        rec = gdb.command("-stack-list-frames 0 1000")
        funcs = [fr["frame"].get("func") for fr in rec.results.get("stack", [])]
        check(rec.cls == "done" and funcs[:3] == ["square", "sum_squares", "main"],
              "-stack-list-frames: square <- sum_squares <- main", funcs)
        vs = variables(gdb, thread_id, "0")
        check(vs.get("v") == "1" and "r" in vs, "-stack-list-variables in square: v=1, r", vs)
        vs = variables(gdb, thread_id, "1")
        check(vs.get("n") == "4" and vs.get("total") == "0" and vs.get("i") == "1",
              "-stack-list-variables in sum_squares (frame 1): n=4 total=0 i=1", vs)
        vs = variables(gdb, thread_id, "2")
        check(vs.get("n") == "4", "-stack-list-variables in main (frame 2): n=4", vs)
        rec = gdb.command('-var-create - * "origin"')
        check(rec.cls == "done" and rec.results.get("numchild") == "2", "-var-create origin (struct, 2 children)", rec)
        var = rec.results.get("name", "")
        rec = gdb.command('-var-list-children --simple-values "%s" 0 1000' % var)
        kids = {c["child"]["exp"]: c["child"].get("value") for c in rec.results.get("children", [])}
        check(kids == {"x": "1", "y": "2"}, "-var-list-children: x=1 y=2", rec)
        gdb.command("-var-delete " + var)
        rec = gdb.command('-var-create - * "global_counter"')
        check(rec.results.get("value") == "0", "-var-create global_counter = 0", rec)
        value = evaluate(gdb, "v * 10 + global_counter")
        check(value == "10", "-data-evaluate-expression v * 10 + global_counter", value)
        rec = gdb.command("-data-list-register-values --skip-unavailable x 16")
        check(rec.cls == "done" and rec.results.get("register-values", [{}])[0].get("number") == "16" and
              rec.results["register-values"][0].get("value", "").startswith("0x5555"),
              "-data-list-register-values: rip in the executable", rec)
        rec = gdb.command('-data-read-memory-bytes "&origin" 8')
        mem = rec.results.get("memory", [{}])[0].get("contents")
        check(mem == "0100000002000000", "-data-read-memory-bytes &origin: x=1 y=2", rec)

        # A refused write: the reason reaches the IDE in the error message.
        rec = gdb.command('-var-assign "%s" 99' % gdb.command('-var-create - * "v"').results.get("name", "var"))
        check(rec.cls == "error", "-var-assign refused", rec)
        select(gdb, thread_id)
        rec = gdb.command('-data-evaluate-expression "$rax = 12345"')
        check(rec.cls == "error" and "replay" in rec.results.get("msg", ""),
              "a register write is refused with rrx's reason", rec)

        # Step over, twice: line 16, then 17 (global_counter written).
        for line in ("16", "17"):
            select(gdb, thread_id)
            rec = gdb.command("-exec-next")
            stop = gdb.wait_async("stopped")
            check(stop.results.get("reason") == "end-stepping-range" and frame_of(stop).get("line") == line,
                  "-exec-next to line " + line, stop)
        check(variables(gdb, thread_id).get("r") == "1", "r=1 after the step")
        check(evaluate(gdb, "global_counter") == "1", "global_counter=1 after line 16")
        rec = gdb.command("-var-update --all-values *")
        check(rec.cls == "done", "-var-update", rec)

        # Step back (reverse-next): line 16 again, global_counter not yet written.
        rec = gdb.command("-exec-next --reverse")
        check(rec.cls == "running", "-exec-next --reverse runs", rec)
        stop = gdb.wait_async("stopped")
        check(stop.results.get("reason") == "end-stepping-range" and frame_of(stop).get("line") == "16",
              "-exec-next --reverse back to line 16", stop)
        check(evaluate(gdb, "global_counter") == "0", "global_counter=0 again before line 16 ran")
        rec = gdb.command("-exec-step --reverse")
        stop = gdb.wait_async("stopped")
        check(frame_of(stop).get("line") == "15", "-exec-step --reverse back to line 15", stop)

        # Forward to the next hit, then reverse-continue to the previous one.
        rec = gdb.command("-exec-continue")
        stop = gdb.wait_async("stopped")
        check(stop.results.get("bkptno") == user_bp and frame_of(stop).get("args") == [{"name": "v", "value": "2"}],
              "-exec-continue: next hit, v=2", stop)
        check(evaluate(gdb, "global_counter") == "1", "global_counter=1 at the second call")
        rec = gdb.command("-exec-continue --reverse")
        check(rec.cls == "running", "-exec-continue --reverse runs", rec)
        stop = gdb.wait_async("stopped")
        check(stop.results.get("reason") == "breakpoint-hit" and
              frame_of(stop).get("args") == [{"name": "v", "value": "1"}],
              "-exec-continue --reverse: back at the first hit, v=1", stop)
        check(evaluate(gdb, "global_counter") == "0", "global_counter=0 there")

        # Reverse step out (reverse-finish) from inside square: back at its
        # call in sum_squares; step in again (the breakpoint), then step out:
        # the return value.
        select(gdb, thread_id)
        gdb.command("-exec-next")
        stop = gdb.wait_async("stopped")
        check(frame_of(stop).get("line") == "16", "-exec-next to line 16", stop)
        # (gdb stops a reverse-finish at a breakpoint it passes: the one at line 15)
        rec = gdb.command("-break-disable " + user_bp)
        rec = gdb.command("-exec-finish --reverse")
        check(rec.cls == "running", "-exec-finish --reverse runs", rec)
        stop = gdb.wait_async("stopped")
        check(frame_of(stop).get("func") == "sum_squares" and frame_of(stop).get("line") == "23",
              "-exec-finish --reverse: at the call in sum_squares:23", stop)
        check(variables(gdb, thread_id).get("i") == "1", "i=1 there")
        rec = gdb.command("-break-enable " + user_bp)
        gdb.command("-exec-step")
        stop = gdb.wait_async("stopped")
        check(frame_of(stop).get("func") == "square" and frame_of(stop).get("line") == "15" and
              frame_of(stop).get("args") == [{"name": "v", "value": "1"}], "-exec-step into square(1)", stop)
        gdb.command("-exec-finish")
        stop = gdb.wait_async("stopped")
        check(stop.results.get("reason") == "function-finished" and stop.results.get("return-value") == "1" and
              frame_of(stop).get("func") == "sum_squares", "-exec-finish: square returned 1 into sum_squares", stop)

        # A data breakpoint (MIEngine: -break-watch *(int*)(ADDR)): forwards
        # to the next write, backwards to the writing instruction.
        gdb.command("-break-delete " + user_bp)
        addr = evaluate(gdb, "&global_counter").split()[0]
        rec = gdb.command("-break-watch *(int*)(%s)" % addr)
        check(rec.cls == "done" and "wpt" in rec.results, "-break-watch global_counter", rec)
        gdb.command("-exec-continue")
        stop = gdb.wait_async("stopped")
        value = stop.results.get("value", {})
        check(stop.results.get("reason") == "watchpoint-trigger" and value.get("old") == "1" and
              value.get("new") == "5" and frame_of(stop).get("func") == "square",
              "-exec-continue: the watchpoint triggers in square(2), 1 -> 5", stop)
        rec = gdb.command("-exec-continue --reverse")
        stop = gdb.wait_async("stopped")
        check(stop.results.get("reason") == "watchpoint-trigger" and frame_of(stop).get("line") == "16" and
              frame_of(stop).get("args") == [{"name": "v", "value": "2"}],
              "-exec-continue --reverse: at that write, in square(2) line 16", stop)
        check(evaluate(gdb, "global_counter") == "1", "global_counter=1 before the write")
        rec = gdb.command("-exec-continue --reverse")
        stop = gdb.wait_async("stopped")
        check(stop.results.get("reason") == "watchpoint-trigger" and
              frame_of(stop).get("args") == [{"name": "v", "value": "1"}],
              "-exec-continue --reverse: the write before, in square(1)", stop)
        check(evaluate(gdb, "global_counter") == "0", "global_counter=0 before that one")

        # The modules view (MIEngine reads "info sharedlibrary") and the
        # disassembly view (-data-disassemble).
        gdb.command('-interpreter-exec console "info sharedlibrary"')
        libs = "".join(gdb.console)
        check(re.search(r"0x[0-9a-f]+ +0x[0-9a-f]+ +Yes .*libc\.so\.6", libs) is not None,
              "info sharedlibrary: libc with symbols", libs)
        rec = gdb.command('-data-disassemble -a square -- 0')
        insns = [i.get("inst", "") for i in rec.results.get("asm_insns", [])]
        check(rec.cls == "done" and any(i.startswith("ret") for i in insns) and
              any(i.startswith("imul") for i in insns), "-data-disassemble square", insns)

        # Run to the end: the replay stops there (gdb 13 says so on the
        # console only: its *stopped has no reason); once more and the
        # program exits with the recorded status.
        gdb.command("-break-delete")
        gdb.command("-exec-continue")
        stop = gdb.wait_async("stopped", 120)
        check("No more reverse-execution history." in "".join(gdb.console) and
              frame_of(stop).get("func") in ("_exit", "__GI__exit"),
              "-exec-continue stops at the end of the recording, in _exit", stop)
        gdb.command("-exec-continue")
        stop = gdb.wait_async("stopped", 120)
        check(stop.results.get("reason") == "exited" and stop.results.get("exit-code") == "02",
              "the next -exec-continue: the program exits with the recorded status 2", stop)
        # Over `target remote` gdb disconnects after the exit: the server's session ends.
        try:
            session.server.wait(timeout=20)
            check(session.server.returncode == 0, "rrx replay -s exits (0) when gdb disconnects",
                  session.server.returncode)
        except subprocess.TimeoutExpired:
            check(False, "rrx replay -s exits when gdb disconnects after the exit")
    except MiError as e:
        check(False, "demo session: " + str(e), session.transcript())
    finally:
        session.close()
    if failures:
        print(session.transcript())


def threads_session():
    session = MiSession(rrx, mt_trace)
    try:
        gdb, entry_bp = launch(session, mt_exe, source_dir, target="extended-remote")
        rec = gdb.command("-break-insert -f worker")
        bp = rec.results.get("bkpt", {}).get("number")
        check(rec.cls == "done", "-break-insert -f worker", rec)
        stop = run_to_user_code(gdb, entry_bp)
        first = stop.results.get("thread-id")
        check(stop.results.get("bkptno") == bp and frame_of(stop).get("func") == "worker",
              "a worker thread stops in worker()", stop)
        rec = gdb.command("-thread-info")
        threads = rec.results.get("threads", [])
        check(len(threads) == 3 and all(t.get("state") == "stopped" for t in threads) and
              rec.results.get("current-thread-id") == first,
              "-thread-info: 3 stopped threads, the current one is the stopped worker",
              [(t.get("id"), t.get("target-id"), t.get("frame", {}).get("func")) for t in threads])
        in_worker = [t["id"] for t in threads if t.get("frame", {}).get("func") == "worker"]
        check(first in in_worker, "the stopped thread's frame is worker()", in_worker)
        main_thread = [t for t in threads if t.get("id") == "1"]
        if main_thread:
            select(gdb, "1")
            rec = gdb.command("-stack-list-frames 0 1000")
            funcs = [fr["frame"].get("func") for fr in rec.results.get("stack", [])]
            check("main" in funcs, "the main thread's stack reaches main()", funcs)
        vs = variables(gdb, first)
        check(vs.get("arg") in ("0x0", "0x1"), "worker's argument", vs)
        gdb.command("-exec-continue")
        stop = gdb.wait_async("stopped", 120)
        second = stop.results.get("thread-id")
        check(stop.results.get("bkptno") == bp and second != first,
              "the other worker hits the breakpoint in its own thread (%s, then %s)" % (first, second), stop)
        vs2 = variables(gdb, second)
        check(vs2.get("arg") in ("0x0", "0x1") and vs2.get("arg") != vs.get("arg"), "and has the other argument", vs2)
        # Pause: -exec-interrupt while the replay runs to its end (a short
        # program can reach the end first; either stop is consistent).
        gdb.command("-break-delete")
        rec = gdb.command("-exec-continue")
        gdb.command("-exec-interrupt")
        stop = gdb.wait_async("stopped", 60)
        reason = stop.results.get("reason")
        check(reason in ("signal-received", None) and
              (reason != "signal-received" or stop.results.get("signal-name") == "SIGINT"),
              "-exec-interrupt stops the replay (SIGINT) or it ends first: " + (reason or "end of the recording"),
              stop)
        # Stop debugging: MIEngine's Terminate sends "kill" (over
        # extended-remote the connection stays, for a `run`), then gdb exits
        # and `rrx replay -s` with it.
        rec = gdb.command("kill")
        check(rec.cls == "done", "kill", rec)
        rec = gdb.command("-thread-info")
        check(rec.results.get("threads") == [], "no threads after the kill", rec)
        gdb.exit()
        session.gdb = None
        try:
            session.server.wait(timeout=20)
            check(session.server.returncode == 0, "rrx replay -s exits (0) after the kill",
                  session.server.returncode)
        except subprocess.TimeoutExpired:
            check(False, "rrx replay -s exits after the kill")
    except MiError as e:
        check(False, "threads session: " + str(e), session.transcript())
    finally:
        session.close()


demo_session()
threads_session()
sys.exit(1 if failures else 0)
