#!/usr/bin/env python3
"""Drives gdb's MI against `rrx replay -s 0` to interrupt a reverse-continue
(tests/gdb/interrupt.sh). Usage: mi_interrupt.py RRX TRACE EXE
Goes to the end, starts -exec-continue --reverse (no breakpoint: the search
would run back to the start), sends -exec-interrupt after 0.3 s and expects
*stopped with SIGINT soon after; then inspects that position, and goes on
backwards to the start from there. Prints one line per check; exits 1 on a
failure."""
import queue
import re
import subprocess
import sys
import threading
import time

rrx, trace, exe = sys.argv[1:4]
failures = 0


def check(ok, what, detail=""):
    global failures
    print(("ok:   " if ok else "FAIL: ") + what + ("" if ok or not detail else "\n  | " + detail))
    if not ok:
        failures += 1
    return ok


def reader(stream, q, log):
    for line in iter(stream.readline, b""):
        text = line.decode(errors="replace").rstrip("\n")
        log.append(text)
        if q is not None:
            q.put((time.monotonic(), text))
    if q is not None:
        q.put((time.monotonic(), None))


server_log, gdb_log = [], []
server = subprocess.Popen([rrx, "replay", "-q", "-s", "0", trace], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
port_q = queue.Queue()
threading.Thread(target=reader, args=(server.stderr, port_q, server_log), daemon=True).start()
port = None
deadline = time.monotonic() + 30
while port is None and time.monotonic() < deadline:
    try:
        _, line = port_q.get(timeout=1)
    except queue.Empty:
        continue
    if line is None:
        break
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if m:
        port = int(m.group(1))
if not check(port is not None, "rrx serves the replay", "\n  | ".join(server_log)):
    server.kill()
    sys.exit(1)

gdb = subprocess.Popen(["gdb", "-q", "-nx", "--interpreter=mi2", exe], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
out_q = queue.Queue()
threading.Thread(target=reader, args=(gdb.stdout, out_q, gdb_log), daemon=True).start()


def send(cmd):
    gdb_log.append(">>> " + cmd)
    gdb.stdin.write((cmd + "\n").encode())
    gdb.stdin.flush()


def wait_for(pattern, timeout):
    """The first line of gdb's output matching pattern, and when it came."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None, None
        try:
            when, line = out_q.get(timeout=left)
        except queue.Empty:
            return None, None
        if line is None:
            return None, None
        if re.search(pattern, line):
            return when, line


def bail(what):
    check(False, what, "\n  | ".join(gdb_log[-40:] + ["--- rrx:"] + server_log[-20:]))
    gdb.kill()
    server.kill()
    sys.exit(1)


send("-gdb-set mi-async on")
if wait_for(r"^\^done", 10)[1] is None:
    bail("gdb takes mi-async on")
send("-target-select extended-remote 127.0.0.1:%d" % port)
if wait_for(r"^\^connected", 30)[1] is None:
    bail("gdb connects")
send("-exec-continue")
_, line = wait_for(r"^\*stopped", 120)
if line is None:
    bail("forward to the end of the recording")
send('-interpreter-exec console "monitor when"')
_, line = wait_for(r'Current event: \d+', 10)
end_event = int(re.search(r"Current event: (\d+)", line).group(1)) if line else 0
check(end_event > 1000, "at the end of the recording (event %d)" % end_event)

send("-exec-continue --reverse")
started = time.monotonic()
if wait_for(r"^\^running", 10)[1] is None:
    bail("reverse-continue starts")
time.sleep(0.3)
send("-exec-interrupt")
asked = time.monotonic()
when, line = wait_for(r"^\*stopped", 60)
if line is None:
    bail("the interrupted reverse-continue stops")
latency = when - asked
check('reason="signal-received"' in line and 'signal-name="SIGINT"' in line,
      "stopped by SIGINT", line)
# The stop itself (SIGINT, not the end of the search) is what shows the
# interrupt was taken; the bound leaves room for a loaded CI machine
# (measured here: 4-60 ms).
check(latency < 2.0, "stopped %.0f ms after -exec-interrupt (%.0f ms after the start)" %
      (latency * 1000, (when - started) * 1000))

# A consistent position: gdb reads its frame and registers; rrx knows it.
send("-stack-info-frame")
_, line = wait_for(r"^\^(done|error)", 10)
check(line is not None and line.startswith("^done,frame="), "gdb reads the frame there", str(line))
send('-data-evaluate-expression "$pc"')
_, line = wait_for(r"^\^(done|error)", 10)
check(line is not None and line.startswith("^done,value="), "gdb reads the pc there", str(line))
send('-interpreter-exec console "monitor when"')
_, line = wait_for(r"Current event: \d+", 10)
here = int(re.search(r"Current event: (\d+)", line).group(1)) if line else 0
check(1 < here < end_event, "between the start and the end (event %d of %d)" % (here, end_event))

# And on backwards from there, to the start.
send("-exec-continue --reverse")
_, line = wait_for(r"No more reverse-execution history", 120)
check(line is not None, "reverse-continue goes on to the start")
_, line = wait_for(r"^\*stopped", 10)
check(line is not None and 'func="_start"' in line, "stopped at _start", str(line))
send('-interpreter-exec console "monitor when"')
_, line = wait_for(r"Current event: \d+", 10)
check(line is not None and "Current event: 1 " in line, "at the start", str(line))

send("-gdb-exit")
try:
    gdb.wait(timeout=20)
    server.wait(timeout=20)
except subprocess.TimeoutExpired:
    check(False, "gdb and rrx exit")
    gdb.kill()
    server.kill()
if failures:
    print("\n".join(["--- gdb:"] + gdb_log[-60:] + ["--- rrx:"] + server_log[-20:]))
sys.exit(1 if failures else 0)
