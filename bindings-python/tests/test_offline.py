"""Offline billing: a practice day without Stripe, blocking and asyncio."""

from __future__ import annotations

import asyncio
import datetime
import io
import pathlib

import pytest

import billbridge
import billbridge.aio

DAY = datetime.date(2026, 11, 20)
NEXT_DAY = datetime.date(2026, 11, 21)


def gbp(amount: int) -> billbridge.Money:
    return billbridge.Money(amount, "gbp")


def session_draft(patient: billbridge.Patient, host_id: str, amount: int) -> billbridge.InvoiceDraft:
    return billbridge.InvoiceDraft(
        patient,
        host_id=host_id,
        lines=[billbridge.InvoiceLine("Follow-up session", gbp(amount))],
        due_in_days=14,
    )


@pytest.fixture
def ben() -> billbridge.Patient:
    return billbridge.Patient("P-1004", "Ben", "Carter")


def test_an_offline_day_raises_pays_in_parts_voids_and_exports(ben: billbridge.Patient) -> None:
    billing = billbridge.OfflineBilling(store=billbridge.MemoryStore(), number_prefix="HH")

    raised = billing.raise_invoice(session_draft(ben, "INV-1", 5000), on=DAY, metadata={"patient_name": "Ben Carter"})
    assert (raised.status, raised.number, raised.amount_due) == ("open", "HH-0001", gbp(5000))
    assert raised.stripe_invoice_id == "offline:INV-1"
    assert raised.metadata == {"patient_name": "Ben Carter"}

    partly = billing.record_payment("INV-1", gbp(2000), method="cash", on=DAY)
    assert (partly.status, partly.amount_paid, partly.amount_remaining) == ("open", gbp(2000), gbp(3000))
    paid = billing.record_payment("INV-1", gbp(3000), method="cheque", on=NEXT_DAY, reference="CHQ-7")
    assert (paid.status, paid.amount_remaining) == ("paid", gbp(0))

    ledger = billing.invoice("INV-1")
    assert ledger is not None
    assert (ledger.number, ledger.status, ledger.revision) == ("HH-0001", "paid", 3)
    assert ledger.invoiced_on == DAY and ledger.due_on == DAY + datetime.timedelta(days=14)
    assert ledger.updated_on == NEXT_DAY
    assert [(payment.channel, payment.amount, payment.date) for payment in ledger.payments] == [
        ("cash", gbp(2000), DAY),
        ("cheque", gbp(3000), NEXT_DAY),
    ]
    assert ledger.to_record().status == "paid"
    assert billing.invoice("INV-404") is None

    billing.raise_invoice(session_draft(ben, "INV-2", 7000), on=DAY)
    voided = billing.void("INV-2", on=NEXT_DAY)
    assert (voided.status, voided.number) == ("void", "HH-0002")

    payments = billing.payments_received(DAY, NEXT_DAY)
    assert [(payment.host_invoice_id, payment.channel, payment.reference) for payment in payments] == [
        ("INV-1", "cash", None),
        ("INV-1", "cheque", "CHQ-7"),
    ]
    csv = io.StringIO()
    rows = billbridge.write_payments_csv(payments, ["date", "host_invoice_id", "method", "amount", "meta:patient_name"], csv)
    assert rows == 2
    assert csv.getvalue().splitlines() == [
        "date,host_invoice_id,method,amount,patient_name",
        "2026-11-20,INV-1,cash,20.00,Ben Carter",
        "2026-11-21,INV-1,cheque,30.00,Ben Carter",
    ]
    assert [record.host_invoice_id for record in billing.invoices(status="void")] == ["INV-2"]
    assert billing.outstanding() == []


def test_offline_refusals_change_nothing(ben: billbridge.Patient) -> None:
    billing = billbridge.OfflineBilling()
    billing.raise_invoice(session_draft(ben, "INV-1", 5000), on=DAY)
    with pytest.raises(billbridge.ValidationError) as overpaid:
        billing.record_payment("INV-1", gbp(9000), method="cash", on=DAY)
    assert overpaid.value.code == "overpayment"
    with pytest.raises(billbridge.ValidationError) as unknown:
        billing.void("INV-404", on=DAY)
    assert unknown.value.code == "unknown_invoice"
    with pytest.raises(billbridge.InvalidStateError) as changed:
        billing.raise_invoice(session_draft(ben, "INV-1", 6000), on=DAY)
    assert changed.value.code == "invoice_already_raised"
    without_id = billbridge.InvoiceDraft(ben, lines=[billbridge.InvoiceLine("Session", gbp(100))])
    with pytest.raises(billbridge.ValidationError) as missing:
        billing.raise_invoice(without_id, on=DAY)
    assert missing.value.code == "missing_host_invoice_id"
    ledger = billing.invoice("INV-1")
    assert ledger is not None
    assert (ledger.revision, ledger.amount_paid, ledger.total) == (1, gbp(0), gbp(5000))


def test_the_insurer_part_is_split_off_and_the_client_invoiced_the_rest() -> None:
    billing = billbridge.OfflineBilling()
    self_pay = billbridge.BillingRate("RATE-GEN-SELF", "General Service (Self-Pay)", invoiced=True, payer="client")
    general = billbridge.BillingRate("RATE-GEN", "General Service", invoiced=False, payer="insurance")
    session = billbridge.Service(
        "S-1",
        patient_id="P-1007",
        date=DAY,
        rate_id="RATE-GEN-SELF",
        amount=gbp(12000),
        insurer_payment=gbp(8000),
    )
    not_invoiced = billbridge.Service("S-2", patient_id="P-1007", date=DAY, rate_id="RATE-GEN", amount=gbp(9000))

    raised = billing.raise_for_services([session, not_invoiced], [self_pay, general], invoiced_on=NEXT_DAY)
    assert len(raised) == 1
    invoice = raised[0].invoice
    assert (invoice.amount_due, invoice.payer, invoice.status) == (gbp(4000), billbridge.PayerRef.patient("P-1007"), "open")
    assert raised[0].service_ids == ["S-1"]
    assert [(service.id, service.invoiced_on) for service in raised[0].services] == [("S-1", NEXT_DAY)]

    # The stamped services are not invoiced twice.
    assert billing.raise_for_services(raised[0].services + [not_invoiced], [self_pay, general], invoiced_on=NEXT_DAY) == []
    # Unstamped services raise the same invoice again, without a second number.
    again = billing.raise_for_services([session], [self_pay, general], invoiced_on=NEXT_DAY)
    assert [entry.invoice.number for entry in again] == [invoice.number]


def test_an_insurance_rate_bills_the_default_payer() -> None:
    billing = billbridge.OfflineBilling()
    insured = billbridge.BillingRate("RATE-INS", "Insured session", invoiced=True, payer="insurance")
    service = billbridge.Service("S-9", patient_id="P-1", date=DAY, rate_id="RATE-INS", amount=gbp(6000))
    raised = billing.raise_for_services([service], [insured], invoiced_on=DAY, default_payers={"P-1": "ORG-1"})
    assert raised[0].invoice.payer == billbridge.PayerRef.organisation("ORG-1")
    assert raised[0].invoice.patient_id == "P-1"


def test_mirrors_are_rebuilt_into_a_new_store_from_a_shared_ledger(ben: billbridge.Patient) -> None:
    ledger = billbridge.MemoryLedgerStore()
    first = billbridge.OfflineBilling(ledger=ledger)
    first.raise_invoice(session_draft(ben, "INV-1", 5000), on=DAY)
    first.raise_invoice(session_draft(ben, "INV-2", 2500), on=DAY)
    second = billbridge.OfflineBilling(ledger=ledger, store=billbridge.MemoryStore())
    assert second.invoices() == []
    assert second.rebuild_mirrors() == 2
    assert [record.host_invoice_id for record in second.outstanding()] == ["INV-1", "INV-2"]


def test_books_are_kept_per_account(ben: billbridge.Patient) -> None:
    store = billbridge.MemoryStore()
    ledger = billbridge.MemoryLedgerStore()
    north = billbridge.OfflineBilling(store=store, ledger=ledger, account="acct_north")
    south = billbridge.OfflineBilling(store=store, ledger=ledger, account="acct_south")
    north.raise_invoice(session_draft(ben, "INV-1", 5000), on=DAY)
    assert north.account == "acct_north"
    assert south.invoice("INV-1") is None
    assert south.raise_invoice(session_draft(ben, "INV-1", 5000), on=DAY).number == "OFF-0001"


def test_the_asyncio_flavour_shares_the_books_with_the_blocking_one(ben: billbridge.Patient) -> None:
    store = billbridge.MemoryStore()
    ledger = billbridge.MemoryLedgerStore()
    blocking = billbridge.OfflineBilling(store=store, ledger=ledger)
    awaiting = billbridge.aio.OfflineBilling(store=store, ledger=ledger)

    async def day() -> tuple[billbridge.InvoiceRecord, billbridge.InvoiceRecord, list[billbridge.Payment]]:
        raised = await awaiting.raise_invoice(session_draft(ben, "INV-1", 5000), on=DAY)
        paid = await awaiting.record_payment("INV-1", gbp(5000), method="bank_transfer", on=DAY)
        return raised, paid, await awaiting.payments_received(DAY, DAY)

    raised, paid, payments = asyncio.run(day())
    assert (raised.status, paid.status) == ("open", "paid")
    assert [payment.channel for payment in payments] == ["bank_transfer"]
    ledger_record = blocking.invoice("INV-1")
    assert ledger_record is not None and ledger_record.status == "paid"

    async def refused() -> None:
        await awaiting.void("INV-1", on=DAY)

    with pytest.raises(billbridge.InvalidStateError) as raised_error:
        asyncio.run(refused())
    assert raised_error.value.code == "illegal_transition"
    assert "OfflineBilling(account=None)" in repr(awaiting)


def test_an_offline_ledger_record_repr_shows_no_personal_data(ben: billbridge.Patient) -> None:
    billing = billbridge.OfflineBilling()
    billing.raise_invoice(session_draft(ben, "INV-1", 5000), on=DAY, metadata={"patient_name": "Ben Carter"})
    ledger = billing.invoice("INV-1")
    assert ledger is not None
    assert "Ben" not in repr(ledger) and "Follow-up" not in repr(ledger)
    assert ledger.to_dict()["number"] == "OFF-0001"


def test_books_in_a_sqlite_store_survive_reopening(tmp_path: pathlib.Path, ben: billbridge.Patient) -> None:
    path = tmp_path / "books.sqlite"
    first = billbridge.OfflineBilling(store=billbridge.SqliteStore(path))
    first.raise_invoice(session_draft(ben, "INV-1", 5000), on=DAY)
    first.record_payment("INV-1", gbp(2000), method="cash", on=DAY)
    del first

    # Reopened, with the store passed as the ledger explicitly this time.
    store = billbridge.SqliteStore(str(path))
    billing = billbridge.OfflineBilling(store=store, ledger=store)
    kept = billing.invoice("INV-1")
    assert kept is not None
    assert (kept.number, kept.status, kept.revision) == ("OFF-0001", "open", 2)
    assert [payment.amount for payment in kept.payments] == [gbp(2000)]
    paid = billing.record_payment("INV-1", gbp(3000), method="cheque", on=NEXT_DAY)
    assert (paid.status, paid.amount_paid) == ("paid", gbp(5000))
    second = billing.raise_invoice(session_draft(ben, "INV-2", 4000), on=NEXT_DAY)
    assert second.number == "OFF-0002"
    assert [row.host_invoice_id for row in billing.outstanding()] == ["INV-2"]


def test_a_memory_store_keeps_the_books_in_memory_and_a_wrong_ledger_is_refused(
    tmp_path: pathlib.Path, ben: billbridge.Patient
) -> None:
    path = tmp_path / "mirrors.sqlite"
    memory_books = billbridge.OfflineBilling(store=billbridge.SqliteStore(path), ledger=billbridge.MemoryLedgerStore())
    memory_books.raise_invoice(session_draft(ben, "INV-1", 5000), on=DAY)
    reopened = billbridge.OfflineBilling(store=billbridge.SqliteStore(path))
    assert reopened.invoice("INV-1") is None, "an explicit MemoryLedgerStore keeps the books out of the file"
    with pytest.raises(TypeError, match="ledger must be"):
        billbridge.OfflineBilling(ledger=billbridge.MemoryStore())  # type: ignore[arg-type]
