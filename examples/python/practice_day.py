"""A day at Harbour Health, billed through billbridge on the mock Stripe.

Reads the practice's data (patients, insurer, catalogue, billing rates), syncs
everyone to Stripe customers, keeps a missed visit's prepayment as credit, adds a
postage debit, and previews what each of the day's invoices will ask for.
Run it with ``python examples/python/practice_day.py``.
"""

from __future__ import annotations

import datetime
import json
import pathlib
from typing import Any

import billbridge

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]


def load_day() -> dict[str, Any]:
    for candidate in (REPOSITORY / "examples" / "data", REPOSITORY / "tests" / "data"):
        path = candidate / "practice_day.json"
        if path.exists():
            day: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return day
    raise FileNotFoundError("practice_day.json")


def gbp(pence: int) -> billbridge.Money:
    return billbridge.Money(pence, "gbp")


def main() -> dict[str, billbridge.InvoicePreview]:
    day = load_day()
    practice = day["practice"]

    practitioners = {item["id"]: billbridge.Practitioner(item["id"], item["name"]) for item in day["practitioners"]}
    catalogue = [
        billbridge.CatalogueItem(item["key"], item["name"], gbp(item["unit_amount"]), slot_type=item.get("slot_type"))
        for item in day["catalogue"]
    ]
    by_slot = {item.slot_type: item for item in catalogue if item.slot_type}
    by_key = {item.key: item for item in catalogue}

    stripe = billbridge.MockStripe()
    bridge = billbridge.Billbridge(
        stripe=stripe,
        idempotency_secret="harbour-health-idempotency-secret",
        metadata_policy=billbridge.MetadataPolicy.hero_compatible().without(*practice["metadata_fields_off"]),
        catalogue=catalogue,
        currency=practice["currency"],
        default_days_until_due=practice["default_days_until_due"],
    )

    # Step 1: every organisation and patient becomes a Stripe customer.
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

    # Step 2: a missed, prepaid appointment is kept as credit on the balance.
    for appointment in day["appointments"]:
        if appointment.get("status") == "missed_late_notice":
            bridge.adjust_balance(
                patients[appointment["patient"]],
                -gbp(appointment["prepaid"]),
                reason="Missed appointment, prepaid: kept as credit",
                adjustment_id=appointment["id"],
            )

    # Step 5: a posted kit is a debit on Aiko's balance.
    bridge.adjust_balance(patients["P-1003"], by_key["postage"].unit_amount, reason="Postage", adjustment_id="POST-P-1003")

    # Steps 3-7: what each attended appointment's invoice will ask for.
    previews: dict[str, billbridge.InvoicePreview] = {}
    for appointment in day["appointments"]:
        if appointment["status"] != "attended":
            continue
        patient = patients[appointment["patient"]]
        lines = [billbridge.InvoiceLine.from_catalogue(by_slot[appointment["slot_type"]])]
        if appointment["id"] == "APT-2":
            lines.append(billbridge.InvoiceLine.from_catalogue(by_key["blood-test-kit"]))
        draft = billbridge.InvoiceDraft(patient, host_id=f"INV-{appointment['id']}", lines=lines, due_in_days=14)
        previews[appointment["id"]] = preview = bridge.preview(draft)
        print(f"{appointment['id']}: {preview.payer.kind} {preview.payer.id} pays {preview.amount_due} of {preview.total}")
    return previews


if __name__ == "__main__":
    main()
