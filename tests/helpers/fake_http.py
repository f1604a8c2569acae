#!/usr/bin/python3
"""fake_http: a small HTTP/1.1 server on 127.0.0.1 for the tests.

    fake_http.py --port-file FILE [--pid-file FILE] [--root DIR] [--verbose]

Binds an ephemeral port, writes it to the port file (atomically, so a
waiting test never reads half a number), then serves until killed.

It is a table of routes plus "fault switches". Faults are queued through
the control endpoint and consumed, in order, by the next ordinary requests
(control paths, which start with "/_", never consume one):

    POST /_fault  {"status": 500, "count": 2}           next 2 answer 500
                  {"status": 429, "retry_after": 1}     with Retry-After: 1
                  {"delay_ms": 3000}                    sleep, then answer
                  {"drop": true}                        close, no answer
                  optional "path": "/ok" limits a fault to one path;
                  count defaults to 1; a JSON list queues several.
    POST /_reset  forget faults, counts and recorded requests
    GET  /_count  {"/path": n, ...} ordinary requests seen per path
    GET  /_requests  the last 200 ordinary requests: method, path, headers, body

Routes: GET /ok, GET /echo-headers, any /echo, GET /status/NNN, GET /big/N
(?chunked=1 for a body without Content-Length), GET /file/NAME (from --root).
Later fakes (payments, carriers) add routes with @route.
Standard library only; run it with /usr/bin/python3.
"""
import argparse
import json
import mimetypes
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ROUTES = []  # (methods or None for any, compiled regex, handler)


def route(methods, pattern):
    def register(fn):
        ROUTES.append((methods, re.compile(pattern + r"\Z"), fn))
        return fn
    return register


class State:
    def __init__(self, root):
        self.lock = threading.Lock()
        self.root = root
        self.reset()

    def reset(self):
        self.faults = []
        self.counts = {}
        self.requests = []

    def record(self, req):
        with self.lock:
            self.counts[req["path"]] = self.counts.get(req["path"], 0) + 1
            self.requests.append(req)
            del self.requests[:-200]

    def take_fault(self, path):
        with self.lock:
            for f in self.faults:
                if f.get("path") not in (None, path):
                    continue
                f["left"] -= 1
                if f["left"] <= 0:
                    self.faults.remove(f)
                return f
        return None


FAULT_KEYS = {"status", "retry_after", "delay_ms", "drop", "count", "path", "body"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake_http/1"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fake_http: " + (fmt % args) + "\n")

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    # -- plumbing --------------------------------------------------------

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send(self, status, body=b"", ctype="text/plain", headers=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        no_body = status in (204, 304) or 100 <= status < 200
        if ctype and not no_body:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        if not no_body:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and not no_body:
            self.wfile.write(body)

    def send_json(self, status, obj, headers=None):
        self.send(status, json.dumps(obj, separators=(",", ":")), "application/json", headers)

    def send_chunked(self, status, body, ctype="application/octet-stream", size=4096):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.command == "HEAD":
            return
        for i in range(0, len(body), size):
            part = body[i:i + size]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")

    def dispatch(self):
        state = self.server.state
        body = self.read_body()
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        if not path.startswith("/_"):
            state.record({
                "method": self.command,
                "path": path,
                "headers": dict(self.headers.items()),
                "body": body.decode("utf-8", "replace"),
            })
            fault = state.take_fault(path)
            if fault and self.apply_fault(fault):
                return
        for methods, rx, fn in ROUTES:
            m = rx.match(path)
            if m and (methods is None or self.command in methods):
                fn(self, m, body, query)
                return
        self.send_json(404, {"error": {"type": "invalid_request_error",
                                       "message": "no route for %s %s" % (self.command, path)}})

    def apply_fault(self, f):
        """Returns True when the fault produced (or withheld) the answer."""
        if f.get("delay_ms"):
            time.sleep(f["delay_ms"] / 1000.0)
        if f.get("drop"):
            # No response at all: the client sees the connection close.
            self.close_connection = True
            return True
        if f.get("status"):
            headers = {}
            if f.get("retry_after") is not None:
                headers["Retry-After"] = f["retry_after"]
            body = f.get("body") or {"error": {"type": "api_error",
                                               "message": "injected fault %d" % f["status"]}}
            self.send_json(int(f["status"]), body, headers)
            return True
        return False


# -- control ------------------------------------------------------------

@route({"POST"}, r"/_fault")
def r_fault(h, m, body, q):
    try:
        spec = json.loads(body or b"{}")
        specs = spec if isinstance(spec, list) else [spec]
        for s in specs:
            if not isinstance(s, dict) or set(s) - FAULT_KEYS:
                raise ValueError("fault keys are %s" % sorted(FAULT_KEYS))
    except ValueError as e:
        h.send_json(400, {"error": {"type": "invalid_request_error", "message": str(e)}})
        return
    st = h.server.state
    with st.lock:
        for s in specs:
            s = dict(s)
            s["left"] = int(s.get("count", 1))
            st.faults.append(s)
        pending = len(st.faults)
    h.send_json(200, {"ok": True, "pending": pending})


@route({"POST"}, r"/_reset")
def r_reset(h, m, body, q):
    with h.server.state.lock:
        h.server.state.reset()
    h.send_json(200, {"ok": True})


@route({"GET"}, r"/_count")
def r_count(h, m, body, q):
    with h.server.state.lock:
        counts = dict(h.server.state.counts)
    h.send_json(200, counts)


@route({"GET"}, r"/_requests")
def r_requests(h, m, body, q):
    with h.server.state.lock:
        reqs = list(h.server.state.requests)
    h.send_json(200, reqs)


# -- plain routes ---------------------------------------------------------

@route({"GET", "HEAD"}, r"/ok")
def r_ok(h, m, body, q):
    h.send(200, "hello")


@route({"GET"}, r"/echo-headers")
def r_echo_headers(h, m, body, q):
    h.send_json(200, dict(h.headers.items()))


@route(None, r"/echo")
def r_echo(h, m, body, q):
    h.send_json(200, {"method": h.command, "body": body.decode("utf-8", "replace"),
                      "content_type": h.headers.get("Content-Type")})


@route({"GET", "HEAD"}, r"/status/(\d{3})")
def r_status(h, m, body, q):
    code = int(m.group(1))
    if not 100 <= code <= 599:
        code = 400
    h.send_json(code, {"error": {"type": "api_error", "message": "status %d" % code}})


@route({"GET", "HEAD"}, r"/big/(\d{1,10})")
def r_big(h, m, body, q):
    data = b"x" * int(m.group(1))
    if q.get("chunked") == ["1"]:
        h.send_chunked(200, data)
    else:
        h.send(200, data, "application/octet-stream")


@route({"GET", "HEAD"}, r"/file/([A-Za-z0-9_][A-Za-z0-9._-]*)")
def r_file(h, m, body, q):
    root = h.server.state.root
    name = m.group(1)
    p = os.path.join(root, name) if root else None
    if not p or not os.path.isfile(p):
        h.send_json(404, {"error": {"type": "invalid_request_error",
                                    "message": "no such file: %s" % name}})
        return
    with open(p, "rb") as f:
        data = f.read()
    h.send(200, data, mimetypes.guess_type(name)[0] or "application/octet-stream")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Clients that time out or hang up mid-answer are the point of
        # this server; their broken pipes are not news.
        if self.verbose:
            super().handle_error(request, client_address)


def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="fake HTTP server for shop tests")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--pid-file")
    ap.add_argument("--root", help="directory served under /file/")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()

    srv = Server(("127.0.0.1", 0), Handler)
    srv.verbose = a.verbose
    srv.state = State(a.root)
    if a.pid_file:
        write_atomic(a.pid_file, "%d\n" % os.getpid())
    write_atomic(a.port_file, "%d\n" % srv.server_address[1])
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
