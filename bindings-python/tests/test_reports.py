"""Report queries and CSV export to a path, a text file and a binary file."""

from __future__ import annotations

import datetime
import io
import pathlib

import pytest

import billbridge
from conftest import IDEMPOTENCY_SECRET


@pytest.fixture
def day(mock: billbridge.MockStripe) -> billbridge.Billbridge:
    bridge = billbridge.Billbridge(
        stripe=mock,
        idempotency_secret=IDEMPOTENCY_SECRET,
        metadata_policy=billbridge.MetadataPolicy.hero_compatible(),
    )
    for index, (given, family) in enumerate([("Ada", "Lovelace"), ("Grace", "Hopper")], start=1):
        patient = billbridge.Patient(f"P-{index}", given, family)
        bridge.upsert_customer(patient)
        draft = billbridge.InvoiceDraft(
            patient,
            host_id=f"INV-{index}",
            lines=[billbridge.InvoiceLine("Follow-up session", billbridge.Money(5000 * index, "gbp"))],
            due_in_days=14,
        )
        bridge.raise_invoice(draft, patient=patient, mode="finalize_and_send")
    bridge.mark_paid_outside_stripe("INV-2", method="cheque", reference="CHQ-7")
    return bridge


def test_queries_filter_by_status_and_patient(day: billbridge.Billbridge) -> None:
    assert [record.host_invoice_id for record in day.outstanding()] == ["INV-1"]
    assert [record.host_invoice_id for record in day.invoices(status="paid")] == ["INV-2"]
    assert [record.host_invoice_id for record in day.invoices(patient_id="P-1")] == ["INV-1"]
    assert len(day.invoices()) == 2


def test_payments_received_lists_the_cheque(day: billbridge.Billbridge, mock: billbridge.MockStripe) -> None:
    today = datetime.datetime.fromtimestamp(mock.now, tz=datetime.timezone.utc).date()
    payments = day.payments_received(today, today)
    assert [(payment.host_invoice_id, payment.channel, payment.reference) for payment in payments] == [
        ("INV-2", "cheque", "CHQ-7")
    ]
    assert payments[0].amount == billbridge.Money(10000, "gbp")


def test_csv_goes_to_a_path_a_text_file_and_a_binary_file(day: billbridge.Billbridge, tmp_path: pathlib.Path) -> None:
    records = day.invoices()
    columns = ["host_invoice_id", "status", "amount_due", "meta:patient_name"]
    path = tmp_path / "invoices.csv"
    assert billbridge.write_csv(records, columns, path) == 2
    written = path.read_text(encoding="utf-8")
    text = io.StringIO()
    billbridge.write_csv(records, columns, text)
    binary = io.BytesIO()
    billbridge.write_csv(records, columns, binary)
    assert text.getvalue() == written == binary.getvalue().decode()
    assert written.splitlines()[0] == "host_invoice_id,status,amount_due,patient_name"
    assert "INV-1,open,50.00,Ada Lovelace" in written


def test_an_unknown_column_is_refused(day: billbridge.Billbridge) -> None:
    with pytest.raises(billbridge.ValidationError) as refused:
        billbridge.write_csv(day.invoices(), ["number", "shoe_size"], io.StringIO())
    assert refused.value.code == "unknown_report_column"
    with pytest.raises(billbridge.ValidationError) as keyless:
        billbridge.write_csv(day.invoices(), ["meta:"], io.StringIO())
    assert keyless.value.code == "argument_out_of_range"
