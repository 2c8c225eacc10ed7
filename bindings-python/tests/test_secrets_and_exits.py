"""Secrets and personal data never show through the Python binding, and no input,
panic or exit takes the interpreter down.

Secrets: every secret and personal field is given a distinctive canary value, a
practice day runs on the mock, and the ``repr`` and ``str`` of every object met (keys,
transports, policies, bridges, parties, drafts, records, requests, events, webhook
outcomes) and every exception (``str``, ``repr`` and the exception lines of its traceback) are
scanned for the canaries. Stripe's own message, which can echo what was sent, stays on
``exc.message`` only. The library logs nothing of its own (no ``logging`` call in the
package, no print in the core): the whole day runs under ``capfd``, so anything written
to the process's stdout or stderr, by Python or by Rust, is scanned too.

No abort: malformed inputs (wrong types, huge ints, NaN and infinity, lone surrogates,
invalid UTF-8, None), the forced panics (blocking, in a runtime task, awaited) and an
exit with blocking calls still in flight, all in one small program run 50 times in
subprocesses: every run must end with code 0 and its closing line. The asyncio exit
with calls in flight is `test_core_api.py`'s 100-run test.
"""

from __future__ import annotations

import asyncio
import datetime
import http.server
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import billbridge
from billbridge import _native
from billbridge import aio

SECRET_KEY = "sk_test_CanarySecretKey7Qx9Hv"
RESTRICTED_KEY = "rk_live_CanaryRestrictedKey4Zp"
WEBHOOK_SECRET = "whsec_CanaryWebhookSecret3Lm8"
IDEMPOTENCY_SECRET = "canary-idempotency-secret-8Kd2"
PRACTICE_SECRET = b"canary-practice-secret-5Vt1Qa"
PROXY_PASSWORD = "CanaryProxyPassword6Wn"

GIVEN_NAME = "Zebedee"
FAMILY_NAME = "Quillfeather"
EMAIL = "zebedee.quill@canary.example"
NEW_EMAIL = "z.quillfeather@canary.example"
MOBILE = "+447700900987"
POSTCODE = "ZZ9 9QX"
DATE_OF_BIRTH = datetime.date(1968, 7, 14)
GENDER = "Canarygender"
PRACTITIONER_NAME = "Dr Cassia Canaryman"
ORGANISATION_NAME = "Quillfeather Family Trust"
ORGANISATION_EMAIL = "trustee@quill-trust.example"
ORGANISATION_PHONE = "+441170000321"
LINE_DESCRIPTION = "Knee review for Zebedee's canary injury"
LINE_METADATA_VALUE = "canary-line-metadata-value-77"
MEMO = "Canary memo about the patient"
FOOTER = "Canary footer for the patient"
BILLING_ARRANGEMENT = "Canary arrangement with the trust"
BALANCE_REASON = "Canary refund for the missed visit"
PAYMENT_REFERENCE = "CANARY-CHEQUE-REF-4411"

CANARIES = [
    SECRET_KEY,
    "CanarySecretKey7Qx9Hv",
    RESTRICTED_KEY,
    "CanaryRestrictedKey4Zp",
    WEBHOOK_SECRET,
    "CanaryWebhookSecret3Lm8",
    IDEMPOTENCY_SECRET,
    PRACTICE_SECRET.decode(),
    PROXY_PASSWORD,
    GIVEN_NAME,
    FAMILY_NAME,
    EMAIL,
    NEW_EMAIL,
    MOBILE,
    "7700900987",
    POSTCODE,
    DATE_OF_BIRTH.isoformat(),
    "1968, 7, 14",
    GENDER,
    PRACTITIONER_NAME,
    ORGANISATION_NAME,
    ORGANISATION_EMAIL,
    ORGANISATION_PHONE,
    LINE_DESCRIPTION,
    LINE_METADATA_VALUE,
    MEMO,
    FOOTER,
    BILLING_ARRANGEMENT,
    BALANCE_REASON,
    PAYMENT_REFERENCE,
    "1968-02-30",
]


def assert_clean(what: str, shown: str) -> None:
    for canary in CANARIES:
        assert canary not in shown, f"{what} shows {canary!r}: {shown}"


def assert_clean_object(what: str, value: object) -> None:
    assert_clean(f"repr of {what}", repr(value))
    assert_clean(f"str of {what}", str(value))


def assert_clean_exception(what: str, error: BaseException) -> None:
    # The exception lines of a traceback (its source lines quote this file, canaries
    # and all), for the error and every error chained to it.
    current: BaseException | None = error
    while current is not None:
        assert_clean_object(what, current)
        assert_clean(f"traceback of {what}", "".join(traceback.format_exception_only(current)))
        current = current.__cause__ or current.__context__


def raised(call: Callable[[], object]) -> BaseException:
    try:
        call()
    except BaseException as error:  # noqa: BLE001 - the error is what is checked
        return error
    raise AssertionError("expected an exception")


def practitioner() -> billbridge.Practitioner:
    return billbridge.Practitioner("PR-9", PRACTITIONER_NAME)


def zebedee(email: str = EMAIL) -> billbridge.Patient:
    return billbridge.Patient(
        "P-9001",
        GIVEN_NAME,
        FAMILY_NAME,
        date_of_birth=DATE_OF_BIRTH,
        gender=GENDER,
        mobile=MOBILE,
        email=email,
        postcode=POSTCODE,
        registered_practitioner=practitioner(),
    )


def trust() -> billbridge.Organisation:
    return billbridge.Organisation(
        "ORG-9", ORGANISATION_NAME, email=ORGANISATION_EMAIL, phone=ORGANISATION_PHONE
    )


def gbp(pence: int) -> billbridge.Money:
    return billbridge.Money(pence, "gbp")


def appointment() -> billbridge.AppointmentContext:
    return billbridge.AppointmentContext(
        appointment_id="APT-9",
        date=datetime.date(2026, 3, 2),
        location_id="LOC-9",
        location_name="Harbour Street Clinic",
        practitioner=practitioner(),
        billing_and_collection=BILLING_ARRANGEMENT,
    )


def draft(host_id: str) -> billbridge.InvoiceDraft:
    return billbridge.InvoiceDraft(
        zebedee(),
        host_id=host_id,
        lines=[
            billbridge.InvoiceLine(LINE_DESCRIPTION, gbp(6500), metadata={"ward": LINE_METADATA_VALUE}),
            billbridge.InvoiceLine(LINE_DESCRIPTION, gbp(-1500)),
        ],
        memo=MEMO,
        footer=FOOTER,
        due_in_days=14,
        context=appointment(),
    )


def policy() -> billbridge.MetadataPolicy:
    return (
        billbridge.MetadataPolicy.hero_compatible()
        .with_key("patient_email", "customer", "patient_email")
        .with_pseudonym_secret(PRACTICE_SECRET)
    )


def test_keys_secrets_transports_and_bridges_show_no_secret() -> None:
    for key in (billbridge.ApiKey(SECRET_KEY), billbridge.ApiKey(RESTRICTED_KEY)):
        assert_clean_object("ApiKey", key)
    assert str(billbridge.ApiKey(SECRET_KEY)) == "sk_test_[redacted]"
    assert_clean_object("WebhookSecret", billbridge.WebhookSecret(WEBHOOK_SECRET))
    transport = billbridge.HttpTransport(
        SECRET_KEY, base_url=f"https://billing:{PROXY_PASSWORD}@proxy.example/stripe"
    )
    assert_clean_object("HttpTransport", transport)
    assert "proxy.example/stripe" in repr(transport)
    assert_clean_object("MetadataPolicy", policy())
    mock = billbridge.MockStripe(api_key=SECRET_KEY)
    assert_clean_object("MockStripe", mock)
    bridge = billbridge.Billbridge(
        stripe=mock,
        idempotency_secret=IDEMPOTENCY_SECRET,
        webhook_secret=WEBHOOK_SECRET,
        metadata_policy=policy(),
    )
    assert_clean_object("Billbridge", bridge)
    assert_clean_object("aio.Billbridge", aio.Billbridge(stripe=mock, idempotency_secret=IDEMPOTENCY_SECRET))
    assert_clean_object("Practices", billbridge.Practices([bridge]))

    for refused in (
        lambda: billbridge.ApiKey("pk_test_CanarySecretKey7Qx9Hv"),
        lambda: billbridge.ApiKey("sk_CanarySecretKey7Qx9Hv"),
        lambda: billbridge.ApiKey("sk_test_CanarySecretKey7Qx9Hv "),
        lambda: billbridge.HttpTransport(RESTRICTED_KEY.replace("rk_", "xk_")),
        lambda: billbridge.HttpTransport(SECRET_KEY, base_url=f"ftp://billing:{PROXY_PASSWORD}@proxy.example"),
        lambda: billbridge.WebhookSecret("CanaryWebhookSecret3Lm8"),
        lambda: billbridge.Billbridge(stripe=mock, idempotency_secret="CanaryWebhook"),
        lambda: billbridge.MetadataPolicy().with_pseudonym_secret(b"Canary"),
    ):
        error = raised(refused)
        assert isinstance(error, billbridge.ValidationError), repr(error)
        assert_clean_exception("a refused secret", error)


def test_parties_drafts_and_lines_show_ids_and_amounts_only() -> None:
    for what, value in [
        ("Practitioner", practitioner()),
        ("Patient", zebedee()),
        ("Organisation", trust()),
        ("AppointmentContext", appointment()),
        ("InvoiceDraft", draft("INV-P1")),
        ("InvoiceLine", draft("INV-P1").lines[0]),
    ]:
        assert_clean_object(what, value)
    assert "PR-9" in repr(practitioner())

    for refused in (
        lambda: billbridge.Patient("P-9001", GIVEN_NAME, FAMILY_NAME, email=f"{EMAIL} {MOBILE}"),
        lambda: billbridge.Patient("P-9001", GIVEN_NAME, FAMILY_NAME, mobile=f"{MOBILE} {GIVEN_NAME}"),
        lambda: billbridge.Patient.from_dict(
            {"id": "P-9001", "given_name": GIVEN_NAME, "family_name": FAMILY_NAME, "date_of_birth": "1968-02-30"}
        ),
        lambda: billbridge.InvoiceDraft(
            zebedee(), lines=[billbridge.InvoiceLine(LINE_DESCRIPTION, gbp(100), metadata={"ward": LINE_METADATA_VALUE * 20})]
        ).validate(),
    ):
        error = raised(refused)
        assert isinstance(error, (billbridge.ValidationError, ValueError)), repr(error)
        assert_clean_exception("a refused personal value", error)

    # A value in the wrong field of a dict form: the decoder's message names the type it
    # expected, not the value it got.
    base = {"id": "P-9001", "given_name": GIVEN_NAME, "family_name": FAMILY_NAME}
    for refused in (
        lambda: billbridge.Patient.from_dict({**base, "date_of_birth": 19680714}),
        lambda: billbridge.Patient.from_dict({**base, "gender": [GENDER]}),
        lambda: billbridge.InvoiceDraft.from_dict({"payer": {"kind": GIVEN_NAME, "id": "P-9001"}}),
        lambda: billbridge.InvoiceDraft.from_dict({"payer": {"kind": "patient", "id": "P-9001"}, "revision": FAMILY_NAME}),
    ):
        error = raised(refused)
        assert isinstance(error, ValueError), repr(error)
        assert_clean_exception("a dict with a value in the wrong field", error)
        assert "19680714" not in str(error), str(error)


class _RefusingEmail(http.server.BaseHTTPRequestHandler):
    """Answers every request as Stripe answers an email it refuses, quoting it back."""

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = json.dumps(
            {
                "error": {
                    "type": "invalid_request_error",
                    "code": "email_invalid",
                    "param": "email",
                    "message": f"Invalid email address: {EMAIL} ({GIVEN_NAME} {FAMILY_NAME})",
                }
            }
        ).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Request-Id", "req_canary")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST  # noqa: N815 - the name http.server calls

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def refusing_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RefusingEmail)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_stripe_error_echoing_the_request_keeps_its_message_on_message_only(refusing_server: str) -> None:
    bridge = billbridge.Billbridge(
        stripe=billbridge.HttpTransport(SECRET_KEY, base_url=refusing_server),
        idempotency_secret=IDEMPOTENCY_SECRET,
        metadata_policy=policy(),
    )
    error = raised(lambda: bridge.upsert_customer(zebedee()))
    assert isinstance(error, billbridge.StripeApiError), repr(error)
    assert error.code == "stripe_invalid_request"
    assert error.param == "email" and error.request_id == "req_canary"
    assert error.message is not None and EMAIL in error.message, "reachable for the person who asked"
    assert_clean_exception("a Stripe error", error)


def test_a_practice_day_shows_nothing_personal_and_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    mock = billbridge.MockStripe(api_key=SECRET_KEY)
    mock.set_webhook_options(signature_time="mock_clock")
    bridge = billbridge.Billbridge(
        stripe=mock,
        idempotency_secret=IDEMPOTENCY_SECRET,
        webhook_secret=mock.webhook_secret,
        metadata_policy=policy(),
    )
    shown: list[tuple[str, object]] = []
    patient = zebedee()
    shown.append(("CustomerRecord", bridge.upsert_customer(patient)))
    shown.append(("CustomerRecord", bridge.upsert_customer(trust())))
    shown.append(
        ("BalanceAdjustment", bridge.adjust_balance(patient, gbp(-2500), reason=BALANCE_REASON, adjustment_id="ADJ-9"))
    )
    shown.append(("InvoicePreview", bridge.preview(draft("INV-S1"))))
    raised_record = bridge.raise_invoice(draft("INV-S1"), mode="finalize_and_send", patient=patient)
    links = [raised_record.hosted_invoice_url, raised_record.invoice_pdf]
    assert all(links), "a sent invoice has both links"
    assert any(FAMILY_NAME in value for value in raised_record.metadata.values()), "the name is sent as metadata"
    shown.append(("InvoiceRecord", raised_record))
    bridge.raise_invoice(draft("INV-S2"), mode="finalize", patient=patient)
    paid = bridge.mark_paid_outside_stripe("INV-S2", method="cheque", reference=PAYMENT_REFERENCE)
    assert paid.paid_outside_reference == PAYMENT_REFERENCE
    shown.append(("InvoiceRecord paid outside", paid))
    bridge.upsert_customer(zebedee(NEW_EMAIL))

    deliveries = mock.take_webhooks()
    assert any(delivery.event_type == "customer.updated" for delivery in deliveries)
    for delivery in deliveries:
        shown.append(("WebhookDelivery", delivery))
        event = billbridge.construct_event(
            delivery.body, delivery.signature_header, mock.webhook_secret, now=delivery.signed_at
        )
        shown.append(("Event", event))
        outcome = bridge.handle_webhook(delivery.body, delivery.signature_header)
        shown.append(("WebhookOutcome", outcome))
        shown.extend(("WebhookChange", change) for change in outcome.changes)
    forged = raised(lambda: bridge.handle_webhook(deliveries[0].body, "t=1,v1=00"))
    assert isinstance(forged, billbridge.SignatureError)
    assert_clean_exception("a forged delivery", forged)

    portal = bridge.portal(patient)
    shown.append(("Portal", portal))
    shown.extend(("PortalInvoice", invoice) for invoice in portal.invoices)
    shown.extend(("InvoiceRecord", record) for record in bridge.invoices())
    shown.extend(("InvoiceRecord", record) for record in bridge.stripe_invoices())
    today = datetime.datetime.fromtimestamp(mock.now, datetime.timezone.utc).date()
    payments = bridge.payments_received(today - datetime.timedelta(days=30), today + datetime.timedelta(days=30))
    assert payments
    shown.extend(("Payment", payment) for payment in payments)

    requests = mock.requests()
    assert any(("email", EMAIL) in request.params for request in requests), "the email was sent"
    shown.extend(("RecordedRequest", request) for request in requests)

    offline = billbridge.OfflineBilling()
    on = datetime.date(2026, 3, 2)
    shown.append(("offline InvoiceRecord", offline.raise_invoice(draft("INV-O1"), on=on, metadata={"patient_name": GIVEN_NAME})))
    shown.append(
        ("offline InvoiceRecord", offline.record_payment("INV-O1", gbp(1000), method="cheque", on=on, reference=PAYMENT_REFERENCE))
    )
    shown.append(("LedgerRecord", offline.invoice("INV-O1")))

    for what, value in shown:
        assert_clean_object(what, value)
        for link in links:
            assert link is not None and link not in repr(value), f"{what} shows a pay link"

    # Idempotency keys are derived digests: nothing of the patient, the invoice or the
    # secret reaches Stripe's request log through them.
    keys = [request.idempotency_key for request in requests if request.idempotency_key]
    assert len(keys) >= 8
    for key in keys:
        assert re.fullmatch(r"bb1_[0-9a-f]{64}", key), key

    printed = capfd.readouterr()
    assert_clean("stdout", printed.out)
    assert_clean("stderr", printed.err)


MALFORMED = textwrap.dedent(
    """
    import datetime, math
    import billbridge
    from billbridge import _native

    mock = billbridge.MockStripe()
    bridge = billbridge.Billbridge(stripe=mock, idempotency_secret="a secret kept by the host",
                                   webhook_secret=mock.webhook_secret)
    patient = billbridge.Patient("P-1", "Ada", "Lovelace")
    money = billbridge.Money(5000, "gbp")
    line = billbridge.InvoiceLine("Visit", money)
    body = b'{"id": "evt_1", "object": "event", "type": "invoice.paid", "data": {"object": \\xff\\xfe}}'
    signed = billbridge.sign_payload(body, mock.webhook_secret)

    CASES = [
        # Wrong types.
        lambda: billbridge.Money("5000", "gbp"),
        lambda: billbridge.Money(5000, 826),
        lambda: billbridge.Money(True, "gbp"),
        lambda: billbridge.Patient(1001, "Ada", "Lovelace"),
        lambda: billbridge.InvoiceLine(b"Visit", money),
        lambda: billbridge.InvoiceDraft("P-1", lines=[line, "line"]),
        lambda: bridge.upsert_customer("P-1"),
        lambda: bridge.raise_invoice(patient),
        lambda: bridge.handle_webhook(12345, "t=1,v1=00"),
        lambda: billbridge.Billbridge(stripe=object(), idempotency_secret="a secret kept by the host"),
        lambda: billbridge.MockStripe(seed="seven"),
        lambda: money + 5,
        # Ints beyond every range.
        lambda: billbridge.Money(2**200, "gbp"),
        lambda: billbridge.Money(-(2**63) - 1, "gbp"),
        lambda: money * 2**64,
        lambda: billbridge.InvoiceLine("Visit", money, quantity=2**70),
        lambda: billbridge.InvoiceLine("Visit", money, quantity=-1),
        lambda: billbridge.InvoiceDraft(patient, lines=[line], due_in_days=2**40),
        lambda: mock.advance(2**80),
        lambda: mock.set_time(-(2**70)),
        lambda: billbridge.MockStripe(seed=2**70),
        lambda: bridge.resync_changed_since(2**90),
        # NaN and infinity.
        lambda: billbridge.Money(float("nan"), "gbp"),
        lambda: mock.set_latency(float("nan")),
        lambda: mock.set_latency(float("inf")),
        lambda: mock.set_latency(-1.0),
        lambda: billbridge.HttpTransport("sk_test_abc123", timeout=float("nan")),
        lambda: billbridge.HttpTransport("sk_test_abc123", connect_timeout=float("inf")),
        lambda: mock.fail_randomly("/v1/customers", "server_error", rate=float("nan")),
        lambda: billbridge.InvoiceLine("Visit", money, quantity=float("inf")),
        # Lone surrogates, which UTF-8 cannot carry, and bytes that are not UTF-8.
        lambda: billbridge.Patient("P-\\ud800", "Ada", "Lovelace"),
        lambda: billbridge.InvoiceLine("Visit \\udcff", money),
        lambda: billbridge.ApiKey("sk_test_\\ud800"),
        lambda: billbridge.Money.parse("1\\ud800", "gbp"),
        lambda: billbridge.WebhookSecret("whsec_\\udfff"),
        lambda: bridge.handle_webhook("{\\ud800}", signed),
        lambda: bridge.handle_webhook(body, signed),
        lambda: billbridge.parse(body),
        lambda: billbridge.construct_event(body, signed, mock.webhook_secret),
        lambda: bridge.invoice("INV-\\ud800"),
        # None where a value is required.
        lambda: billbridge.Patient(None, "Ada", "Lovelace"),
        lambda: billbridge.Money(None, "gbp"),
        lambda: billbridge.InvoiceLine(None, money),
        lambda: billbridge.InvoiceDraft(None),
        lambda: bridge.upsert_customer(None),
        lambda: bridge.invoice(None),
        lambda: bridge.handle_webhook(None, None),
        lambda: billbridge.construct_event(body, None, mock.webhook_secret),
    ]
    refused = 0
    for index, case in enumerate(CASES):
        try:
            case()
        except Exception:
            refused += 1
        except BaseException as error:
            print("case", index, "escaped as", type(error).__name__, error)
            raise SystemExit(3)
        else:
            print("case", index, "was accepted")
            raise SystemExit(4)
    """
)

PANICS = textwrap.dedent(
    """
    import asyncio
    import billbridge
    from billbridge import _native

    panics = 0
    # Outside a task, pyo3 turns the panic into its PanicException.
    try:
        _native._panic_for_tests("forced blocking panic")
    except BaseException as error:
        assert type(error).__name__ == "PanicException", repr(error)
        panics += 1
    # In a runtime task, blocking or awaited: billbridge's InternalError, code "panic".
    async def awaited():
        await _native._panic_for_tests_async("forced awaited panic")

    for run in (
        lambda: _native._panic_for_tests("forced task panic", in_task=True),
        lambda: asyncio.run(awaited()),
    ):
        try:
            run()
        except billbridge.InternalError as error:
            assert error.code == "panic", error.code
            panics += 1
    """
)

EXIT_IN_FLIGHT = textwrap.dedent(
    """
    import sys, threading
    mock.set_latency(0.02)
    started = threading.Barrier(5)

    def work(index):
        started.wait()
        for round in range(20):
            bridge.upsert_customer(billbridge.Patient(f"P-{index}-{round}", "Ada", "Lovelace"))

    for index in range(4):
        threading.Thread(target=work, args=(index,), daemon=True).start()
    started.wait()
    print(f"refused {refused} of {len(CASES)}, caught {panics} panics, exiting with calls in flight")
    sys.stdout.flush()
    if EXIT == "sys.exit":
        sys.exit(0)
    """
)


def test_malformed_inputs_are_refused_with_exceptions() -> None:
    # The same program the subprocess loop runs, here once in-process for a readable
    # failure: every case raises an Exception, none is accepted or escapes.
    namespace: dict[str, Any] = {}
    exec(compile(MALFORMED, "malformed", "exec"), namespace)
    assert namespace["refused"] == len(namespace["CASES"])


def test_panics_are_exceptions_and_the_interpreter_keeps_working() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(PANICS, "panics", "exec"), namespace)
    assert namespace["panics"] == 3
    assert billbridge.Money(1, "gbp") + billbridge.Money(1, "gbp") == billbridge.Money(2, "gbp")


def test_no_input_panic_or_exit_with_calls_in_flight_ever_crashes_the_process() -> None:
    # A crash shows as a negative return code (the signal) or a missing closing line;
    # a run that lost its calls at exit must still end with code 0.
    # stderr buffered, as in a deployed program: a daemon thread that raised while the
    # interpreter finalized aborted the process on the buffer's lock, which an
    # unbuffered stderr (PYTHONUNBUFFERED) would hide.
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    environment["RUST_BACKTRACE"] = "0"
    runs = 50
    failures = []
    for run in range(runs):
        exit_mode = "sys.exit" if run % 2 else "return"
        program = f"EXIT = {exit_mode!r}\n" + MALFORMED + PANICS + EXIT_IN_FLIGHT
        done = subprocess.run(
            [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, env=environment
        )
        expected = "caught 3 panics, exiting with calls in flight"
        if done.returncode != 0 or expected not in done.stdout:
            failures.append((run, exit_mode, done.returncode, done.stdout[-300:], done.stderr[-800:]))
    assert not failures, failures[:3]
