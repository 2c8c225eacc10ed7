"""The table of bad inputs (tests/data/bad_inputs.json) through the Python binding.

Each row must raise the BillbridgeError subclass of its category with the core's code,
never crash the interpreter, and leave nothing half-sent: the mock's request log is
unchanged (or holds only 401 refusals), the loopback stub saw exactly the expected
attempts under one idempotency key, and the bridge recorded nothing. The Rust, Node and
Kotlin tests read the same table.
"""

from __future__ import annotations

import datetime
import http.client
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest

import billbridge
from conftest import DATA, IDEMPOTENCY_SECRET

TABLE: dict[str, Any] = json.loads((DATA / "bad_inputs.json").read_text(encoding="utf-8"))
ROWS: list[dict[str, Any]] = TABLE["rows"]
RUNS_HERE = {kind for kind, about in TABLE["kinds"].items() if "python" in about["bindings"]}
NOW = 1_790_000_000
ENDPOINT_SECRET = "whsec_bad_input_endpoint"

CLASSES: dict[str, type[billbridge.BillbridgeError]] = {
    "validation": billbridge.ValidationError,
    "invalid_state": billbridge.InvalidStateError,
    "stripe_api": billbridge.StripeApiError,
    "transport": billbridge.TransportError,
    "signature": billbridge.SignatureError,
    "store": billbridge.StoreError,
    "internal": billbridge.InternalError,
    "io": billbridge.IoError,
}


def expand(value: Any) -> Any:
    """The table's generated values: `{"repeat"…}` strings and `{"entries"…}` maps."""
    if isinstance(value, dict):
        if "repeat" in value:
            return value.get("prefix", "") + value["repeat"] * value["times"] + value.get("suffix", "")
        if "entries" in value:
            return {f"{value['key']}{index}": value["value"] for index in range(value["entries"])}
        return {key: expand(item) for key, item in value.items()}
    if isinstance(value, list):
        return [expand(item) for item in value]
    return value


def john() -> billbridge.Patient:
    return billbridge.Patient("P-1001", "John", "Deer")


def line(spec: dict[str, Any], index: int) -> billbridge.InvoiceLine:
    return billbridge.InvoiceLine(
        f"Session {index + 1}",
        billbridge.Money(spec["unit_amount"], spec.get("currency", "gbp")),
        quantity=spec.get("quantity", 1),
        metadata=spec.get("metadata"),
    )


def draft(lines: list[dict[str, Any]]) -> billbridge.InvoiceDraft:
    return billbridge.InvoiceDraft(
        john(), host_id="INV-1", lines=[line(spec, index) for index, spec in enumerate(lines)]
    )


def practice() -> tuple[billbridge.MockStripe, billbridge.Billbridge]:
    mock = billbridge.MockStripe(seed=7)
    bridge = billbridge.Billbridge(
        stripe=mock, idempotency_secret=IDEMPOTENCY_SECRET, webhook_secret=mock.webhook_secret
    )
    bridge.upsert_customer(john())
    return mock, bridge


# ---------------------------------------------------------------- pure kinds


def money_parse(row: dict[str, Any], given: dict[str, Any]) -> None:
    billbridge.Money.parse(given["text"], given["currency"])


def currency(row: dict[str, Any], given: dict[str, Any]) -> None:
    billbridge.Currency(given["code"])


def money_arithmetic(row: dict[str, Any], given: dict[str, Any]) -> None:
    left = billbridge.Money(given["amount"], given["currency"])
    if given["op"] == "mul":
        left.mul(given["factor"])
        return
    right = billbridge.Money(given["other"]["amount"], given["other"]["currency"])
    {"add": left.add, "sub": left.sub}[given["op"]](right)


def invoice_total(row: dict[str, Any], given: dict[str, Any]) -> None:
    draft(given["lines"]).total()


def metadata_render(row: dict[str, Any], given: dict[str, Any]) -> None:
    billbridge.MetadataPolicy().render("invoice", {}, extra=given["extra"])


def metadata_policy_key(row: dict[str, Any], given: dict[str, Any]) -> None:
    billbridge.MetadataPolicy().with_key(given["field"], given["target"], given["key"]).validate()


# ---------------------------------------------------------------- over the mock


def raise_lines(row: dict[str, Any], given: dict[str, Any]) -> None:
    mock, bridge = practice()
    sent = len(mock.requests())
    try:
        bridge.raise_invoice(draft(given["lines"]), mode="draft", patient=john())
    finally:
        assert len(mock.requests()) == sent, "a refused raise sent a request"
        assert bridge.invoice("INV-1") is None


def act(bridge: billbridge.Billbridge, action: str) -> None:
    if action == "mark_paid_outside_stripe":
        bridge.mark_paid_outside_stripe("INV-1", method="cash")
        return
    getattr(bridge, action)("INV-1")


def transition(row: dict[str, Any], given: dict[str, Any]) -> None:
    mock, bridge = practice()
    bridge.raise_invoice(draft([{"unit_amount": 5000}]), mode="draft", patient=john())
    for step in given["steps"]:
        act(bridge, step)
    before = bridge.invoice("INV-1")
    assert before is not None
    sent = len(mock.requests())
    try:
        act(bridge, given["action"])
    finally:
        assert len(mock.requests()) == sent, "an illegal transition sent a request"
        after = bridge.invoice("INV-1")
        assert after is not None and after.status == before.status


def raw_create_customer(url: str, key: str) -> int:
    """Sends `key` straight to the mock's HTTP front, as any HTTP client would."""
    address = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port)
    try:
        connection.request(
            "POST",
            "/v1/customers",
            body="name=Ada",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-www-form-urlencoded"},
        )
        return connection.getresponse().status
    finally:
        connection.close()


def only_refusals(mock: billbridge.MockStripe) -> None:
    assert all(request.status == 401 for request in mock.requests()), [
        (request.path, request.status) for request in mock.requests()
    ]


def api_key(row: dict[str, Any], given: dict[str, Any]) -> None:
    mock = billbridge.MockStripe(seed=7)
    server = mock.serve()
    try:
        try:
            transport = billbridge.HttpTransport(given["key"], base_url=server.url)
            bridge = billbridge.Billbridge(stripe=transport, idempotency_secret=IDEMPOTENCY_SECRET)
            bridge.upsert_customer(john())
        except billbridge.ValidationError:
            assert mock.requests() == [], "a key refused by the client reached the mock"
            raise
        finally:
            only_refusals(mock)
            if "mock_http_status" in row:
                assert raw_create_customer(server.url, given["key"]) == row["mock_http_status"]
                only_refusals(mock)
    finally:
        server.shutdown()


class Stub:
    """A loopback HTTP server answering every request with the same bytes, then
    closing the connection: bodies, content types and framings Stripe never sends."""

    def __init__(self, response: bytes) -> None:
        self.response = response
        self.keys: list[str | None] = []
        self.closing = False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            connection, _ = self.listener.accept()
            if self.closing:
                connection.close()
                return
            with connection:
                self.answer(connection)

    def answer(self, connection: socket.socket) -> None:
        # A safety net only: the client always sends a whole request.
        connection.settimeout(10)
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = connection.recv(4096)
            if not chunk:
                return
            request += chunk
        head, _, body = request.partition(b"\r\n\r\n")
        headers = {}
        for header in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
        while len(body) < int(headers.get("content-length", "0")):
            chunk = connection.recv(4096)
            if not chunk:
                break
            body += chunk
        self.keys.append(headers.get("idempotency-key"))
        connection.sendall(self.response)

    def close(self) -> None:
        # Closing the socket does not wake a blocked accept(): a last connection does.
        self.closing = True
        socket.create_connection(self.listener.getsockname()).close()
        self.thread.join()
        self.listener.close()


def response_bytes(given: dict[str, Any]) -> bytes:
    body = given["body"].encode()
    length = given.get("declared_length", len(body))
    reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}.get(given["status"], "Status")
    head = (
        f"HTTP/1.1 {given['status']} {reason}\r\nContent-Type: {given['content_type']}\r\n"
        f"Content-Length: {length}\r\nRequest-Id: req_stub\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def api_response(row: dict[str, Any], given: dict[str, Any]) -> None:
    stub = Stub(response_bytes(given))
    try:
        transport = billbridge.HttpTransport("sk_test_51BadInputStub", base_url=stub.url)
        bridge = billbridge.Billbridge(stripe=transport, idempotency_secret=IDEMPOTENCY_SECRET)
        try:
            bridge.upsert_customer(john())
        except billbridge.BillbridgeError as error:
            assert error.status == row["http_status"], "status in the details"
            raise
        finally:
            assert len(stub.keys) == row["attempts"], stub.keys
            assert stub.keys[0] is not None, "a POST without an idempotency key"
            assert set(stub.keys) == {stub.keys[0]}, "the retries changed the idempotency key"
            assert bridge.customer_id(john().payer) is None, "the host recorded a customer"
    finally:
        stub.close()


def webhook_header(given: dict[str, Any], body: bytes, endpoint: str, now: int) -> str | None:
    sign = given.get("sign")
    if sign is None:
        header: str | None = given["header"]
        return header
    return billbridge.sign_payload(body, sign.get("secret", endpoint), timestamp=now - sign["age"])


def webhook(row: dict[str, Any], given: dict[str, Any]) -> None:
    body = given["body"].encode()
    with pytest.raises(billbridge.BillbridgeError) as pure:
        billbridge.construct_event(body, webhook_header(given, body, ENDPOINT_SECRET, NOW), ENDPOINT_SECRET, now=NOW)
    mock, bridge = practice()
    sent = len(mock.requests())
    header = webhook_header(given, body, mock.webhook_secret, int(time.time()))
    try:
        bridge.handle_webhook(body, header)
    except billbridge.BillbridgeError as handled:
        assert handled.code == pure.value.code, "construct_event and handle_webhook disagree"
        raise
    finally:
        assert len(mock.requests()) == sent, "a refused delivery sent a request"


RUNNERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], None]] = {
    "money_parse": money_parse,
    "currency": currency,
    "money_arithmetic": money_arithmetic,
    "invoice_total": invoice_total,
    "metadata_render": metadata_render,
    "metadata_policy_key": metadata_policy_key,
    "raise_lines": raise_lines,
    "transition": transition,
    "api_key": api_key,
    "api_response": api_response,
    "webhook": webhook,
}


def rows_here() -> list[Any]:
    return [pytest.param(row, id=row["name"]) for row in ROWS if row["kind"] in RUNS_HERE]


def test_this_binding_runs_exactly_the_kinds_the_table_gives_it() -> None:
    assert set(RUNNERS) == RUNS_HERE


@pytest.mark.parametrize("row", rows_here())
def test_bad_input_gives_its_typed_error_and_sends_nothing(row: dict[str, Any]) -> None:
    runner = RUNNERS[row["kind"]]
    with pytest.raises(billbridge.BillbridgeError) as raised:
        runner(row, expand(row["input"]))
    error = raised.value
    assert (error.code, error.category) == (row["code"], row["category"]), str(error)
    assert type(error) is CLASSES[row["category"]]
    # Rendering never fails either.
    assert str(error) and repr(error)
