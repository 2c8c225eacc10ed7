"""The payer portal, every invoice query filter, and the mock's probabilistic faults,
latency and rate limit."""

from __future__ import annotations

import asyncio
import datetime
import time

import pytest

import billbridge
import billbridge.aio
from conftest import IDEMPOTENCY_SECRET

DAY = datetime.date(2026, 11, 20)


def gbp(amount: int) -> billbridge.Money:
    return billbridge.Money(amount, "gbp")


def draft(payer: billbridge.Patient, host_id: str, amount: int, **options: object) -> billbridge.InvoiceDraft:
    return billbridge.InvoiceDraft(
        payer,
        host_id=host_id,
        lines=[billbridge.InvoiceLine("Follow-up session", gbp(amount))],
        **options,  # type: ignore[arg-type]
    )


def test_the_portal_shows_paid_and_unpaid_invoices_with_pay_links(
    bridge: billbridge.Billbridge, john: billbridge.Patient
) -> None:
    bridge.upsert_customer(john)
    bridge.raise_invoice(draft(john, "INV-1", 5000, due_in_days=14), mode="finalize_and_send")
    bridge.raise_invoice(draft(john, "INV-2", 3000, due_in_days=14), mode="finalize_and_send")
    bridge.raise_invoice(draft(john, "INV-3", 1000, due_in_days=14), mode="draft")
    bridge.mark_paid_outside_stripe("INV-2", method="cash")

    portal = bridge.portal(john)
    assert portal.payer == billbridge.PayerRef.patient("P-1001")
    assert [entry.invoice.host_invoice_id for entry in portal.invoices] == ["INV-1", "INV-2"]
    unpaid = portal.unpaid()
    assert [entry.invoice.host_invoice_id for entry in unpaid] == ["INV-1"]
    assert unpaid[0].pay_link is not None and unpaid[0].pay_link == unpaid[0].invoice.hosted_invoice_url
    assert [(entry.invoice.host_invoice_id, entry.pay_link) for entry in portal.paid()] == [("INV-2", None)]
    assert portal.remaining == {"gbp": gbp(5000)}
    assert portal.remaining_in("GBP") == gbp(5000)
    assert portal.remaining_in("usd") == billbridge.Money.zero("usd")
    assert portal.to_dict()["payer"] == {"kind": "patient", "id": "P-1001"}
    assert "John" not in repr(portal)

    stranger = bridge.portal(billbridge.PayerRef.patient("P-404"))
    assert (stranger.invoices, stranger.remaining) == ([], {})


def test_the_asyncio_bridge_has_the_portal(mock: billbridge.MockStripe, john: billbridge.Patient) -> None:
    async def run() -> billbridge.Portal:
        bridge = billbridge.aio.Billbridge(stripe=mock, idempotency_secret=IDEMPOTENCY_SECRET)
        await bridge.upsert_customer(john)
        await bridge.raise_invoice(draft(john, "INV-1", 5000, due_in_days=14), mode="finalize_and_send")
        return await bridge.portal(john)

    assert asyncio.run(run()).remaining_in("gbp") == gbp(5000)


@pytest.fixture
def books() -> billbridge.OfflineBilling:
    billing = billbridge.OfflineBilling()
    ada = billbridge.Patient("P-1", "Ada", "Lovelace", default_payer="ORG-1")
    grace = billbridge.Patient("P-2", "Grace", "Hopper")
    billing.raise_invoice(
        draft(ada, "INV-1", 5000, due_in_days=14), on=DAY, metadata={"clinic": "north"}
    )
    billing.raise_invoice(
        draft(grace, "INV-2", 3000, due_in_days=30),
        on=DAY + datetime.timedelta(days=3),
        metadata={"clinic": "south"},
    )
    billing.raise_invoice(draft(grace, "INV-3", 2000, due_in_days=7), on=DAY + datetime.timedelta(days=5))
    billing.record_payment("INV-3", gbp(2000), method="cash", on=DAY + datetime.timedelta(days=5))
    return billing


def ids(records: list[billbridge.InvoiceRecord]) -> list[str]:
    return [record.host_invoice_id for record in records]


def test_every_invoice_filter_narrows_the_report(books: billbridge.OfflineBilling) -> None:
    assert ids(books.invoices()) == ["INV-1", "INV-2", "INV-3"]
    assert ids(books.invoices(status="paid")) == ["INV-3"]
    assert ids(books.invoices(status="open")) == ids(books.outstanding()) == ["INV-1", "INV-2"]
    assert ids(books.invoices(patient_id="P-2")) == ["INV-2", "INV-3"]
    # Ada's invoices are paid by her insurer.
    assert ids(books.invoices(payer=billbridge.PayerRef.organisation("ORG-1"))) == ["INV-1"]
    assert ids(books.invoices(payer=billbridge.PayerRef.patient("P-1"))) == []
    assert ids(books.invoices(customer_id="offline:patient:P-2")) == ["INV-2", "INV-3"]
    assert ids(books.invoices(created=(DAY, DAY + datetime.timedelta(days=3)))) == ["INV-1", "INV-2"]
    assert ids(books.invoices(due=(DAY + datetime.timedelta(days=12), DAY + datetime.timedelta(days=14)))) == [
        "INV-1",
        "INV-3",
    ]
    assert ids(books.invoices(metadata={"clinic": "south"})) == ["INV-2"]
    assert ids(books.invoices(patient_id="P-2", status="open", metadata={"clinic": "south"})) == ["INV-2"]
    assert ids(books.invoices(patient_id="P-2", metadata={"clinic": "north"})) == []


def test_a_reversed_date_range_is_refused(books: billbridge.OfflineBilling) -> None:
    with pytest.raises(billbridge.ValidationError):
        books.invoices(created=(DAY, DAY - datetime.timedelta(days=1)))
    with pytest.raises(TypeError):
        books.invoices(due=DAY)  # type: ignore[arg-type]


def test_the_offline_portal_totals_what_the_insurer_owes(books: billbridge.OfflineBilling) -> None:
    insurer = books.portal(billbridge.PayerRef.organisation("ORG-1"))
    assert [entry.invoice.host_invoice_id for entry in insurer.unpaid()] == ["INV-1"]
    assert insurer.unpaid()[0].pay_link is None
    assert insurer.remaining == {"gbp": gbp(5000)}
    grace = books.portal(billbridge.PayerRef.patient("P-2"))
    assert [entry.invoice.host_invoice_id for entry in grace.paid()] == ["INV-3"]
    assert grace.remaining_in("gbp") == gbp(3000)


def follow_up(john: billbridge.Patient) -> billbridge.InvoiceDraft:
    return draft(john, "INV-1", 5000, due_in_days=14)


def test_a_certain_random_fault_fails_the_call_with_nothing_half_done(
    bridge: billbridge.Billbridge, mock: billbridge.MockStripe, john: billbridge.Patient
) -> None:
    bridge.upsert_customer(john)
    mock.fail_randomly("/v1/invoices", "server_error", rate=1.0, status=503)
    before = len(mock.requests())
    with pytest.raises(billbridge.StripeApiError) as raised:
        bridge.raise_invoice(follow_up(john), mode="finalize_and_send")
    assert (raised.value.status, raised.value.code) == (503, "stripe_server_error")
    attempts = mock.requests()[before:]
    assert attempts and all(request.status == 503 for request in attempts)
    assert {request.path for request in attempts} == {"/v1/invoices"}
    assert bridge.invoice("INV-1") is None

    mock.clear_faults()
    record = bridge.raise_invoice(follow_up(john), mode="finalize_and_send")
    assert record.status == "open"
    created = [r for r in mock.requests() if r.method == "POST" and r.path == "/v1/invoices" and r.status == 200]
    assert len(created) == 1


def test_a_random_fault_at_rate_zero_never_fires(
    bridge: billbridge.Billbridge, mock: billbridge.MockStripe, john: billbridge.Patient
) -> None:
    mock.fail_randomly("/", "connection_reset", rate=0.0)
    assert bridge.upsert_customer(john).outcome == "created"


def test_the_rate_limit_answers_429_until_the_clock_refills_it(
    bridge: billbridge.Billbridge, mock: billbridge.MockStripe, john: billbridge.Patient
) -> None:
    mock.set_rate_limit(1)
    assert bridge.upsert_customer(john).outcome == "created"
    ada = billbridge.Patient("P-2", "Ada", "Lovelace")
    with pytest.raises(billbridge.StripeApiError) as raised:
        bridge.upsert_customer(ada)
    error = raised.value
    assert (error.status, error.stripe_code, error.code, error.category) == (
        429,
        "rate_limit",
        "stripe_rate_limited",
        "stripe_api",
    )
    assert bridge.customer_id(ada) is None
    mock.advance(1)
    assert bridge.upsert_customer(ada).outcome == "created"
    mock.set_rate_limit(None)
    for index in range(3):
        bridge.upsert_customer(billbridge.Patient(f"P-{index + 10}", "Test", "Patient"))


def test_latency_delays_requests_and_bad_settings_are_refused(
    bridge: billbridge.Billbridge, mock: billbridge.MockStripe, john: billbridge.Patient
) -> None:
    mock.set_latency(0.05)
    started = time.monotonic()
    bridge.upsert_customer(john)
    assert time.monotonic() - started >= 0.05
    mock.set_latency(None)
    with pytest.raises(billbridge.ValidationError) as negative:
        mock.set_latency(-1.0)
    assert negative.value.code == "argument_out_of_range"
    with pytest.raises(billbridge.ValidationError) as unknown:
        mock.fail_randomly("/", "gremlins", rate=0.5)
    assert unknown.value.code == "unknown_fault_kind"
    with pytest.raises(billbridge.ValidationError) as rate:
        mock.fail_randomly("/", "timeout", rate=1.5)
    assert rate.value.code == "argument_out_of_range"
