#!/usr/bin/python3
"""fake_smtp: a small SMTP server on 127.0.0.1 for the tests (aiosmtpd).

    fake_smtp.py --port-file FILE [--pid-file FILE] [--host ADDR]
                 [--maildir DIR] [--log FILE] [--fail-first N]
                 [--fail-at data|rcpt] [--reject] [--auth USER:PASSWORD]
                 [--verbose]

Binds an ephemeral port, writes it to the port file (atomically, so a
waiting test never reads half a number), then serves until killed. Plain
SMTP only: it never offers STARTTLS, so a client that insists on TLS
(smtp:// off loopback) must give up before MAIL FROM.

    --maildir DIR     deliver every accepted message into DIR, a Maildir,
                      through aiosmtpd.handlers.Mailbox (which adds the
                      X-Peer, X-MailFrom and X-RcptTo headers)
    --log FILE        append one JSON line per accepted message:
                      {"mail_from", "rcpt_tos", "data_len", "sha256", "auth"}
                      where data_len and sha256 are of the message exactly
                      as received (dot-unstuffed, CRLF line ends) and auth
                      is the user that logged in (null when none did)
    --fail-first N    answer the first N transactions (MAIL FROM ... ) with
                      "451 4.3.0 try again later", at the end of DATA or
                      (--fail-at rcpt) at every RCPT
    --reject          answer 550 to every RCPT
    --auth U:P        offer AUTH PLAIN and LOGIN (without TLS: a test
                      server) and accept only this user and password; AUTH
                      stays optional
    --host ADDR       bind ADDR instead of 127.0.0.1 (say 127.0.0.2: a
                      loopback address that is not a loopback *name*)

Run it with /usr/bin/python3 (Debian's python3-aiosmtpd).
"""
import argparse
import asyncio
import hashlib
import json
import os
import signal
import sys
import warnings

# aiosmtpd 1.4 warns about its own Session.login_data on every AUTH.
warnings.filterwarnings("ignore", category=DeprecationWarning)

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class Handler:
    def __init__(self, a):
        self.box = Mailbox(a.maildir) if a.maildir else None
        self.log = a.log
        self.fail_first = a.fail_first
        self.fail_at = a.fail_at
        self.reject = a.reject
        self.verbose = a.verbose
        self.transactions = 0

    def say(self, *args):
        if self.verbose:
            print("fake_smtp:", *args, file=sys.stderr, flush=True)

    def failing(self, envelope):
        return getattr(envelope, "fake_txn", 0) <= self.fail_first

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.transactions += 1
        envelope.fake_txn = self.transactions
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        self.say("transaction", self.transactions, "from", address)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject:
            self.say("reject", address)
            return "550 5.7.1 recipient rejected by fake_smtp"
        if self.fail_at == "rcpt" and self.failing(envelope):
            self.say("451 at RCPT", address)
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fail_at == "data" and self.failing(envelope):
            self.say("451 at DATA")
            return "451 4.3.0 try again later"
        raw = envelope.original_content or b""
        if self.box:
            await self.box.handle_DATA(server, session, envelope)
        if self.log:
            line = json.dumps({
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "data_len": len(raw),
                "sha256": hashlib.sha256(raw).hexdigest(),
                "auth": getattr(session, "fake_user", None),
            }, separators=(",", ":"))
            with open(self.log, "a") as f:
                f.write(line + "\n")
        self.say("accepted", len(raw), "bytes for", envelope.rcpt_tos)
        return "250 2.0.0 OK: queued"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and
              auth_data.login == user and auth_data.password == password)
        if ok:
            session.fake_user = user.decode()
        # handled=False: aiosmtpd answers 235 or 535 itself.
        return AuthResult(success=ok, handled=False)
    return check


def main():
    ap = argparse.ArgumentParser(description="fake SMTP server for shop tests")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--pid-file")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--maildir")
    ap.add_argument("--log")
    ap.add_argument("--fail-first", type=int, default=0, metavar="N")
    ap.add_argument("--fail-at", choices=("data", "rcpt"), default="data")
    ap.add_argument("--reject", action="store_true")
    ap.add_argument("--auth", metavar="USER:PASSWORD")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()

    kw = {"hostname": "fake-smtp.test", "ident": "fake_smtp"}
    if a.auth:
        user, sep, password = a.auth.partition(":")
        if not sep or not user:
            ap.error("--auth wants USER:PASSWORD")
        kw.update(authenticator=authenticator(user.encode(), password.encode()),
                  auth_require_tls=False, auth_required=False)
    handler = Handler(a)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(handler, loop=loop, **kw), a.host, 0))
    port = server.sockets[0].getsockname()[1]
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_signal_handler(signal.SIGINT, loop.stop)
    if a.pid_file:
        write_atomic(a.pid_file, "%d\n" % os.getpid())
    write_atomic(a.port_file, "%d\n" % port)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
