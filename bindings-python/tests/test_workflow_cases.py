"""The billing cases practices hit, through the binding: credit lines, a remainder
below Stripe's minimum charge (owed, not received), and a field switched off that
leaves Stripe's contact fields too."""

from __future__ import annotations

import datetime

import billbridge
from conftest import IDEMPOTENCY_SECRET


def test_a_voucher_line_reduces_the_invoice(
    bridge: billbridge.Billbridge, john: billbridge.Patient
) -> None:
    bridge.upsert_customer(john)
    draft = billbridge.InvoiceDraft(
        john,
        host_id="INV-VOUCHER",
        lines=[
            billbridge.InvoiceLine("Consultation", billbridge.Money.parse("20.00", "gbp")),
            billbridge.InvoiceLine("Voucher", billbridge.Money.parse("-5.00", "gbp")),
        ],
    )
    invoice = bridge.raise_invoice(draft, patient=john, mode="finalize")
    assert (invoice.status, invoice.total, invoice.amount_due) == (
        "open",
        billbridge.Money(1500, "gbp"),
        billbridge.Money(1500, "gbp"),
    )


def test_a_yen_remainder_below_the_minimum_is_carried_not_received(
    mock: billbridge.MockStripe, bridge: billbridge.Billbridge
) -> None:
    ana = billbridge.Patient("P-YEN", "Ana", "Sato", email="ana@example.com")
    bridge.upsert_customer(ana)
    bridge.adjust_balance(ana, billbridge.Money(-6570, "jpy"), reason="Prepaid", adjustment_id="PKG-1")
    draft = billbridge.InvoiceDraft(
        ana, host_id="INV-YEN", lines=[billbridge.InvoiceLine("Treatment", billbridge.Money(6600, "jpy"))]
    )
    preview = bridge.preview(draft)
    assert (preview.amount_due, preview.carried_to_balance) == (
        billbridge.Money(0, "jpy"),
        billbridge.Money(30, "jpy"),
    )
    invoice = bridge.raise_invoice(draft, patient=ana, mode="finalize")
    assert invoice.status == "paid"
    assert (invoice.amount_due, invoice.amount_paid) == (billbridge.Money(0, "jpy"), billbridge.Money(0, "jpy"))
    assert invoice.carried_to_balance == billbridge.Money(30, "jpy")
    assert bridge.balance(ana) == billbridge.Money(30, "jpy")
    today = datetime.datetime.fromtimestamp(mock.now, tz=datetime.timezone.utc).date()
    assert bridge.payments_received(today, today) == []


def test_switching_the_mobile_off_clears_the_customers_phone(
    mock: billbridge.MockStripe, john: billbridge.Patient
) -> None:
    store = billbridge.MemoryStore()
    policy = billbridge.MetadataPolicy.hero_compatible()
    first = billbridge.Billbridge(
        stripe=mock, idempotency_secret=IDEMPOTENCY_SECRET, metadata_policy=policy, store=store
    )
    first.upsert_customer(john)
    create = [request for request in mock.requests() if request.path == "/v1/customers"][0]
    assert ("phone", "+447700900101") in create.params
    later = billbridge.Billbridge(
        stripe=mock,
        idempotency_secret=IDEMPOTENCY_SECRET,
        metadata_policy=policy.without("patient_mobile"),
        store=store,
    )
    assert later.upsert_customer(john).outcome == "updated"
    update = [request for request in mock.requests() if request.path.startswith("/v1/customers/cus_")][-1]
    assert ("phone", "") in update.params, "Stripe clears the phone"
    assert ("metadata[mobile]", "") in update.params, "and the metadata key"
