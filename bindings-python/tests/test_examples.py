"""The examples run as documented: the quick tour, the practice day script and the
FastAPI webhook endpoint (through its test client)."""

from __future__ import annotations

import csv
import json
import pathlib
import runpy
import sys

import pytest
from fastapi.testclient import TestClient

import billbridge
from conftest import REPOSITORY

EXAMPLES = REPOSITORY / "examples" / "python"
sys.path.insert(0, str(EXAMPLES))

import practice_day  # noqa: E402
import webhook_endpoint  # noqa: E402

SECRET = "whsec_harbour_health_endpoint"


def test_quick_tour_runs(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "quick_tour.py"), run_name="__main__")
    assert "35.00 gbp due after credit" in capsys.readouterr().out


def test_the_practice_day_ends_as_the_scenario_says(tmp_path: pathlib.Path) -> None:
    invoices = practice_day.main(tmp_path)
    gbp = lambda pence: billbridge.Money(pence, "gbp")  # noqa: E731
    # John's credit covers the follow-up: only the kit is due.
    assert (invoices["APT-2"].status, invoices["APT-2"].total, invoices["APT-2"].amount_due) == ("open", gbp(8500), gbp(3500))
    # María's insurer is the customer; her patient metadata rides on the invoice.
    assert invoices["APT-3"].payer == billbridge.PayerRef.organisation("ORG-1")
    assert invoices["APT-3"].patient_id == "P-1002"
    assert "P-1002" in invoices["APT-3"].metadata.values()
    # Aiko's postage debit is added to her invoice.
    assert invoices["APT-4"].amount_due == gbp(7950)
    # Ben paid cash; Chloé paid on the hosted page and the webhook told the host.
    assert (invoices["APT-5"].status, invoices["APT-5"].paid_outside_method) == ("paid", "cash")
    assert (invoices["APT-6"].status, invoices["APT-6"].amount_paid) == ("paid", gbp(7500))
    assert invoices["APT-7"].status == "void"
    # Eli is billed the 40.00 insurance remainder.
    assert (invoices["SVC-ELI-1"].amount_due, invoices["SVC-ELI-1"].payer) == (gbp(4000), billbridge.PayerRef.patient("P-1007"))
    # End of day: the CSV reports.
    with open(tmp_path / "outstanding.csv", encoding="utf-8", newline="") as file:
        outstanding = list(csv.DictReader(file))
    assert {row["status"] for row in outstanding} == {"open"}
    assert len(outstanding) == 4
    assert "John Deer" in {row["patient_name"] for row in outstanding}
    assert "Dr Amara Okafor" in {row["appointment_practitioner"] for row in outstanding}
    with open(tmp_path / "payments.csv", encoding="utf-8", newline="") as file:
        payments = list(csv.DictReader(file))
    assert sorted(row["method"] for row in payments) == ["cash", "stripe"]


def invoice_paid(event_id: str) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "type": "invoice.paid",
            "created": 1_790_000_000,
            "data": {
                "object": {
                    "id": "in_42",
                    "customer": "cus_1",
                    "currency": "gbp",
                    "status": "paid",
                    "collection_method": "send_invoice",
                    "total": 7500,
                    "subtotal": 7500,
                    "amount_due": 7500,
                    "amount_paid": 7500,
                    "amount_remaining": 0,
                    "starting_balance": 0,
                    "created": 1_790_000_000,
                    "lines": {"object": "list", "data": [], "has_more": False, "url": "/v1/invoices/in_42/lines"},
                }
            },
        },
        separators=(",", ":"),
    ).encode()


def test_webhook_endpoint_accepts_a_signed_delivery() -> None:
    app = webhook_endpoint.create_app(SECRET)
    client = TestClient(app)
    body = invoice_paid("evt_ok")
    response = client.post(
        "/stripe/webhooks",
        content=body,
        headers={"Stripe-Signature": billbridge.sign_payload(body, SECRET), "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() == {"received": "evt_ok"}
    assert app.state.paid_invoices == ["in_42"]


def test_webhook_endpoint_rejects_a_forged_delivery() -> None:
    app = webhook_endpoint.create_app(SECRET)
    client = TestClient(app)
    body = invoice_paid("evt_forged")
    forged = billbridge.sign_payload(body, "whsec_someone_else")
    response = client.post("/stripe/webhooks", content=body, headers={"Stripe-Signature": forged})
    assert response.status_code == 400
    assert response.json() == {"detail": "signature_mismatch"}
    missing = client.post("/stripe/webhooks", content=body)
    assert missing.json() == {"detail": "missing_header"}
    assert app.state.paid_invoices == []


def test_webhook_endpoint_takes_the_mocks_deliveries() -> None:
    stripe = billbridge.MockStripe()
    bridge = billbridge.Billbridge(stripe=stripe, idempotency_secret="harbour-health-idempotency-secret")
    bridge.upsert_customer(billbridge.Organisation("ORG-1", "Northwind Insurance Ltd"))
    client = TestClient(webhook_endpoint.create_app(stripe.webhook_secret))
    for delivery in stripe.take_webhooks():
        response = client.post(
            "/stripe/webhooks", content=delivery.body, headers={"Stripe-Signature": delivery.signature_header}
        )
        assert response.json() == {"received": delivery.event_id}
