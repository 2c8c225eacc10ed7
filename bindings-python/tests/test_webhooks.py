"""Webhook verification, parsing and signing, against every stripe-python vector."""

from __future__ import annotations

import json
from typing import Any

import pytest

import billbridge
from conftest import DATA

VECTORS: list[dict[str, Any]] = json.loads(
    (DATA / "stripe" / "webhook_vectors.json").read_text(encoding="utf-8")
)["vectors"]

SECRET = "whsec_test_4eC39HqLyjWDarjtT1zdp7dc"
NOW = 1_790_000_000
INVOICE_PAID = json.dumps(
    {
        "id": "evt_1",
        "object": "event",
        "type": "invoice.paid",
        "created": NOW,
        "livemode": False,
        "data": {
            "object": {
                "id": "in_1",
                "object": "invoice",
                "customer": "cus_1",
                "currency": "gbp",
                "status": "paid",
                "collection_method": "send_invoice",
                "total": 8500,
                "subtotal": 8500,
                "amount_due": 3500,
                "amount_paid": 3500,
                "amount_remaining": 0,
                "starting_balance": -5000,
                "created": NOW,
                "lines": {"object": "list", "data": [], "has_more": False, "url": "/v1/invoices/in_1/lines"},
                "metadata": {"host_invoice_id": "INV-1"},
            }
        },
    }
).encode()


def test_there_are_sixty_vectors_covering_every_outcome() -> None:
    assert len(VECTORS) == 60
    assert {vector["expected"] for vector in VECTORS} == {
        "ok",
        "malformed_header",
        "signature_mismatch",
        "no_v1_signature",
        "timestamp_out_of_tolerance",
        "missing_header",
    }


@pytest.mark.parametrize("vector", VECTORS, ids=[vector["name"] for vector in VECTORS])
def test_verify_agrees_with_stripe_python(vector: dict[str, Any]) -> None:
    arguments = (vector["payload"].encode(), vector["header"], vector["secret"])
    options = {"tolerance": vector["tolerance"], "now": vector["now"]}
    if vector["expected"] == "ok":
        timestamp = billbridge.verify(*arguments, **options)
        assert f"t={timestamp}" in vector["header"]
    else:
        with pytest.raises(billbridge.SignatureError) as raised:
            billbridge.verify(*arguments, **options)
        assert raised.value.code == vector["expected"]
        assert raised.value.category == "signature"
        assert isinstance(raised.value, billbridge.BillbridgeError)


def test_construct_event_gives_typed_fields_of_a_signed_invoice_event() -> None:
    header = billbridge.sign_payload(INVOICE_PAID, SECRET, timestamp=NOW)
    event = billbridge.construct_event(INVOICE_PAID, header, SECRET, now=NOW + 10)
    assert (event.id, event.type, event.created) == ("evt_1", "invoice.paid", NOW)
    assert (event.object_type, event.object_id, event.status) == ("invoice", "in_1", "paid")
    gbp = billbridge.Money
    assert (event.total, event.amount_due, event.amount_paid, event.amount_remaining) == (
        gbp(8500, "gbp"),
        gbp(3500, "gbp"),
        gbp(3500, "gbp"),
        gbp(0, "gbp"),
    )
    assert event.currency == billbridge.Currency("gbp")
    assert event.customer_id == "cus_1"
    assert event.object["metadata"] == {"host_invoice_id": "INV-1"}
    assert event.to_dict()["data"]["object"]["id"] == "in_1"


def test_a_tampered_body_is_a_signature_mismatch() -> None:
    header = billbridge.sign_payload(INVOICE_PAID, SECRET, timestamp=NOW)
    tampered = INVOICE_PAID.replace(b"3500", b"0350")
    with pytest.raises(billbridge.SignatureError) as raised:
        billbridge.construct_event(tampered, header, SECRET, now=NOW)
    assert raised.value.code == "signature_mismatch"


def test_an_old_signature_is_out_of_tolerance() -> None:
    header = billbridge.sign_payload(INVOICE_PAID, SECRET, timestamp=NOW)
    with pytest.raises(billbridge.SignatureError) as raised:
        billbridge.construct_event(INVOICE_PAID, header, SECRET, now=NOW + 301)
    assert raised.value.code == "timestamp_out_of_tolerance"
    assert billbridge.verify(INVOICE_PAID, header, SECRET, tolerance=400, now=NOW + 301) == NOW


def test_a_missing_header_is_reported_as_such() -> None:
    with pytest.raises(billbridge.SignatureError) as raised:
        billbridge.construct_event(INVOICE_PAID, None, SECRET, now=NOW)
    assert raised.value.code == "missing_header"


def test_a_body_that_is_not_an_event_is_a_validation_error() -> None:
    body = b'{"not": "an event"}'
    header = billbridge.sign_payload(body, SECRET, timestamp=NOW)
    with pytest.raises(billbridge.ValidationError) as raised:
        billbridge.construct_event(body, header, SECRET, now=NOW)
    assert raised.value.code == "malformed_payload"


def test_a_secret_without_the_whsec_prefix_is_refused() -> None:
    with pytest.raises(billbridge.ValidationError) as raised:
        billbridge.WebhookSecret("sk_test_wrong_thing")
    assert raised.value.code == "invalid_secret"


def test_webhook_secret_repr_hides_the_secret() -> None:
    secret = billbridge.WebhookSecret(SECRET)
    assert "4eC39" not in repr(secret)
    assert "4eC39" not in str(secret)
    header = billbridge.sign_payload(INVOICE_PAID, secret, timestamp=NOW)
    assert billbridge.verify(INVOICE_PAID, header, secret, now=NOW) == NOW


def test_unknown_event_types_parse_with_their_object_id() -> None:
    body = json.dumps(
        {
            "id": "evt_2",
            "type": "charge.dispute.created",
            "created": NOW,
            "data": {"object": {"id": "dp_1", "object": "dispute", "amount": 100}},
        }
    )
    event = billbridge.parse(body)
    assert (event.type, event.object_type, event.object_id) == ("charge.dispute.created", "dispute", "dp_1")
    assert event.status is None
    assert event.object["amount"] == 100
