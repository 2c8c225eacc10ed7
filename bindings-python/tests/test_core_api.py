"""The shape every binding shares with the core: one exception class per core error
category, amounts that never overflow into a bare Python error, words parsed by the
core, and asyncio programs that always exit cleanly."""

import subprocess
import sys
import textwrap

import pytest

import billbridge
from billbridge import _native


def test_every_core_category_has_its_own_exception_class() -> None:
    classes = _native._exception_classes()
    assert set(classes) == {
        "validation",
        "invalid_state",
        "stripe_api",
        "transport",
        "signature",
        "store",
        "internal",
        "io",
    }
    mapped = [cls for cls in classes.values() if cls is not None]
    assert len(mapped) == len(classes), f"unmapped categories: {classes}"
    assert len(set(mapped)) == len(mapped), "each category has a class of its own"
    for category, cls in classes.items():
        assert cls is not None and issubclass(cls, billbridge.BillbridgeError)
        if category != "internal":
            assert cls is not billbridge.InternalError, category
    assert classes["io"] is billbridge.IoError


@pytest.mark.parametrize(
    "make",
    [
        lambda: billbridge.Money(2**63, "usd"),
        lambda: billbridge.Money(-(2**63) - 1, "usd"),
        lambda: billbridge.Money(5, "usd") * 2**64,
        lambda: 2**64 * billbridge.Money(5, "usd"),
        lambda: billbridge.Money.from_stripe_amount(2**70, "usd"),
        lambda: billbridge.Money(2**62, "usd") * 4,
    ],
)
def test_an_int_out_of_an_amounts_range_is_a_validation_error(make: object) -> None:
    with pytest.raises(billbridge.ValidationError) as raised:
        make()  # type: ignore[operator]
    assert raised.value.code == "amount_overflow"


def test_money_is_never_a_float_or_a_bool() -> None:
    with pytest.raises(TypeError):
        billbridge.Money(1.5, "usd")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        billbridge.Money(True, "usd")


def test_words_are_parsed_by_the_core_with_a_code() -> None:
    mock = billbridge.MockStripe()
    bridge = billbridge.Billbridge(stripe=mock, idempotency_secret="a secret kept by the host")
    patient = billbridge.Patient("P-1", "Ada", "Lovelace")
    draft = billbridge.InvoiceDraft(
        patient, host_id="INV-1", lines=[billbridge.InvoiceLine("Visit", billbridge.Money(5000, "gbp"))]
    )
    cases = [
        (lambda: bridge.raise_invoice(draft, mode="finalise"), "unknown_raise_mode"),
        (lambda: bridge.invoices(status="opne"), "unknown_invoice_status"),
        (lambda: billbridge.BillingRate("R", "Rate", invoiced=True, payer="insurer"), "unknown_rate_payer"),
        (lambda: mock.fail_next("/", "gremlins"), "unknown_fault_kind"),
        (lambda: mock.set_webhook_options(signature_time="sundial"), "unknown_signature_time"),
        (lambda: billbridge.MetadataPolicy().with_key("patient_name", "order", "k"), "unknown_metadata_target"),
        (lambda: bridge.mark_paid_outside_stripe("INV-1", method=" "), "argument_out_of_range"),
        (
            lambda: billbridge.InvoiceLine(
                "Visit",
                billbridge.Money(1, "gbp"),
                service_date=__import__("datetime").date(2026, 1, 1),
                period=(__import__("datetime").date(2026, 1, 1), __import__("datetime").date(2026, 1, 2)),
            ),
            "conflicting_arguments",
        ),
        (lambda: billbridge.AppointmentContext(location_id="L-1"), "incomplete_arguments"),
        (
            lambda: billbridge.InvoiceDraft(patient, due_in_days=14, due_on=__import__("datetime").date(2026, 12, 1)),
            "conflicting_arguments",
        ),
    ]
    for call, code in cases:
        with pytest.raises(billbridge.ValidationError) as raised:
            call()
        assert raised.value.code == code


def test_a_panic_in_a_task_is_an_internal_error_not_an_abort() -> None:
    with pytest.raises(billbridge.InternalError) as raised:
        _native._panic_for_tests("boom", in_task=True)
    assert raised.value.code == "panic"


ASYNC_PROGRAM = textwrap.dedent(
    """
    import asyncio
    import billbridge
    from billbridge import aio

    async def main() -> None:
        mock = billbridge.MockStripe()
        bridge = aio.Billbridge(stripe=mock, idempotency_secret="a secret kept by the host")
        ada = billbridge.Patient("P-1", "Ada", "Lovelace", email="ada@example.com")
        await bridge.upsert_customer(ada)
        draft = billbridge.InvoiceDraft(
            ada, host_id="INV-1", lines=[billbridge.InvoiceLine("Visit", billbridge.Money(5000, "gbp"))]
        )
        record = await bridge.raise_invoice(draft, mode="finalize_and_send")
        # Work still in flight when the program ends must not crash the exit either.
        asyncio.ensure_future(bridge.upsert_customer(billbridge.Patient("P-2", "Bob", "Byte")))
        print(record.status, record.amount_due)

    asyncio.run(main())
    """
)


def test_asyncio_programs_exit_cleanly_every_time() -> None:
    # A runtime thread that touched Python while the interpreter finalised killed a
    # few runs in a hundred with SIGSEGV or SIGABRT; every run must exit with 0.
    runs = 100
    failures = []
    for run in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", ASYNC_PROGRAM], capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0 or done.stdout.strip() != "open 50.00 gbp":
            failures.append((run, done.returncode, done.stdout, done.stderr[-500:]))
    assert not failures, failures[:3]


def test_a_bridge_over_the_mock_accepts_its_deliveries_with_no_wiring() -> None:
    mock = billbridge.MockStripe()
    mock.advance(60 * 86_400)  # far from the system's time: nothing depends on the two
    bridge = billbridge.Billbridge(
        stripe=mock, idempotency_secret="a secret kept by the host", webhook_secret=mock.webhook_secret
    )
    bridge.upsert_customer(billbridge.Patient("P-1", "Ada", "Lovelace"))
    deliveries = mock.take_webhooks()
    assert deliveries
    for delivery in deliveries:
        assert bridge.handle_webhook(delivery.body, delivery.signature_header).disposition == "ignored"
        # Signed at the system's time by default: construct_event's defaults accept it.
        event = billbridge.construct_event(delivery.body, delivery.signature_header, mock.webhook_secret)
        assert event.id == delivery.event_id

    mock.set_webhook_options(signature_time="mock_clock")
    bridge.upsert_customer(billbridge.Patient("P-2", "Bob", "Byte"))
    for delivery in mock.take_webhooks():
        assert delivery.signed_at == mock.now
        bridge.handle_webhook(delivery.body, delivery.signature_header)
        with pytest.raises(billbridge.SignatureError) as stale:
            billbridge.construct_event(delivery.body, delivery.signature_header, mock.webhook_secret)
        assert stale.value.code == "timestamp_out_of_tolerance"
        billbridge.construct_event(
            delivery.body, delivery.signature_header, mock.webhook_secret, now=delivery.signed_at
        )


def test_a_forked_child_gets_a_working_runtime() -> None:
    # The parent has used the runtime (its threads exist only in the parent); a forked
    # child must not wait forever on it.
    script = textwrap.dedent(
        """
        import os, sys, billbridge
        stripe = billbridge.MockStripe()
        bridge = billbridge.Billbridge(stripe=stripe, idempotency_secret="fork-test-secret-000001")
        bridge.upsert_customer(billbridge.Patient("P-1", "Ada", "Lovelace"))
        pid = os.fork()
        if pid == 0:
            child = billbridge.Billbridge(stripe=billbridge.MockStripe(), idempotency_secret="fork-test-secret-000001")
            record = child.upsert_customer(billbridge.Patient("P-2", "Bob", "Builder"))
            os._exit(0 if record.outcome == "created" else 3)
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], timeout=60, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
