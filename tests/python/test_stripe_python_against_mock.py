"""The official stripe-python SDK against billbridge's mock server.

Starts the `billbridge-mock` server (the binary named by BILLBRIDGE_MOCK_SERVER, or
`cargo run -p billbridge-mock`), points stripe-python at it and walks Stripe's own
balance example: a 500 credit on a 1099 invoice leaves 599 due.
"""

import os
import pathlib
import subprocess

import pytest
import stripe

REPO = pathlib.Path(__file__).resolve().parents[2]
API_KEY = "sk_test_mock"


@pytest.fixture(scope="module")
def base_url():
    binary = os.environ.get("BILLBRIDGE_MOCK_SERVER")
    if binary:
        command = [binary, "--port", "0", "--api-key", API_KEY]
    else:
        command = [
            "cargo", "run", "--quiet", "-p", "billbridge-mock", "--bin", "billbridge-mock",
            "--", "--port", "0", "--api-key", API_KEY,
        ]
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        # The readiness line: "billbridge-mock listening on http://127.0.0.1:PORT".
        line = process.stdout.readline().strip()
        if not line.startswith("billbridge-mock listening on "):
            process.kill()
            _, errors = process.communicate(timeout=30)
            pytest.fail(f"mock server did not start: {line!r} {errors[-2000:]}")
        yield line.rsplit(" ", 1)[1]
    finally:
        process.kill()
        process.wait(timeout=30)


@pytest.fixture
def client(base_url):
    return stripe.StripeClient(
        API_KEY, base_addresses={"api": base_url}, max_network_retries=0
    )


def services(client):
    # stripe-python ≥ 12 groups the API under `client.v1`; older ones do not.
    return getattr(client, "v1", client)


def test_credit_applied_to_invoice_then_paid_out_of_band(client):
    api = services(client)
    customer = api.customers.create(
        params={"name": "Ada Lovelace", "email": "ada@example.com",
                "metadata": {"ehr_patient_id": "P-1"}}
    )
    assert customer.id.startswith("cus_")
    credit = api.customers.balance_transactions.create(
        customer.id, params={"amount": -500, "currency": "gbp", "description": "Credit"}
    )
    assert credit.type == "adjustment"
    assert credit.ending_balance == -500

    invoice = api.invoices.create(params={"customer": customer.id, "currency": "gbp"})
    assert invoice.status == "draft"
    invoice = api.invoices.add_lines(
        invoice.id,
        params={"lines": [{
            "description": "Consultation",
            "quantity": 1,
            "price_data": {"currency": "gbp", "product_data": {"name": "Consultation"},
                           "unit_amount": 1099},
        }]},
    )
    assert invoice.total == 1099

    invoice = api.invoices.finalize_invoice(invoice.id)
    assert invoice.status == "open"
    assert invoice.amount_due == 599
    assert invoice.starting_balance == -500
    assert invoice.ending_balance == 0
    assert invoice.number
    assert invoice.hosted_invoice_url.startswith("https://")

    api.invoices.pay(invoice.id, params={"paid_out_of_band": True})
    paid = api.invoices.retrieve(invoice.id)
    assert paid.status == "paid"
    assert paid.total == 1099
    assert paid.amount_due == 599
    assert paid.amount_paid == 599
    assert paid.amount_remaining == 0
    assert paid.status_transitions.paid_at is not None
    assert paid.lines.data[0].amount == 1099

    assert api.customers.retrieve(customer.id).balance == 0


def test_errors_map_to_stripe_python_exceptions(client):
    api = services(client)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        api.invoices.retrieve("in_missing")
    assert missing.value.http_status == 404
    assert missing.value.code == "resource_missing"

    customer = api.customers.create(params={"name": "Bob"})
    invoice = api.invoices.create(params={"customer": customer.id, "currency": "usd"})
    api.invoice_items.create(params={"customer": customer.id, "invoice": invoice.id,
                                     "amount": 1500, "currency": "usd"})
    api.invoices.finalize_invoice(invoice.id)
    with pytest.raises(stripe.CardError) as declined:
        api.invoices.pay(invoice.id, params={"payment_method": "pm_card_chargeDeclined"})
    assert declined.value.code == "card_declined"
    assert api.invoices.retrieve(invoice.id).status == "open"


def test_global_configuration_and_search(base_url):
    stripe.api_key = API_KEY
    stripe.api_base = base_url
    customer = stripe.Customer.create(name="Cy", metadata={"ehr_patient_id": "P-77"})
    found = stripe.Customer.search(query="metadata['ehr_patient_id']:'P-77'")
    assert [c.id for c in found.data] == [customer.id]
    updated = stripe.Customer.modify(customer.id, metadata={"ehr_patient_id": ""})
    assert "ehr_patient_id" not in updated.metadata
