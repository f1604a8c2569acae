#!/usr/bin/python3
"""fake_carrier: a small stateful shipping aggregator shaped like EasyPost's
API, on 127.0.0.1, for the tests of the "http" carrier driver.

    fake_carrier.py --port-file FILE --key-env NAME [--pid-file FILE]
                    [--now EPOCH] [--verbose]

The API key is read from the environment variable NAME (never from argv)
and is never printed or logged. Binds an ephemeral port, writes it to the
port file atomically, then serves until killed. Standard library only; run
it with /usr/bin/python3.

API (JSON bodies, Content-Type: application/json; JSON answers shaped like
EasyPost's), HTTP Basic with the key as user name and an empty password, or
"Authorization: Bearer KEY"; otherwise 401 APIKEY.REQUIRED (no credentials)
or APIKEY.INACTIVE (another key):

    POST /v2/shipments           {"shipment": {"reference", "to_address":
                                  {name, street1, city, state, zip, country},
                                  "from_address": {...}, "parcel":
                                  {"weight": ounces}}}            -> 201 Shipment
    POST /v2/shipments/{id}/buy  {"rate": {"id": "rate_..."}}     -> 200 Shipment
    GET  /v2/shipments/{id}                                       -> 200 Shipment
    GET  /v2/trackers/{id}                                        -> 200 Tracker
    GET  /v2/trackers?tracking_code=EZ...   {"trackers": [...], "has_more": false}
    GET  /labels/{pl_id}.png     the label (a PNG); no auth (a public URL);
                                 only faults with a matching "path" apply

Errors are {"error": {"code", "message", "errors": [{"field", "message"}]}}:
400 BAD_REQUEST (body not a JSON object, not application/json), 401
APIKEY.*, 404 NOT_FOUND, 422 SHIPMENT.INVALID_PARAMS (to_address.zip or
.country missing, from_address missing, parcel.weight missing, not a number
or <= 0, rate.id missing or not a rate of the shipment), 422
SHIPMENT.POSTAGE.EXISTS (bought already).

Rates (USD, three, in this order; oz = ceil(weight), lb = ceil(weight/16)):
    USPS First     4.00 + 0.22 * oz          delivery_days 3
    USPS Priority  7.58 + 1.35 * (lb - 1)    delivery_days 2
    UPS  Ground    9.25 + 0.95 * (lb - 1)    delivery_days 5
A parcel over 1120 oz (70 lb) gets no rates ("rates": [] and a rate_error
per carrier in "messages"). Buying gives a tracking code EZ1000000001,
EZ1000000002, ... (unique for the life of the process) and a tracker with
one pre_transit detail dated now. A to_address zip "00000" buys fine, but
after the buy's answer its tracker gets a second detail, one day later:
failure / lost. Otherwise trackers move only by POST /_track.

A tracker's status (and status_detail) is that of its detail with the
latest datetime (the last such detail in list order on a tie); the details
are listed in the order they arrived, duplicates kept. A shipment's status
is "unknown" until its tracker changes after the buy, then the tracker's.

Idempotency-Key (POST only, 1..255 chars), as fake_stripe.py does it: the
first result of a request that reached its endpoint (2xx, 422
SHIPMENT.POSTAGE.EXISTS) is stored and replayed byte for byte, with
"Idempotent-Replayed: true", to any request with the same key, method, path
and body (the same JSON in any key order or spacing). Malformed bodies,
validation errors (422 SHIPMENT.INVALID_PARAMS), 404s, 401s and injected
faults are not stored, so a corrected or retried request executes. Same key
with another method, path or body: 400 IDEMPOTENCY.MISMATCH. Same key while
the first request is still executing: 409 IDEMPOTENCY.IN_PROGRESS.

Control endpoints (no auth; never counted, never consume a fault):

    POST /_fault  JSON object or list of objects, each consumed by the next
                  "count" (default 1) API requests, in order:
        {"status": 500}                    answer 500 INTERNAL_SERVER_ERROR,
                                           not processed
        {"status": 429, "retry_after": 1}  answer 429 RATE_LIMITED + Retry-After
        {"delay_ms": M}                    sleep M ms (holding the key), then
                                           process and answer
        {"delay_ms": M, "process": false}  sleep, then close: no processing
        {"commit_then_drop": true}         process, store under the key, then
                                           close the connection, no answer
        {"drop": true}                     close at once, no processing
        "path": "/buy"                     only requests whose path contains it
        "body": {...}                      the body of a "status" fault
    POST /_track  {"tracker": "trk_..."} or {"tracking_code": "EZ..."},
                  "details": [{"status", "datetime", "message",
                  "status_detail", "tracking_location": {city, state,
                  country, zip}}], "replace": false
                  appends the details to the tracker (replace: true: instead
                  of its details); answers the Tracker. status is one of
                  EasyPost's (see STATUSES) and datetime ISO 8601 with a zone.
    POST /_reset  forget shipments, trackers, keys, faults, counters
    GET  /_stats  {"requests": {"POST /v2/shipments/{id}/buy": n, ...},
                   "executed": {"shipments", "buys"}, "replayed",
                   "faults_applied", "unauthorized", "idempotency_keys",
                   "faults_pending",
                   "labels": [{shipment_id, reference, tracking_code,
                               tracker_id, carrier, service, rate}],
                   "shipments": [{id, reference, weight, rates, bought}],
                   "trackers": [{id, tracking_code, status, details}]}
"""
import json
import math
import os
import re
import struct
import sys
import time
import zlib
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakehttp  # noqa: E402
from fakehttp import Dropped, encode  # noqa: E402
from urllib.parse import parse_qsl  # noqa: E402

STATUSES = ("unknown", "pre_transit", "in_transit", "out_for_delivery", "available_for_pickup",
            "delivered", "return_to_sender", "failure", "cancelled", "error")

# status -> (default status_detail, default message)
DETAIL_DEFAULTS = {
    "unknown": ("unknown", "Status unknown"),
    "pre_transit": ("label_created", "Pre-Shipment information received"),
    "in_transit": ("arrived_at_facility", "Arrived at facility"),
    "out_for_delivery": ("out_for_delivery", "Out for delivery"),
    "available_for_pickup": ("arrived_at_pickup_location", "Available for pickup"),
    "delivered": ("arrived_at_destination", "Delivered"),
    "return_to_sender": ("return", "Returned to sender"),
    "failure": ("delivery_exception", "Delivery exception"),
    "cancelled": ("cancelled", "Shipment cancelled"),
    "error": ("unknown", "Tracking error"),
}

MAX_WEIGHT_OZ = 1120
LOST_ZIP = "00000"

# (carrier, service, base cents, cents per step, step ("oz" or "lb"), days)
SERVICES = [
    ("USPS", "First", 400, 22, "oz", 3),
    ("USPS", "Priority", 758, 135, "lb", 2),
    ("UPS", "Ground", 925, 95, "lb", 5),
]
CARRIER_ACCOUNTS = {"USPS": "ca_fake0000000000000000000000usps", "UPS": "ca_fake00000000000000000000000ups"}


# -- errors ------------------------------------------------------------------

class ApiError(Exception):
    """An error answer. store: whether the endpoint had begun executing, so
    that the result is saved under the request's Idempotency-Key."""

    def __init__(self, status, code, message, errors=(), store=False):
        super().__init__(message)
        self.status = status
        self.store = store
        self.body = {"error": {"code": code, "message": message, "errors": list(errors)}}


def invalid(errors, message="Unable to create shipment, one or more parameters were invalid."):
    return ApiError(422, "SHIPMENT.INVALID_PARAMS", message,
                    [{"field": f, "message": m} for f, m in errors])


def not_found():
    return ApiError(404, "NOT_FOUND", "The requested resource could not be found.")


def bad_request(message):
    return ApiError(400, "BAD_REQUEST", message)


def error_body(code, message):
    return {"error": {"code": code, "message": message, "errors": []}}


# -- time --------------------------------------------------------------------

def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


DT_RX = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})\Z")


def parse_dt(s):
    """ISO 8601 with a zone -> epoch seconds (int), or None."""
    if not isinstance(s, str) or not DT_RX.match(s):
        return None
    try:
        d = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(d.astimezone(timezone.utc).timestamp())


def png_1x1():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff")) + chunk(b"IEND", b""))


LABEL_PNG = png_1x1()


# -- state -------------------------------------------------------------------

class State(fakehttp.State):
    executed_names = ("shipments", "buys")

    def __init__(self, now, base_url):
        self.base_url = base_url
        self.tracking_seq = 0  # so do tracking codes
        super().__init__(now)

    def reset(self):
        super().reset()
        self.shipments = {}   # id -> dict (insertion order = creation order)
        self.trackers = {}
        self.labels = {}      # postage label id -> shipment id
        self.bought = []      # shipment ids in the order they were bought

    def new_id(self, prefix):
        self.seq += 1
        return "%s_%08x%s" % (prefix, self.seq, "%024x" % self.rng.getrandbits(96))

    # -- trackers

    def tracker_status(self, trk):
        best = None
        for d in trk["details"]:
            if best is None or d["epoch"] >= best["epoch"]:
                best = d
        return (best["status"], best["status_detail"]) if best else ("unknown", "unknown")

    def add_detail(self, trk, status, epoch, message=None, status_detail=None, location=None):
        dd, dm = DETAIL_DEFAULTS[status]
        loc = {"object": "TrackingLocation", "city": None, "state": None, "country": None, "zip": None}
        for k, v in (location or {}).items():
            loc[k] = v
        trk["details"].append({
            "epoch": epoch, "status": status, "status_detail": status_detail or dd,
            "message": message if message is not None else dm, "location": loc})

    def detail_view(self, trk, d):
        return {"object": "TrackingDetail", "message": d["message"], "description": "",
                "status": d["status"], "status_detail": d["status_detail"],
                "datetime": iso(d["epoch"]), "source": trk["carrier"], "carrier_code": "",
                "tracking_location": dict(d["location"])}

    def tracker_view(self, trk):
        status, detail = self.tracker_status(trk)
        return {
            "id": trk["id"], "object": "Tracker", "mode": "test",
            "tracking_code": trk["tracking_code"], "status": status, "status_detail": detail,
            "signed_by": None, "weight": None, "est_delivery_date": None,
            "shipment_id": trk["shipment_id"], "carrier": trk["carrier"],
            "tracking_details": [self.detail_view(trk, d) for d in trk["details"]],
            "public_url": None, "fees": [],
            "created_at": iso(trk["created"]), "updated_at": iso(trk["updated"]),
        }

    # -- shipments

    def rate_view(self, shp, r):
        return {
            "id": r["id"], "object": "Rate", "mode": "test", "carrier": r["carrier"],
            "service": r["service"], "rate": cents(r["cents"]), "currency": "USD",
            "retail_rate": None, "retail_currency": None, "list_rate": None, "list_currency": None,
            "delivery_days": r["days"], "est_delivery_days": r["days"], "delivery_date": None,
            "delivery_date_guaranteed": False, "shipment_id": shp["id"],
            "carrier_account_id": CARRIER_ACCOUNTS[r["carrier"]],
            "created_at": iso(shp["created"]), "updated_at": iso(shp["created"]),
        }

    def shipment_view(self, shp, status=None):
        trk = self.trackers.get(shp["tracker"]) if shp["tracker"] else None
        if status is None:
            status = self.tracker_status(trk)[0] if trk and trk["changed"] else "unknown"
        sel = next((r for r in shp["rates"] if r["id"] == shp["selected_rate"]), None)
        label = None
        if shp["label"]:
            label = {"id": shp["label"], "object": "PostageLabel",
                     "label_url": "%s/labels/%s.png" % (self.base_url, shp["label"]),
                     "label_file_type": "image/png", "label_size": "4x6", "label_resolution": 300,
                     "label_date": iso(shp["bought_at"]), "created_at": iso(shp["bought_at"]),
                     "updated_at": iso(shp["bought_at"])}
        return {
            "id": shp["id"], "object": "Shipment", "mode": "test", "reference": shp["reference"],
            "status": status, "tracking_code": shp["tracking_code"],
            "to_address": dict(shp["to_address"]), "from_address": dict(shp["from_address"]),
            "parcel": dict(shp["parcel"]),
            "rates": [self.rate_view(shp, r) for r in shp["rates"]],
            "selected_rate": self.rate_view(shp, sel) if sel else None,
            "postage_label": label,
            "tracker": self.tracker_view(trk) if trk else None,
            "messages": [dict(m) for m in shp["messages"]],
            "options": {}, "fees": [], "insurance": None, "refund_status": None,
            "created_at": iso(shp["created"]), "updated_at": iso(shp["updated"]),
        }


def cents(n):
    return "%d.%02d" % (n // 100, n % 100)


def rates_for(weight):
    """[(carrier, service, cents, days)] for a parcel of weight ounces."""
    if weight > MAX_WEIGHT_OZ:
        return []
    oz = max(1, math.ceil(weight))
    lb = max(1, math.ceil(weight / 16.0))
    out = []
    for carrier, service, base, step, unit, days in SERVICES:
        n = oz if unit == "oz" else lb - 1
        out.append((carrier, service, base + step * n, days))
    return out


# -- endpoints (run with the state lock held) --------------------------------

ADDRESS_FIELDS = ("name", "company", "street1", "street2", "city", "state", "zip", "country",
                  "phone", "email")


def address(st, raw):
    a = {"id": st.new_id("adr"), "object": "Address"}
    for k in ADDRESS_FIELDS:
        a[k] = raw.get(k)
    return a


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def ep_create(st, body):
    s = body.get("shipment")
    if not isinstance(s, dict):
        raise invalid([("shipment", "must be an object")])
    errs = []
    ref = s.get("reference")
    if ref is not None and not isinstance(ref, str):
        errs.append(("reference", "must be a string"))
    to = s.get("to_address")
    if not isinstance(to, dict):
        errs.append(("to_address", "is required"))
        to = {}
    for f in ("zip", "country"):
        v = to.get(f)
        if "to_address" not in [e[0] for e in errs] and (not isinstance(v, str) or not v.strip()):
            errs.append(("to_address.%s" % f, "is required"))
    fr = s.get("from_address")
    if not isinstance(fr, dict):
        errs.append(("from_address", "is required"))
        fr = {}
    for name, a in (("to_address", to), ("from_address", fr)):
        for k in ADDRESS_FIELDS:
            if a.get(k) is not None and not isinstance(a[k], str):
                errs.append(("%s.%s" % (name, k), "must be a string"))
    p = s.get("parcel")
    w = p.get("weight") if isinstance(p, dict) else None
    if not isinstance(p, dict):
        errs.append(("parcel", "is required"))
    elif w is None:
        errs.append(("parcel.weight", "is required"))
    elif not is_number(w):
        errs.append(("parcel.weight", "must be a number (ounces)"))
    elif w <= 0:
        errs.append(("parcel.weight", "must be greater than 0"))
    if errs:
        raise invalid(errs)
    now = st.now()
    sid = st.new_id("shp")
    parcel = {"id": st.new_id("prcl"), "object": "Parcel", "weight": w}
    for k in ("length", "width", "height"):
        parcel[k] = p.get(k) if is_number(p.get(k)) else None
    shp = {"id": sid, "reference": ref, "created": now, "updated": now,
           "to_address": address(st, to), "from_address": address(st, fr), "parcel": parcel,
           "rates": [], "messages": [], "selected_rate": None, "tracking_code": None,
           "label": None, "tracker": None, "bought_at": None}
    for carrier, service, c, days in rates_for(w):
        shp["rates"].append({"id": st.new_id("rate"), "carrier": carrier, "service": service,
                             "cents": c, "days": days})
    if not shp["rates"]:
        for carrier in CARRIER_ACCOUNTS:
            shp["messages"].append({
                "carrier": carrier, "carrier_account_id": CARRIER_ACCOUNTS[carrier],
                "type": "rate_error",
                "message": "Parcel weight %s oz exceeds the maximum of %d oz (70 lb)." % (w, MAX_WEIGHT_OZ)})
    st.shipments[sid] = shp
    st.executed["shipments"] += 1
    return 201, st.shipment_view(shp)


def find_shipment(st, sid):
    shp = st.shipments.get(sid)
    if shp is None:
        raise not_found()
    return shp


def ep_buy(st, body, sid):
    shp = find_shipment(st, sid)
    rate = body.get("rate")
    rid = rate.get("id") if isinstance(rate, dict) else None
    if not isinstance(rid, str) or not rid:
        raise invalid([("rate.id", "is required")], "Unable to buy the shipment: a rate is required.")
    if shp["label"]:
        raise ApiError(422, "SHIPMENT.POSTAGE.EXISTS",
                       "Postage already exists for this shipment.", store=True)
    r = next((r for r in shp["rates"] if r["id"] == rid), None)
    if r is None:
        raise invalid([("rate.id", "is not a rate of this shipment")],
                      "Unable to buy the shipment: no such rate %s for shipment %s." % (rid, sid))
    now = st.now()
    st.tracking_seq += 1
    code = "EZ%010d" % (1000000000 + st.tracking_seq)
    trk = {"id": st.new_id("trk"), "tracking_code": code, "shipment_id": sid,
           "carrier": r["carrier"], "details": [], "created": now, "updated": now, "changed": False}
    st.add_detail(trk, "pre_transit", now)
    st.trackers[trk["id"]] = trk
    shp.update(selected_rate=rid, tracking_code=code, label=st.new_id("pl"), tracker=trk["id"],
               bought_at=now, updated=now)
    st.labels[shp["label"]] = sid
    st.bought.append(sid)
    st.executed["buys"] += 1
    out = st.shipment_view(shp, status="unknown")
    if shp["to_address"].get("zip") == LOST_ZIP:
        # Lost after pre_transit: seen from the next read on.
        st.add_detail(trk, "failure", now + 86400, "Package lost in transit", "lost")
        trk["changed"] = True
    return 200, out


def ep_shipment_get(st, body, sid):
    return 200, st.shipment_view(find_shipment(st, sid))


def ep_tracker_get(st, body, tid):
    trk = st.trackers.get(tid)
    if trk is None:
        raise not_found()
    return 200, st.tracker_view(trk)


def ep_trackers(st, body, query):
    code = dict(parse_qsl(query)).get("tracking_code")
    rows = [t for t in st.trackers.values() if code is None or t["tracking_code"] == code]
    return 200, {"trackers": [st.tracker_view(t) for t in reversed(rows)], "has_more": False}


ID = r"([A-Za-z0-9_]{1,255})"
API = [
    ("POST", re.compile(r"/v2/shipments\Z"), ep_create),
    ("GET", re.compile(r"/v2/shipments/%s\Z" % ID), ep_shipment_get),
    ("POST", re.compile(r"/v2/shipments/%s/buy\Z" % ID), ep_buy),
    ("GET", re.compile(r"/v2/trackers/%s\Z" % ID), ep_tracker_get),
    ("GET", re.compile(r"/v2/trackers\Z"), ep_trackers),
]
LABEL_RX = re.compile(r"/labels/(pl_[A-Za-z0-9]{1,64})\.png\Z")
ID_SEGMENT = re.compile(r"(shp|trk|rate|pl|prcl|adr)_")


def endpoint_name(method, path):
    if path.startswith("/labels/"):
        return "%s /labels/{file}" % method
    parts = ["{id}" if ID_SEGMENT.match(s) else s for s in path.split("/")]
    return "%s %s" % (method, "/".join(parts))


def track(st, spec):
    """POST /_track (state lock held). Returns the tracker or raises ApiError."""
    if not isinstance(spec, dict) or set(spec) - {"tracker", "tracking_code", "details", "replace"}:
        raise bad_request("_track keys are tracker, tracking_code, details, replace")
    if spec.get("tracker") is not None:
        trk = st.trackers.get(spec["tracker"]) if isinstance(spec["tracker"], str) else None
    elif spec.get("tracking_code") is not None:
        trk = next((t for t in st.trackers.values() if t["tracking_code"] == spec["tracking_code"]), None)
    else:
        raise bad_request("_track needs tracker or tracking_code")
    if trk is None:
        raise not_found()
    details = spec.get("details", [])
    if not isinstance(details, list):
        raise bad_request("details must be a list")
    parsed = []
    for i, d in enumerate(details):
        if not isinstance(d, dict) or set(d) - {"status", "datetime", "message", "status_detail",
                                                 "tracking_location"}:
            raise bad_request("details[%d]: keys are status, datetime, message, status_detail, "
                              "tracking_location" % i)
        if d.get("status") not in STATUSES:
            raise bad_request("details[%d].status must be one of %s" % (i, ", ".join(STATUSES)))
        epoch = parse_dt(d.get("datetime"))
        if epoch is None:
            raise bad_request("details[%d].datetime must be ISO 8601 with a zone, "
                              "e.g. 2026-11-29T12:00:00Z" % i)
        for k in ("message", "status_detail"):
            if d.get(k) is not None and not isinstance(d[k], str):
                raise bad_request("details[%d].%s must be a string" % (i, k))
        loc = d.get("tracking_location")
        if loc is not None and (not isinstance(loc, dict)
                                or set(loc) - {"city", "state", "country", "zip"}):
            raise bad_request("details[%d].tracking_location keys are city, state, country, zip" % i)
        parsed.append((d["status"], epoch, d.get("message"), d.get("status_detail"), loc))
    if spec.get("replace"):
        trk["details"] = []
    for status, epoch, msg, sd, loc in parsed:
        st.add_detail(trk, status, epoch, msg, sd, loc)
    trk["changed"] = True
    trk["updated"] = st.now()
    return trk


# -- HTTP --------------------------------------------------------------------

class Handler(fakehttp.Handler):
    server_version = "fake_carrier/1"
    CTYPE = "application/json; charset=utf-8"
    REQUEST_ID_HEADER = "X-Ep-Request-Uuid"
    ERROR = ApiError
    API = API

    def endpoint_name(self, method, path):
        return endpoint_name(method, path)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return super().read_body()

    def route(self, path, query, body):
        if path.startswith("/labels/"):
            self.label(path)
        else:
            self.api(path, query, body)

    # -- control

    def control_error(self, status, message):
        return error_body("NOT_FOUND" if status == 404 else "BAD_REQUEST", message)

    def control_extra(self, path, body):
        if path == "/_track" and self.command == "POST":
            st = self.server.state
            try:
                spec = json.loads(body or b"{}")
                with st.lock:
                    out = st.tracker_view(track(st, spec))
            except ValueError as e:
                self.send(400, encode(error_body("BAD_REQUEST", "body is not JSON: %s" % e)))
                return True
            except ApiError as e:
                self.send(e.status, encode(e.body))
                return True
            self.send(200, encode(out))
            return True
        return False

    def stats_extra(self, st):
        labels = []
        for sid in st.bought:
            shp = st.shipments[sid]
            r = next(r for r in shp["rates"] if r["id"] == shp["selected_rate"])
            labels.append({"shipment_id": sid, "reference": shp["reference"],
                           "tracking_code": shp["tracking_code"], "tracker_id": shp["tracker"],
                           "carrier": r["carrier"], "service": r["service"],
                           "rate": cents(r["cents"])})
        return {
            "labels": labels,
            "shipments": [
                {"id": s["id"], "reference": s["reference"], "weight": s["parcel"]["weight"],
                 "rates": len(s["rates"]), "bought": s["label"] is not None}
                for s in st.shipments.values()],
            "trackers": [
                {"id": t["id"], "tracking_code": t["tracking_code"],
                 "status": st.tracker_status(t)[0], "details": len(t["details"])}
                for t in st.trackers.values()],
        }

    # -- labels: public URLs, no auth; only faults with a matching path

    def label(self, path):
        st = self.server.state
        st.count_request(endpoint_name(self.command, path))
        fault = st.take_fault(path, label=True) or {}
        try:
            if fault.get("delay_ms"):
                time.sleep(float(fault["delay_ms"]) / 1000.0)
            if fault.get("drop") or fault.get("process") is False:
                raise Dropped()
            if fault.get("status"):
                self.answer(int(fault["status"]), encode(fault.get("body") or error_body(
                    "INTERNAL_SERVER_ERROR", "injected fault")), [], None, "fault")
                return
            m = LABEL_RX.match(path)
            with st.lock:
                ok = self.command in ("GET", "HEAD") and m is not None and m.group(1) in st.labels
            if not ok:
                self.answer(404, encode(not_found().body), [], None)
                return
            if fault.get("commit_then_drop"):
                raise Dropped()
            self.answer(200, LABEL_PNG, [], None, ctype="image/png")
        except Dropped:
            self.dropped(path)

    # -- API

    def fault_body(self, status):
        if status == 429:
            return error_body("RATE_LIMITED", "Rate limit exceeded. Please slow down and try again.")
        if status == 503:
            return error_body("SERVICE.UNAVAILABLE",
                              "The service is temporarily unavailable (injected fault 503).")
        if status >= 500:
            return error_body("INTERNAL_SERVER_ERROR",
                              "An unexpected error occurred (injected fault %d)." % status)
        return error_body("INJECTED.FAULT", "Injected fault %d." % status)

    def auth_code(self):
        """None when authorized, else the 401's error code."""
        got = self.headers.get("Authorization", "")
        if not got.strip():
            return "APIKEY.REQUIRED"
        scheme, user = fakehttp.auth_user(got)
        if scheme == "basic":
            if user is None:
                return "APIKEY.INACTIVE"
            if not user:
                return "APIKEY.REQUIRED"
        elif scheme != "bearer":
            return "APIKEY.REQUIRED"
        return None if self.key_matches(user) else "APIKEY.INACTIVE"

    def unauthorized(self):
        code = self.auth_code()
        if code is None:
            return None
        msg = ("Unauthorized. Please check credentials and try again." if code == "APIKEY.REQUIRED"
               else "This API key is not valid or no longer active.")
        return error_body(code, msg), [("WWW-Authenticate", 'Basic realm="EasyPost"')]

    def not_found_body(self, method, path):
        return error_body("NOT_FOUND", "The requested resource could not be found (%s %s)." % (method, path))

    def parse(self, method, fn, match, query, body):
        params = {}
        fp_body = b""
        if method == "POST":
            ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if ctype != "application/json":
                raise bad_request("The body must be JSON (Content-Type: application/json).")
            try:
                params = json.loads(body.decode("utf-8")) if body.strip() else {}
            except (UnicodeDecodeError, ValueError):
                raise bad_request("The body is not valid JSON.")
            if not isinstance(params, dict):
                raise bad_request("The body must be a JSON object.")
            fp_body = json.dumps(params, sort_keys=True, separators=(",", ":"))
        args = match.groups() if fn is not ep_trackers else (query,)
        return params, fp_body, args

    def key_invalid_body(self):
        return error_body("IDEMPOTENCY.KEY_INVALID", "Idempotency-Key must be between 1 and 255 characters long.")

    def key_mismatch_body(self, key):
        return error_body(
            "IDEMPOTENCY.MISMATCH",
            "Keys for idempotent requests can only be used with the same method, path and "
            "body they were first used with. Use another key for another request.")

    def key_in_use(self, key):
        return error_body(
            "IDEMPOTENCY.IN_PROGRESS",
            "Another request with this Idempotency-Key is still in progress. "
            "Try again later."), []

    def internal_error_body(self):
        return error_body("INTERNAL_SERVER_ERROR", "An unexpected error occurred.")


class Server(fakehttp.Server):
    NAME = "fake_carrier"
    RID_FORMAT = "fa4ec0de-0000-4000-8000-%012x"


def main():
    fakehttp.main(Server, Handler, lambda now, port: State(now, "http://127.0.0.1:%d" % port),
                  "fake shipping aggregator (EasyPost-shaped) for shop tests",
                  "environment variable holding the API key",
                  "fixed clock, epoch seconds (created_at, tracking datetimes)")


if __name__ == "__main__":
    main()
