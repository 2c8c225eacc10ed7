"""The bridge over the mock Stripe: customers, balances, previews, bad input that
sends nothing, Stripe and transport failures, the SQLite store and asyncio."""

from __future__ import annotations

import asyncio
import pathlib

import pytest

import billbridge
from billbridge import aio
from conftest import IDEMPOTENCY_SECRET


def test_upsert_creates_once_then_sends_nothing_when_unchanged(
    bridge: billbridge.Billbridge, mock: billbridge.MockStripe, john: billbridge.Patient
) -> None:
    created = bridge.upsert_customer(john)
    assert (created.outcome, created.party_kind, created.host_party_id) == ("created", "patient", "P-1001")
    assert created.stripe_customer_id.startswith("cus_")
    sent = len(mock.requests())
    again = bridge.upsert_customer(john)
    assert again.outcome == "unchanged"
    assert len(mock.requests()) == sent
    assert bridge.customer_id(john) == created.stripe_customer_id


def test_switched_off_fields_never_reach_stripe(
    bridge: billbridge.Billbridge, mock: billbridge.MockStripe
) -> None:
    patient = billbridge.Patient("P-1", "Ada", "Lovelace", gender="female")
    bridge.upsert_customer(patient)
    params = [value for request in mock.requests() for _key, value in request.params]
    assert "Ada Lovelace" in params
    assert "female" not in params


def test_credit_is_applied_by_the_preview(
    bridge: billbridge.Billbridge, mock: billbridge.MockStripe, john: billbridge.Patient
) -> None:
    bridge.upsert_customer(john)
    adjustment = bridge.adjust_balance(
        john, billbridge.Money(-5000, "gbp"), reason="Missed pre-paid follow-up", adjustment_id="APT-1"
    )
    assert adjustment.ending_balance == billbridge.Money(-5000, "gbp")
    replay = bridge.adjust_balance(
        john, billbridge.Money(-5000, "gbp"), reason="Missed pre-paid follow-up", adjustment_id="APT-1"
    )
    assert replay.stripe_transaction_id == adjustment.stripe_transaction_id
    assert bridge.balance(john) == billbridge.Money(-5000, "gbp")
    draft = billbridge.InvoiceDraft(
        john,
        lines=[
            billbridge.InvoiceLine("Follow-up session", billbridge.Money(5000, "gbp")),
            billbridge.InvoiceLine("Home blood test kit", billbridge.Money(3500, "gbp")),
        ],
    )
    posts_before = sum(request.method == "POST" for request in mock.requests())
    preview = bridge.preview(draft)
    assert (preview.total, preview.amount_due) == (billbridge.Money(8500, "gbp"), billbridge.Money(3500, "gbp"))
    assert preview.ending_balance == billbridge.Money(0, "gbp")
    assert sum(request.method == "POST" for request in mock.requests()) == posts_before


def test_default_payer_is_used_for_previews(
    bridge: billbridge.Billbridge, mock: billbridge.MockStripe
) -> None:
    insurer = billbridge.Organisation("ORG-1", "Northwind Insurance Ltd", email="claims@northwind.example")
    maria = billbridge.Patient("P-1002", "María", "López", default_payer="ORG-1")
    bridge.upsert_customer(insurer)
    bridge.upsert_customer(maria)
    assert bridge.default_payer("P-1002") == "ORG-1"
    draft = billbridge.InvoiceDraft(maria, lines=[billbridge.InvoiceLine("Initial assessment", billbridge.Money(7500, "gbp"))])
    assert bridge.preview(draft).payer == billbridge.PayerRef.organisation("ORG-1")
    assert bridge.clear_default_payer("P-1002") is True
    assert bridge.default_payer("P-1002") is None


@pytest.mark.parametrize(
    ("call", "exception", "code"),
    [
        (
            lambda bridge: bridge.upsert_customer(billbridge.Patient.from_dict({"id": "P-9", "given_name": " ", "family_name": ""})),
            billbridge.ValidationError,
            "missing_name",
        ),
        (
            lambda bridge: bridge.balance(billbridge.PayerRef.patient("P-404")),
            billbridge.InvalidStateError,
            "customer_not_synced",
        ),
        (
            lambda bridge: bridge.adjust_balance(
                billbridge.PayerRef.patient("P-404"), billbridge.Money(-100, "gbp"), reason="x", adjustment_id="A-1"
            ),
            billbridge.InvalidStateError,
            "customer_not_synced",
        ),
    ],
)
def test_bad_input_raises_the_right_exception_and_sends_nothing(
    bridge: billbridge.Billbridge, mock: billbridge.MockStripe, call: object, exception: type, code: str
) -> None:
    with pytest.raises(exception) as raised:
        call(bridge)  # type: ignore[operator]
    assert raised.value.code == code
    assert mock.requests() == []


def test_a_short_idempotency_secret_is_refused(mock: billbridge.MockStripe) -> None:
    with pytest.raises(billbridge.ValidationError):
        billbridge.Billbridge(stripe=mock, idempotency_secret="short")


def test_stripe_errors_carry_status_and_request_id(
    bridge: billbridge.Billbridge, mock: billbridge.MockStripe, john: billbridge.Patient
) -> None:
    mock.fail_next("/v1/customers", "rate_limited", times=10)
    with pytest.raises(billbridge.StripeApiError) as raised:
        bridge.upsert_customer(john)
    error = raised.value
    assert error.status == 429
    assert error.stripe_code == "rate_limit"
    assert error.request_id is not None and error.request_id.startswith("req_")
    assert error.code.startswith("stripe_")


def test_a_lost_connection_is_a_transport_error(
    bridge: billbridge.Billbridge, mock: billbridge.MockStripe, john: billbridge.Patient
) -> None:
    mock.fail_next("/v1/customers", "connection_reset", times=10)
    with pytest.raises(billbridge.TransportError) as raised:
        bridge.upsert_customer(john)
    assert raised.value.code == "stripe_connection_error"
    mock.clear_faults()
    assert bridge.upsert_customer(john).outcome == "created"


def test_the_sqlite_store_remembers_customers_across_bridges(
    tmp_path: pathlib.Path, mock: billbridge.MockStripe, john: billbridge.Patient
) -> None:
    path = tmp_path / "billbridge.sqlite"
    first = billbridge.Billbridge(stripe=mock, idempotency_secret=IDEMPOTENCY_SECRET, store=billbridge.SqliteStore(path))
    created = first.upsert_customer(john)
    second = billbridge.Billbridge(stripe=mock, idempotency_secret=IDEMPOTENCY_SECRET, store=billbridge.SqliteStore(str(path)))
    assert second.upsert_customer(john).outcome == "unchanged"
    assert second.customer_id(john) == created.stripe_customer_id


def test_the_mock_delivers_signed_webhooks(bridge: billbridge.Billbridge, mock: billbridge.MockStripe, john: billbridge.Patient) -> None:
    bridge.upsert_customer(john)
    deliveries = mock.take_webhooks()
    assert [delivery.event_type for delivery in deliveries][:1] == ["customer.created"]
    event = billbridge.construct_event(deliveries[0].body, deliveries[0].signature_header, mock.webhook_secret)
    assert event.id == deliveries[0].event_id
    assert event.object_id == bridge.customer_id(john)
    assert mock.take_webhooks() == []


def test_bridge_repr_shows_no_secret(bridge: billbridge.Billbridge) -> None:
    assert IDEMPOTENCY_SECRET not in repr(bridge)


def test_two_concurrent_awaitables_both_complete(mock: billbridge.MockStripe) -> None:
    store = billbridge.MemoryStore()
    bridge = aio.Billbridge(stripe=mock, idempotency_secret=IDEMPOTENCY_SECRET, store=store)
    ada = billbridge.Patient("P-1", "Ada", "Lovelace")
    grace = billbridge.Patient("P-2", "Grace", "Hopper")

    async def day() -> list[billbridge.CustomerRecord]:
        return list(await asyncio.gather(bridge.upsert_customer(ada), bridge.upsert_customer(grace)))

    records = asyncio.run(day())
    assert sorted(record.host_party_id for record in records) == ["P-1", "P-2"]
    assert len({record.stripe_customer_id for record in records}) == 2
    blocking = billbridge.Billbridge(stripe=mock, idempotency_secret=IDEMPOTENCY_SECRET, store=store)
    assert blocking.upsert_customer(ada).outcome == "unchanged"


def test_async_errors_raise_the_same_exceptions(mock: billbridge.MockStripe) -> None:
    bridge = aio.Billbridge(stripe=mock, idempotency_secret=IDEMPOTENCY_SECRET)

    async def missing() -> billbridge.Money:
        return await bridge.balance(billbridge.PayerRef.patient("P-404"))

    with pytest.raises(billbridge.InvalidStateError) as raised:
        asyncio.run(missing())
    assert raised.value.code == "customer_not_synced"


def test_the_mock_serves_over_loopback_http(mock: billbridge.MockStripe) -> None:
    server = mock.serve()
    try:
        assert server.url.startswith("http://127.0.0.1:")
    finally:
        server.shutdown()


def follow_up_draft(patient: billbridge.Patient, host_id: str) -> billbridge.InvoiceDraft:
    return billbridge.InvoiceDraft(
        patient,
        host_id=host_id,
        lines=[billbridge.InvoiceLine("Follow-up session", billbridge.Money(5000, "gbp"))],
        due_in_days=14,
    )


def test_raising_twice_gives_one_invoice(
    bridge: billbridge.Billbridge, mock: billbridge.MockStripe, john: billbridge.Patient
) -> None:
    bridge.upsert_customer(john)
    draft = follow_up_draft(john, "INV-1")
    first = bridge.raise_invoice(draft, mode="finalize_and_send")
    again = bridge.raise_invoice(draft, mode="finalize_and_send")
    assert first.stripe_invoice_id == again.stripe_invoice_id
    assert (first.status, first.amount_due) == ("open", billbridge.Money(5000, "gbp"))
    assert first.number is not None and first.hosted_invoice_url is not None
    creates = [request for request in mock.requests() if request.method == "POST" and request.path == "/v1/invoices"]
    assert len(creates) == 1
    assert bridge.invoice("INV-1") is not None and bridge.invoice("INV-404") is None


def test_an_illegal_transition_raises_invalid_state_and_sends_nothing(
    bridge: billbridge.Billbridge, mock: billbridge.MockStripe, john: billbridge.Patient
) -> None:
    bridge.upsert_customer(john)
    bridge.raise_invoice(follow_up_draft(john, "INV-1"), mode="finalize_and_send")
    bridge.mark_paid_outside_stripe("INV-1", method="cash", reference="R-1")
    sent = len(mock.requests())
    with pytest.raises(billbridge.InvalidStateError) as raised:
        bridge.void("INV-1")
    assert raised.value.category == "invalid_state"
    assert raised.value.code
    assert len(mock.requests()) == sent


def test_the_webhook_of_a_hosted_payment_marks_the_invoice_paid(mock: billbridge.MockStripe, john: billbridge.Patient) -> None:
    bridge = billbridge.Billbridge(stripe=mock, idempotency_secret=IDEMPOTENCY_SECRET, webhook_secret=mock.webhook_secret)
    bridge.upsert_customer(john)
    record = bridge.raise_invoice(follow_up_draft(john, "INV-1"), mode="finalize_and_send")
    mock.take_webhooks()
    mock.pay_invoice(record.stripe_invoice_id)
    deliveries = mock.take_webhooks()
    outcomes = [bridge.handle_webhook(delivery.body, delivery.signature_header) for delivery in deliveries]
    paid = [change for outcome in outcomes for change in outcome.changes if change.kind == "invoice_paid"]
    assert paid and paid[0].host_invoice_id == "INV-1"
    assert paid[0].amount_paid == billbridge.Money(5000, "gbp")
    after = bridge.invoice("INV-1")
    assert after is not None and after.status == "paid"
    duplicate = bridge.handle_webhook(deliveries[0].body, deliveries[0].signature_header)
    assert duplicate.disposition == "duplicate"
    with pytest.raises(billbridge.SignatureError) as raised:
        bridge.handle_webhook(deliveries[0].body, "t=1,v1=00")
    assert raised.value.code in {"signature_mismatch", "timestamp_out_of_tolerance"}


def test_a_card_decline_is_a_stripe_api_error_with_a_decline_code(
    bridge: billbridge.Billbridge, mock: billbridge.MockStripe, john: billbridge.Patient
) -> None:
    bridge.upsert_customer(john)
    record = bridge.raise_invoice(follow_up_draft(john, "INV-1"), mode="finalize_and_send")
    with pytest.raises(billbridge.StripeApiError) as raised:
        mock.pay_invoice(record.stripe_invoice_id, payment_method="pm_card_chargeDeclinedInsufficientFunds")
    assert raised.value.status == 402
    assert raised.value.stripe_type == "card_error"
    assert raised.value.stripe_code == "card_declined"
    assert raised.value.decline_code == "insufficient_funds"
    # Stripe's text is there for the front desk, but never in str() or repr(): Stripe
    # can echo what was submitted in it.
    assert raised.value.message == "Your card was declined."
    assert "declined." not in str(raised.value) and "declined." not in repr(raised.value)
    assert raised.value.request_id is not None and raised.value.request_id.startswith("req_")


def test_async_raise_and_resync(mock: billbridge.MockStripe, john: billbridge.Patient) -> None:
    bridge = aio.Billbridge(stripe=mock, idempotency_secret=IDEMPOTENCY_SECRET)

    async def flow() -> tuple[billbridge.InvoiceRecord, billbridge.InvoiceRecord]:
        await bridge.upsert_customer(john)
        raised, _ = await asyncio.gather(
            bridge.raise_invoice(follow_up_draft(john, "INV-A"), mode="finalize"),
            bridge.raise_invoice(follow_up_draft(john, "INV-B")),
        )
        return raised, await bridge.resync_invoice("INV-A")

    raised, resynced = asyncio.run(flow())
    assert raised.status == "open"
    assert resynced.stripe_invoice_id == raised.stripe_invoice_id


def test_bulk_upserts_report_each_party_and_progress(
    bridge: billbridge.Billbridge, mock: billbridge.MockStripe
) -> None:
    parties: list[billbridge.Patient | billbridge.Organisation] = [
        billbridge.Patient(f"P-{index}", "Patient", f"Number {index}") for index in range(6)
    ]
    parties.append(billbridge.Organisation("ORG-1", "Northwind Insurance Ltd"))
    steps: list[tuple[int, int, int]] = []
    results = bridge.upsert_customers(parties, concurrency=3, progress=lambda done, failed, total: steps.append((done, failed, total)))
    assert [result.index for result in results] == list(range(7))
    assert all(result.ok for result in results)
    assert {result.value.host_party_id for result in results if isinstance(result.value, billbridge.CustomerRecord)} == {
        party.id for party in parties
    }
    assert steps and steps[-1] == (7, 0, 7)


def test_one_bulk_failure_does_not_stop_the_rest(
    bridge: billbridge.Billbridge, mock: billbridge.MockStripe, john: billbridge.Patient
) -> None:
    bridge.upsert_customer(john)
    good = follow_up_draft(john, "INV-1")
    unknown = follow_up_draft(billbridge.Patient("P-404", "No", "Customer"), "INV-2")
    results = bridge.raise_invoices([good, (unknown, billbridge.Patient("P-404", "No", "Customer"))], mode="finalize")
    assert results[0].ok and isinstance(results[0].value, billbridge.InvoiceRecord)
    assert not results[1].ok and results[1].value is None
    assert isinstance(results[1].error, billbridge.InvalidStateError)
    assert results[1].error.code == "customer_not_synced"
