"""A small gdb/MI client for the gdb tests: starts `rrx replay -s 0 TRACE`
and a gdb with --interpreter=mi, sends commands, parses the result and async
records, and keeps both programs' output for failure reports.

    session = MiSession(rrx, trace)             # rrx serving on a free port
    gdb = session.start_gdb()                   # gdb -q -nx --interpreter=mi
    rec = gdb.command("-break-insert -f a.c:3") # waits for ^done/^error...
    rec.cls, rec.results["bkpt"]["line"]
    stop = gdb.wait_async("stopped")            # the next *stopped record
"""
import queue
import re
import subprocess
import threading
import time


class MiError(Exception):
    pass


def parse_c_string(text, pos):
    """The C string at text[pos] (a '"'), and the position after it."""
    assert text[pos] == '"'
    out = []
    pos += 1
    while pos < len(text):
        c = text[pos]
        if c == "\\" and pos + 1 < len(text):
            nxt = text[pos + 1]
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
            pos += 2
            continue
        if c == '"':
            return "".join(out), pos + 1
        out.append(c)
        pos += 1
    raise MiError("unterminated string in MI output: " + text)


def parse_value(text, pos):
    c = text[pos]
    if c == '"':
        return parse_c_string(text, pos)
    if c == "{":
        result = {}
        pos += 1
        if text[pos] == "}":
            return result, pos + 1
        while True:
            name, value, pos = parse_result(text, pos)
            result[name] = value
            if text[pos] == "}":
                return result, pos + 1
            if text[pos] != ",":
                raise MiError("bad tuple in MI output: " + text)
            pos += 1
    if c == "[":
        items = []
        pos += 1
        if text[pos] == "]":
            return items, pos + 1
        while True:
            if text[pos] in '"{[':
                value, pos = parse_value(text, pos)
                items.append(value)
            else:  # a list of results: frame={...},frame={...}
                name, value, pos = parse_result(text, pos)
                items.append({name: value})
            if text[pos] == "]":
                return items, pos + 1
            if text[pos] != ",":
                raise MiError("bad list in MI output: " + text)
            pos += 1
    raise MiError("bad value at %d in MI output: %s" % (pos, text))


def parse_result(text, pos):
    eq = text.index("=", pos)
    name = text[pos:eq]
    value, pos = parse_value(text, eq + 1)
    return name, value, pos


def parse_results(text):
    """'a="1",b={c="2"}' -> {"a": "1", "b": {"c": "2"}}"""
    results = {}
    pos = 0
    while pos < len(text):
        name, value, pos = parse_result(text, pos)
        results[name] = value
        if pos < len(text):
            if text[pos] != ",":
                raise MiError("bad results in MI output: " + text)
            pos += 1
    return results


class Record:
    """One MI output record: kind '^' (result), '*' (exec async), '=' (notify);
    `when`: the time.monotonic() at which it was read."""

    def __init__(self, kind, cls, results, line, when=0.0):
        self.kind, self.cls, self.results, self.line, self.when = kind, cls, results, line, when

    def __repr__(self):
        return self.line


def parse_record(line, when=0.0):
    m = re.match(r"^(\d*)([\^*=+])([a-z-]+),?(.*)$", line)
    if not m:
        return None
    return Record(m.group(2), m.group(3), parse_results(m.group(4)), line, when)


def _reader(stream, q, log):
    for raw in iter(stream.readline, b""):
        text = raw.decode(errors="replace").rstrip("\n")
        log.append(text)
        if q is not None:
            q.put((time.monotonic(), text))
    if q is not None:
        q.put((time.monotonic(), None))


class Gdb:
    def __init__(self, args, log_limit=400):
        self.log = []
        self.console = []  # console and target stream text (~"...", @"...") since the last command
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.lines = queue.Queue()
        self.pending_async = []
        threading.Thread(target=_reader, args=(self.proc.stdout, self.lines, self.log), daemon=True).start()

    def send(self, cmd):
        self.log.append(">>> " + cmd)
        self.proc.stdin.write((cmd + "\n").encode())
        self.proc.stdin.flush()

    def _next_line(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise MiError("timed out waiting for gdb")
        try:
            when, line = self.lines.get(timeout=left)
        except queue.Empty:
            raise MiError("timed out waiting for gdb")
        if line is None:
            raise MiError("gdb exited")
        return when, line

    def command(self, cmd, timeout=30):
        """Sends cmd and returns its result record (^done, ^running, ^error,
        ^connected, ^exit). Async records seen meanwhile are kept for
        wait_async; console text in self.console."""
        self.console = []
        self.send(cmd)
        deadline = time.monotonic() + timeout
        while True:
            when, line = self._next_line(deadline)
            if line[:1] in ("~", "@"):  # console and target (monitor) output
                self.console.append(parse_c_string(line, 1)[0])
                continue
            rec = parse_record(line, when)
            if rec is None:
                continue
            if rec.kind == "^":
                return rec
            self.pending_async.append(rec)

    def wait_async(self, cls, timeout=60):
        """The next async record of class cls (e.g. 'stopped'), skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            while self.pending_async:
                rec = self.pending_async.pop(0)
                if rec.kind == "*" and rec.cls == cls:
                    return rec
            when, line = self._next_line(deadline)
            if line[:1] in ("~", "@"):  # console and target (monitor) output
                self.console.append(parse_c_string(line, 1)[0])
                continue
            rec = parse_record(line, when)
            if rec is not None:
                self.pending_async.append(rec)

    def exit(self, timeout=20):
        try:
            self.send("-gdb-exit")
            self.proc.wait(timeout=timeout)
        except (subprocess.TimeoutExpired, BrokenPipeError, OSError):
            self.proc.kill()


class MiSession:
    """`rrx replay -s 0 TRACE` serving one client, and the port it listens on."""

    def __init__(self, rrx, trace, extra_args=()):
        self.server_log = []
        self.server = subprocess.Popen([rrx, "replay", "-q", *extra_args, "-s", "0", trace],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE)
        q = queue.Queue()
        threading.Thread(target=_reader, args=(self.server.stderr, q, self.server_log), daemon=True).start()
        self.port = None
        deadline = time.monotonic() + 30
        while self.port is None and time.monotonic() < deadline:
            try:
                _, line = q.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
        if self.port is None:
            self.server.kill()
            raise MiError("rrx did not start serving:\n  | " + "\n  | ".join(self.server_log))
        self.gdb = None

    def start_gdb(self, *args):
        self.gdb = Gdb(["gdb", "-q", "-nx", "--interpreter=mi", *args])
        return self.gdb

    def close(self):
        if self.gdb is not None:
            self.gdb.exit()
        try:
            self.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait()

    def transcript(self, lines=80):
        gdb_log = self.gdb.log[-lines:] if self.gdb is not None else []
        return "\n".join(["--- gdb:"] + gdb_log + ["--- rrx:"] + self.server_log[-20:])
