"""fakehttp: the machinery shared by the stateful API fakes (fake_stripe.py,
fake_carrier.py). Standard library only; imported by those scripts from
their own directory (not to be confused with fake_http.py, a server).

What lives here: the command line (--port-file, --key-env, --pid-file,
--now, --verbose) and key handling (from the environment only, never
printed; redacted from log lines), the ThreadingHTTPServer on 127.0.0.1
that writes its port file atomically, the request counters and fault queue
of the state, the control endpoints /_fault, /_reset and the common part of
/_stats, and the API request pipeline: count, take a fault, check the key,
route, parse, Idempotency-Key (store, replay, mismatch, in progress), run
the endpoint, answer or drop.

What a fake supplies (subclassing State, Handler and Server): the ids, the
endpoints, the error bodies and codes, which results are stored under a key
(its exception's "store"), the headers of its answers.
"""
import argparse
import base64
import hmac
import json
import os
import random
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


def encode(o):
    return (json.dumps(o, indent=2) + "\n").encode()


def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class Dropped(Exception):
    """Close the connection without an answer."""


FAULT_KEYS = {"status", "retry_after", "delay_ms", "process", "commit_then_drop", "drop",
              "count", "path", "body"}


def parse_faults(body):
    """The specs of a POST /_fault body; raises ValueError or TypeError."""
    spec = json.loads(body or b"{}")
    specs = spec if isinstance(spec, list) else [spec]
    for s in specs:
        if not isinstance(s, dict) or set(s) - FAULT_KEYS:
            raise ValueError("fault keys are %s" % ", ".join(sorted(FAULT_KEYS)))
        if not any(s.get(k) for k in ("status", "delay_ms", "commit_then_drop", "drop")):
            raise ValueError("a fault needs status, delay_ms, commit_then_drop or drop")
        if s.get("status") is not None and not 400 <= int(s["status"]) <= 599:
            raise ValueError("status must be 400..599")
        if int(s.get("count", 1)) < 1:
            raise ValueError("count must be at least 1")
    return specs


# -- state -------------------------------------------------------------------

class State:
    """Counters, keys and faults; a fake adds its objects in reset()."""

    executed_names = ()

    def __init__(self, now):
        self.lock = threading.Lock()
        self.fixed_now = now
        self.seq = 0          # ids stay unique across resets
        self.rng = random.Random()
        self.reset()

    def reset(self):
        self.faults = []
        self.requests = {}
        self.executed = {k: 0 for k in self.executed_names}
        self.replayed = 0
        self.faults_applied = 0
        self.unauthorized = 0
        self.keys = {}

    def now(self):
        return self.fixed_now if self.fixed_now is not None else int(time.time())

    def take_fault(self, path, label=False):
        """The next fault for path, consumed; label: only faults with a path."""
        with self.lock:
            for f in self.faults:
                if f.get("path") is None and label:
                    continue
                if f.get("path") is not None and f["path"] not in path:
                    continue
                f["left"] -= 1
                if f["left"] <= 0:
                    self.faults.remove(f)
                self.faults_applied += 1
                return f
        return None

    def add_faults(self, specs):
        with self.lock:
            for s in specs:
                s = dict(s)
                s["left"] = int(s.get("count", 1))
                self.faults.append(s)
            return len(self.faults)

    def count_request(self, name):
        with self.lock:
            self.requests[name] = self.requests.get(name, 0) + 1

    def stats(self):
        """The common part of /_stats (lock held)."""
        return {
            "requests": dict(sorted(self.requests.items())),
            "executed": dict(self.executed),
            "replayed": self.replayed,
            "faults_applied": self.faults_applied,
            "unauthorized": self.unauthorized,
            "idempotency_keys": sum(1 for r in self.keys.values() if r["done"]),
            "faults_pending": len(self.faults),
        }


# -- HTTP --------------------------------------------------------------------

def auth_user(header):
    """(scheme, user) from an Authorization header: the user name of Basic
    credentials (None when not base64) or the Bearer token, as bytes; user
    is None for other schemes."""
    scheme, _, cred = header.partition(" ")
    cred = cred.strip()
    scheme = scheme.lower()
    if scheme == "basic":
        try:
            return scheme, base64.b64decode(cred, validate=True).split(b":", 1)[0]
        except ValueError:
            return scheme, None
    if scheme == "bearer":
        return scheme, cred.encode("utf-8", "replace")
    return scheme, None


class Handler(BaseHTTPRequestHandler):
    """A fake sets: server_version, CTYPE, REQUEST_ID_HEADER, ERROR (its
    exception class: status, body, store), API [(method, regex, fn)], and
    the hooks below that shape its answers."""

    protocol_version = "HTTP/1.1"
    CTYPE = "application/json"
    REQUEST_ID_HEADER = "Request-Id"
    EXTRA_HEADERS = ()
    ERROR = Exception
    API = ()

    # -- hooks

    def endpoint_name(self, method, path):
        raise NotImplementedError

    def control_error(self, status, message):
        """The body (object) of a 400 or 404 control answer."""
        raise NotImplementedError

    def control_extra(self, path, body):
        """Other control routes; True when answered."""
        return False

    def stats_extra(self, st):
        """The fake's own /_stats fields (lock held)."""
        return {}

    def fault_body(self, status):
        raise NotImplementedError

    def unauthorized(self):
        """None when authorized, else (body object, headers) of the 401."""
        raise NotImplementedError

    def not_found_body(self, method, path):
        raise NotImplementedError

    def parse(self, method, fn, match, query, body):
        """(params, fingerprint part, endpoint args); raises ERROR."""
        raise NotImplementedError

    def key_invalid_body(self):
        raise NotImplementedError

    def key_mismatch_body(self, key):
        raise NotImplementedError

    def key_in_use(self, key):
        """(body object, headers) of the 409."""
        raise NotImplementedError

    def internal_error_body(self):
        raise NotImplementedError

    # -- plumbing

    def log_message(self, fmt, *args):
        if self.server.verbose:
            self.server.log(fmt % args)

    def log_request(self, code="-", size="-"):
        pass  # answer() logs one line per API request

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send(self, status, body, headers=(), ctype=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype or self.CTYPE)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, str(v))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def drop(self):
        self.close_connection = True

    def dropped(self, path):
        self.server.log("%s %s -> (connection dropped)" % (self.command, path)
                        if self.server.verbose else None)
        self.drop()

    def dispatch(self):
        body = self.read_body()
        url = urlsplit(self.path)
        if url.path.startswith("/_"):
            self.control(url.path, body)
        else:
            self.route(url.path, url.query, body)

    def route(self, path, query, body):
        self.api(path, query, body)

    # -- control

    def control(self, path, body):
        st = self.server.state
        if path == "/_fault" and self.command == "POST":
            try:
                specs = parse_faults(body)
            except (ValueError, TypeError) as e:
                self.send(400, encode(self.control_error(400, str(e))))
                return
            pending = st.add_faults(specs)
            self.send(200, encode({"ok": True, "pending": pending}))
        elif self.control_extra(path, body):
            pass
        elif path == "/_reset" and self.command == "POST":
            with st.lock:
                st.reset()
            self.send(200, encode({"ok": True}))
        elif path == "/_stats" and self.command == "GET":
            with st.lock:
                extra = self.stats_extra(st)
                out = st.stats()
                out.update(extra)
            self.send(200, encode(out))
        else:
            self.send(404, encode(self.control_error(
                404, "no control route %s %s" % (self.command, path))))

    # -- API

    def key_matches(self, user):
        return hmac.compare_digest(user, self.server.key.encode())

    def api(self, path, query, body):
        st = self.server.state
        method = self.command
        st.count_request(self.endpoint_name(method, path))
        fault = st.take_fault(path) or {}
        key = self.headers.get("Idempotency-Key") if method == "POST" else None
        try:
            if fault.get("status") or fault.get("drop"):
                time.sleep(float(fault.get("delay_ms") or 0) / 1000.0)
                if fault.get("drop"):
                    raise Dropped()
                status = int(fault["status"])
                hdrs = []
                if fault.get("retry_after") is not None:
                    hdrs.append(("Retry-After", fault["retry_after"]))
                err = fault.get("body")
                if err is None:
                    err = self.fault_body(status)
                self.answer(status, encode(err), hdrs, key, note="fault")
                return
            denied = self.unauthorized()
            if denied is not None:
                with st.lock:
                    st.unauthorized += 1
                err, hdrs = denied
                self.answer(401, encode(err), hdrs, key)
                return
            self.handle_api(path, query, body, key, fault)
        except Dropped:
            self.dropped(path)

    def handle_api(self, path, query, body, key, fault):
        st = self.server.state
        method = self.command
        for m, rx, fn in self.API:
            match = rx.match(path)
            if match and m == method:
                break
        else:
            self.answer(404, encode(self.not_found_body(method, path)), [], key)
            return
        try:
            params, fp_tail, args = self.parse(method, fn, match, query, body)
        except self.ERROR as e:
            self.answer(e.status, encode(e.body), [], key)
            return
        rec = replay = None
        if key is not None:
            if not 1 <= len(key) <= 255:
                self.answer(400, encode(self.key_invalid_body()), [], None)
                return
            fp = (method, path, fp_tail)
            with st.lock:
                old = st.keys.get(key)
                if old is None:
                    rec = st.keys[key] = {"fp": fp, "done": False}
            if old is not None:
                if old["fp"] != fp:
                    self.answer(400, encode(self.key_mismatch_body(key)), [], key)
                    return
                if not old["done"]:
                    err, hdrs = self.key_in_use(key)
                    self.answer(409, encode(err), hdrs, key)
                    return
                replay = old
        if fault.get("delay_ms"):
            time.sleep(float(fault["delay_ms"]) / 1000.0)
        if fault.get("process") is False:
            if rec is not None:
                with st.lock:
                    st.keys.pop(key, None)
            raise Dropped()
        if replay is not None:
            with st.lock:
                st.replayed += 1
            status, out = replay["status"], replay["body"]
            hdrs = [(self.REQUEST_ID_HEADER, self.server.request_id()),
                    ("Original-Request", replay["request_id"]),
                    ("Idempotent-Replayed", "true")]
            note = "replayed"
        else:
            store = True
            try:
                with st.lock:
                    status, o = fn(st, params, *args)
            except self.ERROR as e:
                status, o, store = e.status, e.body, e.store
            except Exception:
                self.server.log(traceback.format_exc())
                status, store = 500, False
                o = self.internal_error_body()
            out = encode(o)
            rid = self.server.request_id()
            hdrs = [(self.REQUEST_ID_HEADER, rid)]
            if rec is not None:
                with st.lock:
                    if store and status < 500:
                        rec.update(done=True, status=status, body=out, request_id=rid)
                    else:
                        st.keys.pop(key, None)
            note = ""
        if fault.get("commit_then_drop"):
            raise Dropped()
        self.answer(status, out, hdrs, key, note)

    def answer(self, status, body, hdrs, key, note="", ctype=None):
        hdrs = list(hdrs)
        if not any(k == self.REQUEST_ID_HEADER for k, _ in hdrs):
            hdrs.append((self.REQUEST_ID_HEADER, self.server.request_id()))
        hdrs.extend(self.EXTRA_HEADERS)
        if key is not None:
            hdrs.append(("Idempotency-Key", key))
        if self.server.verbose:
            self.server.log("%s %s -> %d%s%s" % (self.command, urlsplit(self.path).path, status,
                                                 " key=%s" % key if key is not None else "",
                                                 " " + note if note else ""))
        self.send(status, body, hdrs, ctype)


class Server(ThreadingHTTPServer):
    """A fake sets NAME (the log prefix) and RID_FORMAT (% the counter)."""

    daemon_threads = True
    NAME = "fake"
    RID_FORMAT = "%d"

    def log(self, line):
        if line is None:
            return
        key = self.key
        for secret in (key, base64.b64encode((key + ":").encode()).decode()):
            line = line.replace(secret, "[REDACTED]")
        sys.stderr.write("%s: %s\n" % (self.NAME, line.rstrip("\n")))
        sys.stderr.flush()

    def request_id(self):
        with self.rid_lock:
            self.rid += 1
            return self.RID_FORMAT % self.rid

    def handle_error(self, request, client_address):
        # Clients that time out or hang up are the point of this server.
        if self.verbose:
            self.log("connection error: %s" % sys.exc_info()[1])


def main(server_class, handler_class, make_state, description, key_help, now_help):
    """Parse the command line, read the key, serve until killed.
    make_state(now, port) -> the fake's State."""
    name = server_class.NAME
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--key-env", required=True, help=key_help)
    ap.add_argument("--pid-file")
    ap.add_argument("--now", type=int, help=now_help)
    ap.add_argument("--verbose", action="store_true", help="log requests to stderr")
    a = ap.parse_args()
    key = os.environ.get(a.key_env, "")
    if not key:
        sys.stderr.write("%s: environment variable %s is unset or empty\n" % (name, a.key_env))
        sys.exit(2)

    srv = server_class(("127.0.0.1", 0), handler_class)
    srv.verbose = a.verbose
    srv.key = key
    srv.rid = 0
    srv.rid_lock = threading.Lock()
    port = srv.server_address[1]
    srv.state = make_state(a.now, port)
    if a.pid_file:
        write_atomic(a.pid_file, "%d\n" % os.getpid())
    if a.verbose:
        srv.log("listening on 127.0.0.1:%d (key from $%s)" % (port, a.key_env))
    write_atomic(a.port_file, "%d\n" % port)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
