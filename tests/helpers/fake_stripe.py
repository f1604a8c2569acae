#!/usr/bin/python3
"""fake_stripe: a small stateful Stripe look-alike on 127.0.0.1 for the tests.

    fake_stripe.py --port-file FILE --key-env NAME [--pid-file FILE]
                   [--now EPOCH] [--verbose]

The secret key is read from the environment variable NAME (never from argv)
and is never printed or logged. Binds an ephemeral port, writes it to the
port file atomically, then serves until killed. Standard library only; run
it with /usr/bin/python3.

API (form-encoded bodies, JSON answers shaped like Stripe's), HTTP Basic
with the key as user name, or "Authorization: Bearer KEY":

    POST /v1/payment_intents                 amount currency payment_method
         capture_method confirm metadata[..] description payment_method_types[]
    POST /v1/payment_intents/{id}/confirm    payment_method
    POST /v1/payment_intents/{id}/capture    amount_to_capture (rest released)
    POST /v1/payment_intents/{id}/cancel     cancellation_reason
    GET  /v1/payment_intents/{id}
    POST /v1/refunds                         payment_intent|charge amount reason
    GET  /v1/refunds/{id}, GET /v1/charges/{id}
    GET  /v1/balance_transactions            limit starting_after type source

Test payment methods: pm_card_visa, pm_card_mastercard, pm_card_amex (ok),
pm_card_chargeDeclined (card_declined/generic_decline),
pm_card_chargeDeclinedInsufficientFunds (card_declined/insufficient_funds),
pm_card_chargeDeclinedExpiredCard (expired_card),
pm_card_chargeDeclinedProcessingError (processing_error),
pm_card_authenticationRequired (status requires_action).

Idempotency-Key (POST only, 1..255 chars), as Stripe documents it: the
first result of a request that reached its endpoint (2xx, 402 declines,
400 state errors) is stored and replayed byte for byte, with
"Idempotent-Replayed: true", to any request with the same key, method, path
and parameters. Parameter validation errors, 401s and injected faults are
not stored, so a corrected or retried request executes. Same key with other
parameters: 400 idempotency_error. Same key while the first request is still
executing: 409 (code idempotency_key_in_use).

Control endpoints (no auth; never counted, never consume a fault):

    POST /_fault  JSON object or list of objects, each consumed by the next
                  "count" (default 1) API requests, in order:
        {"status": 500}                    answer 500 api_error, not processed
        {"status": 429, "retry_after": 1}  answer 429 rate_limit + Retry-After
        {"delay_ms": M}                    sleep M ms (holding the key), then
                                           process and answer
        {"delay_ms": M, "process": false}  sleep, then close: no processing
        {"commit_then_drop": true}         process, store under the key, then
                                           close the connection, no answer
        {"drop": true}                     close at once, no processing
        "path": "/capture"                 only requests whose path contains it
        "body": {...}                      the body of a "status" fault
    GET  /_report.csv  the balance transactions as a CSV of Stripe's itemized
                  balance change report (columns balance_transaction_id,
                  created_utc, currency, gross, reporting_category,
                  payment_intent_id, payment_metadata[order_id], ...)
    POST /_reset  forget intents, refunds, keys, faults, counters
    GET  /_stats  {"requests": {"POST /v1/payment_intents/{id}/capture": n},
                   "executed": {"payment_intents", "declines", "confirms",
                                "captures", "cancels", "refunds"},
                   "replayed", "faults_applied", "unauthorized",
                   "idempotency_keys", "faults_pending",
                   "payment_intents": [{id, status, amount, amount_capturable,
                      amount_received, amount_refunded, currency, metadata,
                      captures, refunds: [re_...]}]}
"""
import os
import re
import string
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakehttp  # noqa: E402
from urllib.parse import parse_qsl  # noqa: E402

API_VERSION = "2024-06-20"

CURRENCIES = {
    "aud", "bgn", "brl", "cad", "chf", "cny", "czk", "dkk", "eur", "gbp", "hkd",
    "huf", "inr", "isk", "jpy", "krw", "mxn", "nok", "nzd", "pln", "ron", "sek",
    "sgd", "try", "usd", "zar",
}

# payment method -> None (approved), "action" or the decline error fields
METHODS = {
    "pm_card_visa": None,
    "pm_card_mastercard": None,
    "pm_card_amex": None,
    "pm_card_authenticationRequired": "action",
    "pm_card_chargeDeclined": {
        "code": "card_declined", "decline_code": "generic_decline",
        "message": "Your card was declined."},
    "pm_card_chargeDeclinedInsufficientFunds": {
        "code": "card_declined", "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds."},
    "pm_card_chargeDeclinedExpiredCard": {
        "code": "expired_card", "decline_code": "expired_card", "param": "exp_month",
        "message": "Your card has expired."},
    "pm_card_chargeDeclinedProcessingError": {
        "code": "processing_error",
        "message": "An error occurred while processing your card. Try again in a little bit."},
}

CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation",
              "requires_action", "processing")
CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")


# -- errors ------------------------------------------------------------------

class StripeError(Exception):
    """An error answer. store: whether the endpoint had begun executing, so
    that Stripe would save the result under the request's Idempotency-Key."""

    def __init__(self, status, type_, message, code=None, param=None, store=True, **extra):
        super().__init__(message)
        self.status = status
        self.store = store
        err = {"type": type_, "message": message}
        if code:
            err["code"] = code
            err["doc_url"] = "https://stripe.com/docs/error-codes/" + code.replace("_", "-")
        if param:
            err["param"] = param
        err.update(extra)
        self.body = {"error": {k: err[k] for k in sorted(err)}}


def param_error(param, message, code="parameter_invalid"):
    return StripeError(400, "invalid_request_error", message, code, param, store=False)


def missing(name, store=False, **kw):
    return StripeError(404, "invalid_request_error", "No such %s" % name,
                       "resource_missing", store=store, **kw)


def unexpected_state(pi, verb, allowed):
    return StripeError(
        400, "invalid_request_error",
        "This PaymentIntent could not be %s because it has a status of %s. Only a "
        "PaymentIntent with one of the following statuses may be %s: %s."
        % (verb, pi["status"], verb, ", ".join(allowed)),
        "payment_intent_unexpected_state", payment_intent=None)


# -- form parameters ---------------------------------------------------------

KEY_RX = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)\Z")


def parse_form(raw):
    """Stripe-style form: a[b]=1 nests, a[]=x appends. Returns (params, pairs)."""
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False,
                          errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise param_error(None, "Invalid request: the body is not valid UTF-8 form data.")
    params = {}
    for k, v in pairs:
        m = KEY_RX.match(k)
        if not m:
            raise param_error(k, "Invalid parameter name: %s" % k)
        parts = [m.group(1)] + re.findall(r"\[([^\[\]]*)\]", m.group(2))
        node = params
        for i, p in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if p != "":
                    raise param_error(parts[0], "Invalid array: %s" % k)
                if last:
                    node.append(v)
                else:
                    node.append({})
                    node = node[-1]
                continue
            nxt = parts[i + 1] if not last else None
            if last:
                node[p] = v
            else:
                want = list if nxt == "" else dict
                if not isinstance(node.get(p), want):
                    node[p] = want()
                node = node[p]
    return params, pairs


def allow(params, names):
    for k in params:
        if k not in names:
            raise param_error(k, "Received unknown parameter: %s" % k, "parameter_unknown")


def get_int(params, name, required=False, minimum=1, maximum=99999999):
    v = params.get(name)
    if v is None or v == "":
        if required:
            raise param_error(name, "Missing required param: %s." % name, "parameter_missing")
        return None
    if not isinstance(v, str) or not re.fullmatch(r"-?[0-9]{1,18}", v):
        raise param_error(name, "Invalid integer: %s" % (v if isinstance(v, str) else name),
                          "parameter_invalid_integer")
    n = int(v)
    if n < minimum:
        raise param_error(name, "This value must be greater than or equal to %d." % minimum,
                          "amount_too_small" if name.startswith("amount") else "parameter_invalid_integer")
    if n > maximum:
        raise param_error(name, "This value must be less than or equal to %d." % maximum,
                          "amount_too_large" if name.startswith("amount") else "parameter_invalid_integer")
    return n


def get_str(params, name, required=False, choices=None):
    v = params.get(name)
    if v is None:
        if required:
            raise param_error(name, "Missing required param: %s." % name, "parameter_missing")
        return None
    if not isinstance(v, str):
        raise param_error(name, "Invalid string: %s" % name)
    if choices is not None and v not in choices:
        raise param_error(name, "Invalid %s: must be one of %s" % (name, ", ".join(choices)))
    return v


def get_bool(params, name):
    v = get_str(params, name)
    if v is None:
        return None
    if v not in ("true", "false"):
        raise param_error(name, "Invalid boolean: %s" % v)
    return v == "true"


def get_metadata(params):
    v = params.get("metadata")
    if v is None or v == "":
        return {}
    if not isinstance(v, dict):
        raise param_error("metadata", "Invalid object")
    if len(v) > 50:
        raise param_error("metadata", "Metadata can have at most 50 keys.")
    for k, val in v.items():
        if not isinstance(val, str):
            raise param_error("metadata[%s]" % k, "Invalid string")
        if len(k) > 40:
            raise param_error("metadata", "Metadata keys can be at most 40 characters.")
        if len(val) > 500:
            raise param_error("metadata[%s]" % k, "Metadata values can be at most 500 characters.")
    return dict(v)


def get_expand(params, allowed):
    v = params.get("expand")
    if v is None:
        return set()
    if not isinstance(v, list):
        raise param_error("expand", "Invalid array")
    for e in v:
        if e not in allowed:
            raise param_error("expand", "This property cannot be expanded (%s)." % e)
    return set(v)


# -- state -------------------------------------------------------------------

def obj(id_, kind, **fields):
    """Stripe's field order: id, object, then the rest alphabetically."""
    out = {"id": id_, "object": kind}
    for k in sorted(fields):
        out[k] = fields[k]
    return out


class State(fakehttp.State):
    executed_names = ("payment_intents", "declines", "confirms", "captures", "cancels", "refunds")

    def reset(self):
        super().reset()
        self.intents = {}     # id -> dict (insertion order = creation order)
        self.charges = {}
        self.refunds = {}
        self.txns = []        # balance transactions, oldest first

    def new_id(self, prefix):
        self.seq += 1
        tail = "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(14))
        return "%s_3Fk%06d%s" % (prefix, self.seq, tail)

    # -- views

    def pi_view(self, pi, expand=()):
        ch = pi["latest_charge"]
        if ch and "latest_charge" in expand:
            ch = self.charge_view(self.charges[ch])
        return obj(
            pi["id"], "payment_intent",
            amount=pi["amount"],
            amount_capturable=pi["amount_capturable"],
            amount_received=pi["amount_received"],
            canceled_at=pi["canceled_at"],
            cancellation_reason=pi["cancellation_reason"],
            capture_method=pi["capture_method"],
            client_secret=pi["id"] + "_secret_" + pi["secret"],
            confirmation_method="automatic",
            created=pi["created"],
            currency=pi["currency"],
            description=pi["description"],
            last_payment_error=pi["last_payment_error"],
            latest_charge=ch,
            livemode=False,
            metadata=dict(pi["metadata"]),
            next_action=({"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}}
                         if pi["status"] == "requires_action" else None),
            payment_method=pi["payment_method"],
            payment_method_types=["card"],
            status=pi["status"],
        )

    def charge_view(self, ch):
        return obj(
            ch["id"], "charge",
            amount=ch["amount"],
            amount_captured=ch["amount_captured"],
            amount_refunded=ch["amount_refunded"],
            balance_transaction=ch["balance_transaction"],
            captured=ch["captured"],
            created=ch["created"],
            currency=ch["currency"],
            failure_code=ch["failure_code"],
            failure_message=ch["failure_message"],
            livemode=False,
            metadata=dict(ch["metadata"]),
            paid=ch["status"] == "succeeded",
            payment_intent=ch["payment_intent"],
            payment_method=ch["payment_method"],
            refunded=ch["captured"] and ch["amount_refunded"] >= ch["amount_captured"],
            status=ch["status"],
        )

    def refund_view(self, re_):
        return obj(re_["id"], "refund", **{k: v for k, v in re_.items() if k != "id"})

    # -- ledger

    def add_txn(self, amount, currency, source, type_):
        t = obj(self.new_id("txn"), "balance_transaction",
                amount=amount, available_on=self.now(), created=self.now(),
                currency=currency, description=None, fee=0, fee_details=[],
                net=amount, reporting_category=type_, source=source,
                status="available", type=type_)
        self.txns.append(t)
        return t["id"]

    def refunded(self, pi):
        return sum(self.refunds[r]["amount"] for r in pi["refunds"])


# -- endpoints (run with the state lock held) --------------------------------

def find_pi(st, pid):
    pi = st.intents.get(pid)
    if pi is None:
        raise missing("payment_intent: '%s'" % pid, param="intent")
    return pi


def confirm(st, pi, pm):
    """Confirms pi with payment method pm. Declines raise a stored 402."""
    pi["payment_method"] = pm
    outcome = METHODS[pm]
    if outcome == "action":
        pi["status"] = "requires_action"
        return
    ch = {"id": st.new_id("ch"), "amount": pi["amount"], "amount_captured": 0,
          "amount_refunded": 0, "balance_transaction": None, "captured": False,
          "created": st.now(), "currency": pi["currency"], "failure_code": None,
          "failure_message": None, "metadata": dict(pi["metadata"]),
          "payment_intent": pi["id"], "payment_method": pm, "status": "succeeded"}
    st.charges[ch["id"]] = ch
    pi["latest_charge"] = ch["id"]
    if outcome is not None:
        ch["status"] = "failed"
        ch["failure_code"] = outcome["code"]
        ch["failure_message"] = outcome["message"]
        err = dict(outcome)
        err.update(type="card_error", charge=ch["id"],
                   doc_url="https://stripe.com/docs/error-codes/" + outcome["code"].replace("_", "-"),
                   payment_method={"id": pm, "object": "payment_method", "type": "card"})
        pi["status"] = "requires_payment_method"
        pi["payment_method"] = None
        pi["last_payment_error"] = {k: err[k] for k in sorted(err)}
        st.executed["declines"] += 1
        e = StripeError(402, "card_error", outcome["message"], store=True)
        err["payment_intent"] = st.pi_view(pi)
        e.body = {"error": {k: err[k] for k in sorted(err)}}
        raise e
    pi["last_payment_error"] = None
    if pi["capture_method"] == "manual":
        pi["status"] = "requires_capture"
        pi["amount_capturable"] = pi["amount"]
    else:
        capture(st, pi, pi["amount"])


def capture(st, pi, amount):
    ch = st.charges[pi["latest_charge"]]
    pi["status"] = "succeeded"
    pi["amount_capturable"] = 0
    pi["amount_received"] = amount
    ch["captured"] = True
    ch["amount_captured"] = amount
    ch["balance_transaction"] = st.add_txn(amount, pi["currency"], ch["id"], "charge")


def ep_create(st, p):
    allow(p, {"amount", "currency", "payment_method", "capture_method", "confirm", "metadata",
              "description", "payment_method_types", "expand", "receipt_email",
              "statement_descriptor", "statement_descriptor_suffix", "return_url",
              "off_session", "customer"})
    amount = get_int(p, "amount", required=True)
    cur = get_str(p, "currency", required=True).lower()
    if cur not in CURRENCIES:
        raise param_error("currency", "Invalid currency: %s." % cur)
    cm = get_str(p, "capture_method", choices=("automatic", "automatic_async", "manual")) or "automatic"
    do_confirm = get_bool(p, "confirm") or False
    pm = get_str(p, "payment_method")
    if pm is not None and pm not in METHODS:
        raise param_error("payment_method", "No such PaymentMethod: '%s'" % pm, "resource_missing")
    if do_confirm and pm is None:
        raise param_error("payment_method", "You cannot confirm this PaymentIntent because it's "
                          "missing a payment method.", "payment_intent_unexpected_state")
    types = p.get("payment_method_types")
    if types is not None and (not isinstance(types, list) or any(t != "card" for t in types)):
        raise param_error("payment_method_types", "The only payment method type supported here is card.")
    desc = get_str(p, "description")
    meta = get_metadata(p)
    expand = get_expand(p, {"latest_charge"})
    pi = {"id": st.new_id("pi"), "secret": "".join(st.rng.choice(string.ascii_letters) for _ in range(24)),
          "amount": amount, "amount_capturable": 0, "amount_received": 0,
          "canceled_at": None, "cancellation_reason": None, "capture_method": cm,
          "created": st.now(), "currency": cur, "description": desc,
          "last_payment_error": None, "latest_charge": None, "metadata": meta,
          "payment_method": pm, "status": "requires_confirmation" if pm else "requires_payment_method",
          "captures": 0, "refunds": []}
    st.intents[pi["id"]] = pi
    st.executed["payment_intents"] += 1
    if do_confirm:
        confirm(st, pi, pm)
    return 200, st.pi_view(pi, expand)


def ep_retrieve(st, p, pid):
    allow(p, {"expand", "client_secret"})
    expand = get_expand(p, {"latest_charge"})
    return 200, st.pi_view(find_pi(st, pid), expand)


def ep_confirm(st, p, pid):
    allow(p, {"payment_method", "expand", "return_url", "off_session", "receipt_email"})
    pm = get_str(p, "payment_method")
    if pm is not None and pm not in METHODS:
        raise param_error("payment_method", "No such PaymentMethod: '%s'" % pm, "resource_missing")
    expand = get_expand(p, {"latest_charge"})
    pi = find_pi(st, pid)
    if pi["status"] not in CONFIRMABLE:
        raise with_pi(st, unexpected_state(pi, "confirmed", CONFIRMABLE), pi)
    pm = pm or pi["payment_method"]
    if pm is None:
        raise param_error("payment_method", "You cannot confirm this PaymentIntent because it's "
                          "missing a payment method.", "payment_intent_unexpected_state")
    st.executed["confirms"] += 1
    confirm(st, pi, pm)
    return 200, st.pi_view(pi, expand)


def with_pi(st, e, pi):
    e.body["error"]["payment_intent"] = st.pi_view(pi)
    e.body = {"error": {k: e.body["error"][k] for k in sorted(e.body["error"])}}
    return e


def ep_capture(st, p, pid):
    allow(p, {"amount_to_capture", "metadata", "expand", "statement_descriptor",
              "statement_descriptor_suffix"})
    amount = get_int(p, "amount_to_capture")
    meta = get_metadata(p) if "metadata" in p else None
    expand = get_expand(p, {"latest_charge"})
    pi = find_pi(st, pid)
    if pi["status"] != "requires_capture":
        raise with_pi(st, unexpected_state(pi, "captured", ("requires_capture",)), pi)
    if amount is None:
        amount = pi["amount_capturable"]
    if amount > pi["amount_capturable"]:
        raise with_pi(st, StripeError(
            400, "invalid_request_error",
            "The amount_to_capture (%d) must be less than or equal to the amount_capturable (%d)."
            % (amount, pi["amount_capturable"]), "amount_too_large", "amount_to_capture",
            payment_intent=None), pi)
    if meta is not None:
        pi["metadata"].update(meta)
    capture(st, pi, amount)
    pi["captures"] += 1
    st.executed["captures"] += 1
    return 200, st.pi_view(pi, expand)


def ep_cancel(st, p, pid):
    allow(p, {"cancellation_reason", "expand"})
    reason = get_str(p, "cancellation_reason",
                     choices=("duplicate", "fraudulent", "requested_by_customer", "abandoned"))
    expand = get_expand(p, {"latest_charge"})
    pi = find_pi(st, pid)
    if pi["status"] not in CANCELABLE:
        e = unexpected_state(pi, "canceled", CANCELABLE)
        e.body["error"]["message"] = (
            "You cannot cancel this PaymentIntent because it has a status of %s. Only a "
            "PaymentIntent with one of the following statuses may be canceled: %s."
            % (pi["status"], ", ".join(CANCELABLE)))
        raise with_pi(st, e, pi)
    pi["status"] = "canceled"
    pi["amount_capturable"] = 0
    pi["canceled_at"] = st.now()
    pi["cancellation_reason"] = reason
    st.executed["cancels"] += 1
    return 200, st.pi_view(pi, expand)


def ep_refund(st, p):
    allow(p, {"payment_intent", "charge", "amount", "reason", "metadata", "expand"})
    pid = get_str(p, "payment_intent")
    chid = get_str(p, "charge")
    if pid is None and chid is None:
        raise param_error("payment_intent", "One of the following params should be provided "
                          "for this request: payment_intent or charge.", "parameter_missing")
    amount = get_int(p, "amount")
    reason = get_str(p, "reason", choices=("duplicate", "fraudulent", "requested_by_customer"))
    meta = get_metadata(p)
    get_expand(p, set())
    if pid is not None:
        pi = st.intents.get(pid)
        if pi is None:
            raise missing("payment_intent: '%s'" % pid, param="payment_intent")
    else:
        ch = st.charges.get(chid)
        if ch is None:
            raise missing("charge: '%s'" % chid, param="charge")
        pi = st.intents[ch["payment_intent"]]
        if pi["latest_charge"] != chid:
            raise StripeError(400, "invalid_request_error",
                              "Charge %s has not been captured." % chid, "charge_not_refundable")
    if pi["status"] != "succeeded":
        raise StripeError(400, "invalid_request_error",
                          "This PaymentIntent (%s) does not have a successful charge to refund."
                          % pi["id"], "payment_intent_unexpected_state")
    ch = st.charges[pi["latest_charge"]]
    left = pi["amount_received"] - st.refunded(pi)
    if left <= 0:
        raise StripeError(400, "invalid_request_error",
                          "Charge %s has already been refunded." % ch["id"], "charge_already_refunded")
    if amount is None:
        amount = left
    if amount > left:
        raise StripeError(400, "invalid_request_error",
                          "Refund amount (%d) is greater than unrefunded amount on charge (%d)"
                          % (amount, left), "amount_too_large", "amount")
    rid = st.new_id("re")
    r = {"id": rid, "amount": amount,
         "balance_transaction": st.add_txn(-amount, pi["currency"], rid, "refund"),
         "charge": ch["id"], "created": st.now(), "currency": pi["currency"],
         "metadata": meta, "payment_intent": pi["id"], "reason": reason, "status": "succeeded"}
    st.refunds[rid] = r
    pi["refunds"].append(rid)
    ch["amount_refunded"] += amount
    st.executed["refunds"] += 1
    return 200, st.refund_view(r)


def ep_refund_get(st, p, rid):
    allow(p, {"expand"})
    r = st.refunds.get(rid)
    if r is None:
        raise missing("refund: '%s'" % rid, param="id")
    return 200, st.refund_view(r)


def ep_charge_get(st, p, cid):
    allow(p, {"expand"})
    c = st.charges.get(cid)
    if c is None:
        raise missing("charge: '%s'" % cid, param="id")
    return 200, st.charge_view(c)


def ep_txns(st, p):
    allow(p, {"limit", "starting_after", "type", "source", "expand"})
    limit = get_int(p, "limit", minimum=1, maximum=100) or 10
    after = get_str(p, "starting_after")
    type_ = get_str(p, "type")
    source = get_str(p, "source")
    rows = [t for t in reversed(st.txns)
            if (type_ is None or t["type"] == type_) and (source is None or t["source"] == source)]
    if after is not None:
        ids = [t["id"] for t in rows]
        if after not in ids:
            raise missing("balance_transaction: '%s'" % after, param="starting_after")
        rows = rows[ids.index(after) + 1:]
    return 200, {"object": "list", "data": [dict(t) for t in rows[:limit]],
                 "has_more": len(rows) > limit, "url": "/v1/balance_transactions"}


ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
                "vuv", "xaf", "xof", "xpf"}
REPORT_COLUMNS = ["balance_transaction_id", "created_utc", "available_on_utc", "currency", "gross", "fee",
                  "net", "reporting_category", "source_id", "description", "charge_id",
                  "payment_intent_id", "payment_metadata[order_id]"]


def decimal(amount, currency):
    """Minor units as the report writes them: 1250 usd -> 12.50."""
    if currency in ZERO_DECIMAL:
        return str(amount)
    sign = "-" if amount < 0 else ""
    return "%s%d.%02d" % (sign, abs(amount) // 100, abs(amount) % 100)


def csv_field(v):
    v = "" if v is None else str(v)
    return '"%s"' % v.replace('"', '""') if any(c in v for c in ',"\n') else v


def report_csv(st):
    """The balance transactions as Stripe's itemized balance change report
    (balance_change_from_activity.itemized) would list them, oldest first."""
    lines = [",".join(REPORT_COLUMNS)]
    for t in st.txns:
        src = t["source"]
        if src.startswith("ch_"):
            ch = st.charges[src]
            pi_id, ch_id = ch["payment_intent"], ch["id"]
        else:
            re_ = st.refunds[src]
            pi_id, ch_id = re_["payment_intent"], re_["charge"]
        pi = st.intents.get(pi_id) or {"metadata": {}}
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t["created"]))
        row = [t["id"], when, when, t["currency"], decimal(t["amount"], t["currency"]),
               decimal(t["fee"], t["currency"]), decimal(t["net"], t["currency"]),
               t["reporting_category"], src, t["description"], ch_id, pi_id,
               pi["metadata"].get("order_id")]
        lines.append(",".join(csv_field(v) for v in row))
    return "\n".join(lines) + "\n"


ID = r"([A-Za-z0-9_]{1,255})"
API = [
    ("POST", re.compile(r"/v1/payment_intents\Z"), ep_create),
    ("GET", re.compile(r"/v1/payment_intents/%s\Z" % ID), ep_retrieve),
    ("POST", re.compile(r"/v1/payment_intents/%s/confirm\Z" % ID), ep_confirm),
    ("POST", re.compile(r"/v1/payment_intents/%s/capture\Z" % ID), ep_capture),
    ("POST", re.compile(r"/v1/payment_intents/%s/cancel\Z" % ID), ep_cancel),
    ("POST", re.compile(r"/v1/refunds\Z"), ep_refund),
    ("GET", re.compile(r"/v1/refunds/%s\Z" % ID), ep_refund_get),
    ("GET", re.compile(r"/v1/charges/%s\Z" % ID), ep_charge_get),
    ("GET", re.compile(r"/v1/balance_transactions\Z"), ep_txns),
]


def endpoint_name(method, path):
    parts = ["{id}" if re.match(r"(pi|re|ch|txn)_", s) else s for s in path.split("/")]
    return "%s %s" % (method, "/".join(parts))


# -- HTTP --------------------------------------------------------------------

class Handler(fakehttp.Handler):
    server_version = "fake_stripe/1"
    CTYPE = "application/json"
    REQUEST_ID_HEADER = "Request-Id"
    EXTRA_HEADERS = (("Stripe-Version", API_VERSION),)
    ERROR = StripeError
    API = API

    def endpoint_name(self, method, path):
        return endpoint_name(method, path)

    # -- control

    def control_error(self, status, message):
        return {"error": {"type": "invalid_request_error", "message": message}}

    def control_extra(self, path, body):
        if path == "/_report.csv" and self.command == "GET":
            st = self.server.state
            with st.lock:
                text = report_csv(st)
            self.send(200, text.encode(), ctype="text/csv")
            return True
        return False

    def stats_extra(self, st):
        return {"payment_intents": [
            {"id": pi["id"], "status": pi["status"], "amount": pi["amount"],
             "amount_capturable": pi["amount_capturable"],
             "amount_received": pi["amount_received"],
             "amount_refunded": st.refunded(pi), "currency": pi["currency"],
             "metadata": dict(pi["metadata"]), "captures": pi["captures"],
             "refunds": list(pi["refunds"])}
            for pi in st.intents.values()]}

    # -- API

    def fault_body(self, status):
        if status == 429:
            return {"error": {"type": "invalid_request_error", "code": "rate_limit",
                              "message": "Too many requests hit the API too quickly."}}
        return {"error": {"type": "api_error",
                          "message": "An unknown error occurred (injected fault %d)." % status}}

    def unauthorized(self):
        _, user = fakehttp.auth_user(self.headers.get("Authorization", ""))
        if user is not None and self.key_matches(user):
            return None
        return ({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}},
                [("WWW-Authenticate", 'Basic realm="Stripe"')])

    def not_found_body(self, method, path):
        return {"error": {"type": "invalid_request_error",
                          "message": "Unrecognized request URL (%s: %s)." % (method, path)}}

    def parse(self, method, fn, match, query, body):
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if method == "POST" and body and ctype != "application/x-www-form-urlencoded":
            raise param_error(None, "Invalid request: the body must be application/x-www-form-urlencoded.")
        params, pairs = parse_form(body if method == "POST" else query.encode())
        return params, tuple(sorted(pairs)), match.groups()

    def key_invalid_body(self):
        return param_error(None, "Idempotency-Key must be between 1 and 255 characters long.",
                           "idempotency_key_invalid").body

    def key_mismatch_body(self, key):
        return {"error": {
            "type": "idempotency_error",
            "message": "Keys for idempotent requests can only be used with the same "
                       "parameters they were first used with. Try using a key other "
                       "than '%s' if you meant to execute a different request." % key}}

    def key_in_use(self, key):
        return ({"error": {
            "type": "invalid_request_error", "code": "idempotency_key_in_use",
            "message": "There is currently another in-progress request using this "
                       "Idempotent Key (that probably means you submitted twice, and "
                       "the other request is still going through): %s. Please try "
                       "again later." % key}},
                [("Stripe-Should-Retry", "true")])

    def internal_error_body(self):
        return {"error": {"type": "api_error", "message": "An unknown error occurred."}}


class Server(fakehttp.Server):
    NAME = "fake_stripe"
    RID_FORMAT = "req_fake%010d"


def main():
    fakehttp.main(Server, Handler, lambda now, port: State(now),
                  "fake Stripe (PaymentIntents) for shop tests",
                  "environment variable holding the secret key",
                  "fixed 'created' epoch seconds")


if __name__ == "__main__":
    main()
