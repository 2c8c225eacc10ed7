"""billbridge for Python in one page: exact money, a patient synced to (mock) Stripe,
a credit applied to the next invoice, and a verified webhook."""

import billbridge

# Money is integer minor units plus a currency; decimal text is parsed exactly.
follow_up = billbridge.Money.parse("50.00", "gbp")
kit = billbridge.Money(3500, "gbp")
assert str(follow_up + kit) == "85.00 gbp"

# The bridge talks to Stripe; here, to the in-memory mock.
stripe = billbridge.MockStripe()
bridge = billbridge.Billbridge(
    stripe=stripe,
    idempotency_secret="keep-this-secret-in-your-vault",
    metadata_policy=billbridge.MetadataPolicy.hero_compatible().without("patient_gender"),
)

john = billbridge.Patient("P-1001", "John", "Deer", email="john.deer@example.com")
customer = bridge.upsert_customer(john)
assert customer.outcome == "created"

# A missed, prepaid visit becomes credit; the next invoice uses it.
bridge.adjust_balance(john, -follow_up, reason="Missed pre-paid follow-up", adjustment_id="APT-1")
draft = billbridge.InvoiceDraft(
    john,
    host_id="INV-1001",
    lines=[billbridge.InvoiceLine("Follow-up session", follow_up), billbridge.InvoiceLine("Home blood test kit", kit)],
)
preview = bridge.preview(draft)
assert preview.amount_due == kit

# Raise it: created with all its lines, finalized and sent, exactly once.
invoice = bridge.raise_invoice(draft, patient=john, mode="finalize_and_send")
assert (invoice.status, invoice.amount_due) == ("open", kit)

# Webhooks: verify the raw body against the Stripe-Signature header, then read typed fields.
delivery = stripe.take_webhooks()[0]
event = billbridge.construct_event(delivery.body, delivery.signature_header, stripe.webhook_secret)
assert event.type == "customer.created" and event.object_id == customer.stripe_customer_id

# Every error is a billbridge.BillbridgeError subclass with a stable .code.
try:
    billbridge.Money.parse("12.345", "gbp")
except billbridge.ValidationError as error:
    assert error.code == "too_many_decimals"

print(f"{john.full_name}: {preview.total} invoiced, {preview.amount_due} due after credit")
