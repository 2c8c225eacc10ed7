#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/.

Seeds are small, readable and cover each input's shape once: real Stripe fixtures and
webhook vectors from tests/data/stripe, the headers and bodies the SDKs send, and the
edge cases each parser documents. Run it again after adding a target; files it does not
write (inputs saved from fuzzing runs, regressions) are left alone.
"""

import hashlib
import hmac
import json
import pathlib
import struct

FUZZ = pathlib.Path(__file__).resolve().parent
DATA = FUZZ.parent / "tests" / "data" / "stripe"
CORPUS = FUZZ / "corpus"

# Must match fuzz-targets/src/webhook.rs.
SECRET = b"whsec_fuzzing_secret"
NOW = 1_790_000_000
HEADER_BODY = b'{"id":"evt_1","object":"event","type":"ping","created":1,"data":{"object":{}}}'


def write(target: str, name: str, data: bytes) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def signature(timestamp: int, body: bytes, secret: bytes = SECRET) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def fixture(name: str) -> bytes:
    return (DATA / "fixtures" / f"{name}.json").read_bytes()


def webhook_header() -> None:
    genuine = signature(NOW, HEADER_BODY)
    headers = {
        "genuine": f"t={NOW},v1={genuine}",
        "genuine-among-others": f"t={NOW},v0=abc,v1=00,v1={genuine},scheme=x",
        "old": f"t={NOW - 3600},v1={signature(NOW - 3600, HEADER_BODY)}",
        "future": f"t={NOW + 3600},v1={signature(NOW + 3600, HEADER_BODY)}",
        "uppercase-hex": f"t={NOW},v1={genuine.upper()}",
        "spaces": f"t={NOW}, v1={genuine}",
        "padded-timestamp": f"t= {NOW} ,v1={signature(NOW, HEADER_BODY)}",
        "plus-timestamp": f"t=+{NOW},v1={genuine}",
        "negative-timestamp": f"t=-1,v1={signature(-1, HEADER_BODY)}",
        "minimum-timestamp": "t=-9223372036854775808,v1=00",
        "huge-timestamp": "t=99999999999999999999999,v1=00",
        "two-timestamps": f"t=1,t={NOW},v1={genuine}",
        "value-with-equals": f"t={NOW}=1,v1={genuine}=tail",
        "no-value": "t,v1",
        "empty": "",
        "only-commas": ",,,",
        "no-v1": f"t={NOW},v0={genuine}",
        "no-timestamp": f"v1={genuine}",
        "not-a-number": f"t=abc,v1={genuine}",
        "unicode-digits": f"t=١٧٩٠٠٠٠٠٠٠,v1={genuine}",
    }
    for name, header in headers.items():
        write("webhook_header", name, header.encode())
    for vector in json.loads((DATA / "webhook_vectors.json").read_text())["vectors"][:12]:
        write("webhook_header", f"vector-{vector['name']}", vector["header"].encode())


def webhook_event() -> None:
    invoice = json.loads(fixture("invoice"))
    customer = json.loads(fixture("customer"))

    def event(event_type: str, obj: object, **extra: object) -> bytes:
        body = {"id": "evt_1", "object": "event", "type": event_type, "created": NOW,
                "livemode": False, "api_version": "2026-07-29.dahlia",
                "data": {"object": obj, **extra}}
        return json.dumps(body).encode()

    bodies = {
        "fixture-event": fixture("event"),
        "invoice-paid": event("invoice.paid", invoice),
        "invoice-updated": event("invoice.updated", invoice, previous_attributes={"status": "draft"}),
        "customer-created": event("customer.created", customer),
        "unknown-type": event("billing.meter.created", {"id": "mtr_1", "object": "billing.meter"}),
        "null-metadata": event("invoice.finalized", {**invoice, "metadata": None}),
        "wrong-shape": event("invoice.paid", {**invoice, "total": "a lot"}),
        "unknown-currency": event("invoice.paid", {**invoice, "currency": "xyz"}),
        "isk-amounts": event("invoice.paid", {**invoice, "currency": "isk", "total": 12345}),
        "type-last": b'{"id":"evt_2","object":"event","created":1,"data":{"object":{"id":"in_1","object":"invoice"}},"type":"invoice.voided"}',
        "truncated": event("invoice.paid", invoice)[:200],
        "not-json": b"<html>502 Bad Gateway</html>",
        "empty": b"",
        "null": b"null",
        "array": b"[]",
        "deep": b'{"data":' * 40 + b"{}" + b"}" * 40,
    }
    for index, (name, body) in enumerate(bodies.items()):
        write("webhook_event", name, bytes([index]) + body)


def form_round_trip() -> None:
    # Tree mode: the bytes are choices (see fuzz-targets/src/form.rs), so a few
    # arbitrary ones reach every value kind.
    write("form_round_trip", "tree-small", bytes([0, 3, 2, 1, 2, 0, 5, 104, 101, 108, 108, 111]))
    write("form_round_trip", "tree-nested", bytes([0, 4, 3, 5, 6, 7, 6, 3, 2, 9, 7, 2, 1, 1, 0, 3]) + bytes(range(40)))
    write("form_round_trip", "tree-lists", bytes([2, 6, 1, 7, 7, 4, 0, 3, 4, 1, 2, 0, 4]) + b"x" * 30)

    def raw(pairs: list[tuple[str, str]]) -> bytes:
        out = bytearray([1])
        for key, value in pairs:
            for text in (key, value):
                encoded = text.encode()
                out.append(len(encoded))
                out += encoded
        return bytes(out)

    samples = {
        "raw-invoice-lines": [("customer", "cus_1"), ("lines[0][price_data][currency]", "gbp"),
                              ("lines[0][price_data][unit_amount]", "4500"), ("lines[0][quantity]", "2"),
                              ("lines[1][pricing][price]", "price_1"), ("metadata[visit]", "V 9")],
        "raw-append": [("expand[]", "customer"), ("expand[]", "lines"), ("lookup_keys[]", "a")],
        "raw-unset-then-keys": [("metadata", ""), ("metadata[a]", "1"), ("metadata[b]", "")],
        "raw-conflict": [("a[b]", "1"), ("a", "x")],
        "raw-unbalanced": [("a[b", "1"), ("]x[", "2"), ("", "3"), ("[0]", "4")],
        "raw-odd-indices": [("lines[10][quantity]", "3"), ("lines[x][quantity]", "1"), ("lines[-1]", "0")],
        "raw-unicode": [("metadata[名前]", "Zoë & Ana = 100%"), ("description", "a+b c")],
        "raw-integers": [("amount", "9223372036854775808"), ("quantity", " 2 "), ("active", "True")],
    }
    for name, pairs in samples.items():
        write("form_round_trip", name, raw(pairs))


def response_decode() -> None:
    # Header bytes: status index, Stripe-Should-Retry choice, GET/POST, model index.
    statuses = [200, 201, 204, 299, 400, 401, 402, 403, 404, 409, 429, 500, 502, 503, 418, 302]
    models = ["customer", "invoice", "invoiceitem", "line_item", "customer_balance_transaction",
              "price", "product", "credit_note", "payment_intent", "invoice_payment",
              "webhook_endpoint", "deleted_customer"]

    def response(status: int, retry: int, post: int, model: int, body: bytes) -> bytes:
        return bytes([statuses.index(status), retry, post, model]) + body

    for index, name in enumerate(models):
        write("response_decode", f"ok-{name}", response(200, 0, index % 2, index, fixture(name)))
    invoice = json.loads(fixture("invoice"))
    listing = {"object": "list", "data": [invoice], "has_more": False, "url": "/v1/invoices"}
    write("response_decode", "ok-list", response(200, 0, 0, 12, json.dumps(listing).encode()))
    search = {"object": "search_result", "data": [json.loads(fixture("customer"))], "has_more": True,
              "next_page": "page_2", "url": "/v1/customers/search"}
    write("response_decode", "ok-search", response(200, 0, 0, 13, json.dumps(search).encode()))
    write("response_decode", "ok-null-list", response(200, 0, 0, 14, b'{"object":"list","data":null}'))
    write("response_decode", "ok-event", response(200, 0, 0, 15, fixture("event")))

    def error(kind: str, code: str | None = None, **extra: str) -> bytes:
        body: dict[str, object] = {"type": kind, "message": "Your card was declined, ada@example.com."}
        if code:
            body["code"] = code
        body.update(extra)
        return json.dumps({"error": body}).encode()

    errors = {
        "card-declined": (402, 0, error("card_error", "card_declined", decline_code="insufficient_funds")),
        "missing": (404, 0, error("invalid_request_error", "resource_missing", param="id")),
        "idempotency": (400, 1, error("idempotency_error")),
        "lock-timeout": (429, 0, error("invalid_request_error", "lock_timeout")),
        "rate-limited": (429, 2, error("invalid_request_error", "rate_limit")),
        "server": (500, 1, error("api_error")),
        "conflict": (409, 3, error("invalid_request_error")),
        "auth": (401, 0, error("invalid_request_error")),
        "unknown-type": (400, 0, error("temporary_session_expired")),
        "html-proxy": (502, 0, b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
        "not-stripe-shape": (403, 0, b'{"message":"forbidden"}'),
        "redirect": (302, 0, b""),
    }
    for name, (status, retry, body) in errors.items():
        write("response_decode", f"error-{name}", response(status, retry, 1, 0, body))
    malformed = {
        "truncated": fixture("invoice")[:300],
        "empty": b"",
        "wrong-shape": b'{"id":42,"object":"customer"}',
        "null": b"null",
        "text": b"OK",
        "bom": b"\xef\xbb\xbf" + fixture("customer"),
        "trailing": fixture("customer") + b"}",
        "huge-number": b'{"id":"cus_1","object":"customer","balance":1e400}',
    }
    for index, (name, body) in enumerate(malformed.items()):
        write("response_decode", f"malformed-{name}", response(200, 0, index % 2, index % 2, body))


def money_parse() -> None:
    currencies = ["gbp", "jpy", "bhd", "isk", "usd"]
    numbers = [(1250, 3, 4), (-9223372036854775808, -1, -1), (9223372036854775807, 1, 2),
               (99999999, 1, 100), (12345, 100, 3), (1000000, -100, 0)]
    texts = ["12.50", "-0.01", "0", "50", "1.230", "12.345", "12,50", "1e3", " 12", "12.", ".5",
             "+5", "--5", "١٢", "9223372036854775807", "92233720368547758.08",
             "-92233720368547758.08", "-92233720368547758.09", "0000000000000000000000012.50",
             "1." + "0" * 40, "GBP", "gbp", "xyz", ""]
    for index, text in enumerate(texts):
        amount, other, factor = numbers[index % len(numbers)]
        # The target picks the currency from Currency::all(), sorted by code.
        head = bytes([index * 7 % 256]) + struct.pack("<qqq", amount, other, factor)
        write("money_parse", f"text-{index:02}", head + text.encode())


def search_query() -> None:
    queries = [
        (0, "email:'ada@example.com'"),
        (0, "name~'love' AND created>1700000000"),
        (0, "-email:null phone:null"),
        (1, "total>999 metadata['order_id']:'6735'"),
        (1, "status:'open' OR status:'paid'"),
        (1, "currency:\"gbp\" and customer:'cus_1' and created<=1790000000"),
        (1, "number:'INV-0001' AND total:-5"),
        (2, "active:'true' AND name~\"follow\""),
        (3, "lookup_key:'follow-up' type:'one_time' currency:'gbp'"),
        (0, "email:'a' AND email:'b' OR email:'c'"),
        (0, "metadata[order_id]:'1'"),
        (0, r"name:'ada\'s' OR name:'a \"quoted\" name'"),
        (0, "email:'unterminated"),
        (0, " ".join(["email:'a'"] * 11)),
        (1, "total>>5"),
        (1, ""),
    ]
    for index, (resource, query) in enumerate(queries):
        write("search_query", f"query-{index:02}", bytes([resource]) + query.encode())


if __name__ == "__main__":
    webhook_header()
    webhook_event()
    form_round_trip()
    response_decode()
    money_parse()
    search_query()
