// billbridge for Node in one page: exact money, a patient synced to (mock) Stripe,
// a credit applied to the next invoice, and a verified webhook.
import assert from 'node:assert/strict'
import {
  Billbridge, InvoiceDraft, InvoiceLine, MetadataPolicy, MockStripe, Money, Patient,
  ValidationError, constructEvent,
} from 'billbridge'

// Money is integer minor units plus a currency; decimal text is parsed exactly.
const followUp = Money.parse('50.00', 'gbp')
const kit = new Money(3500, 'gbp')
assert.equal(followUp.add(kit).toString(), '85.00 gbp')

// The bridge talks to Stripe; here, to the in-memory mock.
const stripe = new MockStripe()
const bridge = new Billbridge({
  stripe,
  idempotencySecret: 'keep-this-secret-in-your-vault',
  metadataPolicy: MetadataPolicy.heroCompatible().without('patient_gender'),
})

const john = new Patient({ id: 'P-1001', givenName: 'John', familyName: 'Deer', email: 'john.deer@example.com' })
const customer = await bridge.upsertCustomer(john)
assert.equal(customer.outcome, 'created')

// A missed, prepaid visit becomes credit; the next invoice uses it.
await bridge.adjustBalance(john, followUp.neg(), { reason: 'Missed pre-paid follow-up', adjustmentId: 'APT-1' })
const draft = new InvoiceDraft({
  payer: john,
  hostId: 'INV-1001',
  lines: [
    new InvoiceLine({ description: 'Follow-up session', unitAmount: followUp }),
    new InvoiceLine({ description: 'Home blood test kit', unitAmount: kit }),
  ],
})
const preview = await bridge.preview(draft)
assert.ok(preview.amountDue.equals(kit))

// Raise it: created with all its lines, finalized and sent, exactly once.
const invoice = await bridge.raiseInvoice(draft, { patient: john, mode: 'finalize_and_send' })
assert.equal(invoice.status, 'open')
assert.ok(invoice.amountDue.equals(kit))

// Webhooks: verify the raw body against the Stripe-Signature header, then read typed fields.
const [delivery] = stripe.takeWebhooks()
const event = constructEvent(delivery.body, delivery.signatureHeader, stripe.webhookSecret)
assert.ok(event.type === 'customer.created' && event.objectId === customer.stripeCustomerId)

// Every error is a BillbridgeError subclass with a stable code.
assert.throws(() => Money.parse('12.345', 'gbp'), (error) => error instanceof ValidationError && error.code === 'too_many_decimals')

console.log(`${john.fullName}: ${preview.total} invoiced, ${preview.amountDue} due after credit`)
