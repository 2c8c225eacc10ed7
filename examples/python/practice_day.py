"""A day at Harbour Health, billed through billbridge on the mock Stripe.

Reads the practice's data (examples/data/practice_day.json), syncs everyone to
Stripe customers, keeps a missed visit's prepayment as credit, raises the day's
invoices, records a cash payment, follows a card payment through its webhook,
voids a cancelled visit's invoice, bills an insurance remainder to the patient and
exports the end-of-day reports as CSV.
Run it with ``python examples/python/practice_day.py [output folder]``.
"""

from __future__ import annotations

import datetime
import json
import pathlib
import sys
import tempfile
from typing import Any, Optional

import billbridge

DATA = pathlib.Path(__file__).resolve().parents[1] / "data" / "practice_day.json"
TODAY = datetime.date(2026, 1, 1)


def gbp(pence: int) -> billbridge.Money:
    return billbridge.Money(pence, "gbp")


def main(reports: Optional[pathlib.Path] = None) -> dict[str, billbridge.InvoiceRecord]:
    day: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    practice = day["practice"]
    practitioners = {item["id"]: billbridge.Practitioner(item["id"], item["name"]) for item in day["practitioners"]}
    locations = {item["id"]: item["name"] for item in day["locations"]}
    catalogue = [
        billbridge.CatalogueItem(item["key"], item["name"], gbp(item["unit_amount"]), slot_type=item.get("slot_type"))
        for item in day["catalogue"]
    ]
    by_slot = {item.slot_type: item for item in catalogue if item.slot_type}
    by_key = {item.key: item for item in catalogue}

    # A bridge over the mock lives on the mock's clock and accepts its deliveries.
    stripe = billbridge.MockStripe()
    bridge = billbridge.Billbridge(
        stripe=stripe,
        idempotency_secret="harbour-health-idempotency-secret",
        metadata_policy=billbridge.MetadataPolicy.hero_compatible().without(*practice["metadata_fields_off"]),
        webhook_secret=stripe.webhook_secret,
        catalogue=catalogue,
        currency=practice["currency"],
        default_days_until_due=practice["default_days_until_due"],
    )

    # 1. Every organisation and patient becomes a Stripe customer.
    for organisation in day["organisations"]:
        bridge.upsert_customer(billbridge.Organisation(organisation["id"], organisation["name"], email=organisation.get("email")))
    patients: dict[str, billbridge.Patient] = {}
    for record in day["patients"]:
        patient = billbridge.Patient(
            record["id"],
            record["given_name"],
            record["family_name"],
            date_of_birth=datetime.date.fromisoformat(record["date_of_birth"]),
            gender=record["gender"],
            mobile=record["mobile"],
            email=record["email"],
            postcode=record["postcode"],
            registered_practitioner=practitioners[record["registered_practitioner"]],
            default_payer=record.get("default_payer"),
        )
        bridge.upsert_customer(patient)
        patients[patient.id] = patient

    appointments = {appointment["id"]: appointment for appointment in day["appointments"]}

    def draft_for(appointment_id: str, *extra: billbridge.InvoiceLine) -> billbridge.InvoiceDraft:
        appointment = appointments[appointment_id]
        return billbridge.InvoiceDraft(
            patients[appointment["patient"]],
            host_id=f"INV-{appointment_id}",
            lines=[billbridge.InvoiceLine.from_catalogue(by_slot[appointment["slot_type"]]), *extra],
            due_in_days=practice["default_days_until_due"],
            context=billbridge.AppointmentContext(
                appointment_id=appointment_id,
                date=TODAY,
                location_id=appointment["location"],
                location_name=locations[appointment["location"]],
                practitioner=practitioners[appointment["practitioner"]],
            ),
        )

    # 2. John missed a prepaid follow-up at late notice: the payment stays as credit.
    john = patients["P-1001"]
    bridge.adjust_balance(john, -gbp(appointments["APT-1"]["prepaid"]), reason="Missed appointment: kept as credit", adjustment_id="APT-1")

    # 3. John's visit and a home test kit: the credit applies at finalization.
    invoices: dict[str, billbridge.InvoiceRecord] = {}
    kit = billbridge.InvoiceLine.from_catalogue(by_key["blood-test-kit"])
    invoices["APT-2"] = bridge.raise_invoice(draft_for("APT-2", kit), patient=john, mode="finalize_and_send")

    # 4. María's insurer pays; the invoice still carries her patient metadata
    #    (the patient given to raise_invoice supplies it, whoever pays).
    maria = patients["P-1002"]
    invoices["APT-3"] = bridge.raise_invoice(draft_for("APT-3"), patient=maria, mode="finalize_and_send")

    # 5. Aiko owes postage from an earlier kit: a debit on her balance.
    bridge.adjust_balance(patients["P-1003"], by_key["postage"].unit_amount, reason="Postage", adjustment_id="POSTAGE-P-1003")
    invoices["APT-4"] = bridge.raise_invoice(draft_for("APT-4"), patient=patients["P-1003"], mode="finalize_and_send")

    # 6. Ben pays cash at reception.
    bridge.raise_invoice(draft_for("APT-5"), patient=patients["P-1004"], mode="finalize_and_send")
    invoices["APT-5"] = bridge.mark_paid_outside_stripe("INV-APT-5", method="cash", reference="RECEIPT-0042", paid_on=TODAY)

    # 7. Chloé pays on the hosted page; the webhook tells the host.
    chloe = bridge.raise_invoice(draft_for("APT-6"), patient=patients["P-1005"], mode="finalize_and_send")
    stripe.take_webhooks()
    stripe.pay_invoice(chloe.stripe_invoice_id)
    for delivery in stripe.take_webhooks():
        outcome = bridge.handle_webhook(delivery.body, delivery.signature_header)
        for change in outcome.changes:
            if change.kind == "invoice_paid":
                print(f"webhook: {change.host_invoice_id} paid {change.amount_paid}")
    invoices["APT-6"] = bridge.invoice("INV-APT-6") or chloe

    # 8. Dev's appointment was cancelled after invoicing: void the invoice.
    bridge.raise_invoice(draft_for("APT-7"), patient=patients["P-1006"], mode="finalize_and_send")
    invoices["APT-7"] = bridge.void("INV-APT-7")

    # 9. Eli's session: insurance paid 80.00 of 120.00; the remainder is billed to Eli.
    rates = [billbridge.BillingRate(rate["id"], rate["name"], invoiced=rate["invoiced"], payer=rate["payer"]) for rate in day["billing_rates"]]
    session = billbridge.Service(
        "SVC-ELI-1",
        patient_id="P-1007",
        date=TODAY,
        rate_id="RATE-GEN-SELF",
        amount=gbp(12000),
        insurer_payment=gbp(8000),
    )
    for billed in bridge.raise_for_services([session], rates, invoiced_on=TODAY, patients=[patients["P-1007"]]):
        if billed.record is not None:
            invoices["SVC-ELI-1"] = billed.record

    # 10. End of day: outstanding invoices and payments received, as CSV.
    folder = reports or pathlib.Path(tempfile.mkdtemp(prefix="harbour-health-"))
    outstanding = bridge.outstanding()
    billbridge.write_csv(
        outstanding,
        ["number", "status", "amount_due", "meta:patient_name", "meta:appointment_practitioner"],
        folder / "outstanding.csv",
    )
    payments = bridge.payments_received(TODAY, TODAY)
    with open(folder / "payments.csv", "w", encoding="utf-8", newline="") as file:
        billbridge.write_payments_csv(payments, ["date", "invoice_number", "method", "amount"], file)
    print(f"{len(outstanding)} outstanding, {len(payments)} payments: reports in {folder}")

    for key, invoice in invoices.items():
        print(f"{key}: {invoice.status:<6} {invoice.amount_due} due, {invoice.amount_paid} paid ({invoice.payer.kind} {invoice.payer.id})")
    return invoices


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else None)
