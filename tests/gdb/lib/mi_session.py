#!/usr/bin/env python3
"""Runs one gdb/MI session in the gdb that `rrx replay` starts (in MI mode,
with rrx's commands loaded, as an IDE that lets rrx start gdb drives it)
through mi_client.Gdb, and prints what gdb answered, per command.
Usage: mi_session.py COMMANDS_FILE RRX replay [ARGS...] TRACE
COMMANDS_FILE: one MI command a line. Each command's output follows a line
"== COMMAND"; a command answered ^running is followed until its *stopped
record. Exits 1 if gdb stops answering."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mi_client import Gdb, MiError  # noqa: E402

commands = [c for c in open(sys.argv[1]).read().splitlines() if c.strip()]
argv = sys.argv[2:]
gdb = Gdb(argv[:2] + ["--gdb-arg=--interpreter=mi2"] + argv[2:])
shown = 0


def show():
    global shown
    for line in gdb.log[shown:]:
        if not line.startswith(">>> "):
            print(line)
    shown = len(gdb.log)


ok = True
try:
    for cmd in commands:
        print("== " + cmd)
        # Records left from before (the *stopped of gdb's connection) are not this command's.
        gdb.pending_async.clear()
        rec = gdb.command(cmd, timeout=60)
        if rec.cls == "running":
            gdb.wait_async("stopped", timeout=60)
        show()
except MiError as e:
    show()
    print("mi_session: %s" % e)
    ok = False
gdb.exit()
show()
sys.exit(0 if ok else 1)
