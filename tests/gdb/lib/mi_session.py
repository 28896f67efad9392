#!/usr/bin/env python3
"""Runs one gdb/MI session under `rrx replay` (the gdb that rrx starts, in MI
mode, as an IDE drives it) and prints what gdb answered, per command.
Usage: mi_session.py COMMANDS_FILE RRX replay [ARGS...] TRACE
COMMANDS_FILE: one MI command a line. Each command's output is printed after
a line "== COMMAND"; a command answered ^running is followed until its
*stopped record. Exits 1 if gdb stops answering (60 s per command)."""
import queue
import subprocess
import sys
import threading
import time

commands = [c for c in open(sys.argv[1]).read().splitlines() if c.strip()]
argv = sys.argv[2:]
gdb = subprocess.Popen(argv[:2] + ["--gdb-arg=--interpreter=mi2"] + argv[2:], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
lines = queue.Queue()


def reader():
    for raw in iter(gdb.stdout.readline, b""):
        lines.put(raw.decode(errors="replace").rstrip("\n"))
    lines.put(None)


threading.Thread(target=reader, daemon=True).start()


def read_until(done, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            print("mi_session: gdb did not answer in time")
            return False
        if line is None:
            print("mi_session: gdb went away")
            return False
        print(line)
        if done(line):
            return True


def send(text):
    gdb.stdin.write((text + "\n").encode())
    gdb.stdin.flush()


ok = read_until(lambda l: l.startswith("(gdb)"))
for token, cmd in enumerate(commands, start=100):
    if not ok:
        break
    print("== " + cmd)
    send("%d%s" % (token, cmd))
    state = {}

    def done(line, token=token):
        if line.startswith("%d^running" % token):
            state["running"] = True
        elif line.startswith("%d^" % token) and not state.get("running"):
            return True
        return state.get("running", False) and line.startswith("*stopped")

    ok = read_until(done)
send("-gdb-exit")
gdb.stdin.close()
try:
    gdb.wait(timeout=30)
except subprocess.TimeoutExpired:
    gdb.kill()
    print("mi_session: gdb did not exit")
    sys.exit(1)
while True:
    line = lines.get()
    if line is None:
        break
    print(line)
sys.exit(0 if ok else 1)
