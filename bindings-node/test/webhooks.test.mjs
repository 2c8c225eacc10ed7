// Webhook verification, parsing and signing, against every case of the signature
// vectors produced with Stripe's own verifier.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'

import {
  BillbridgeError, Money, SignatureError, ValidationError, WebhookSecret, constructEvent, parse,
  signPayload, verify,
} from 'billbridge'
import { DATA, isError } from './helpers.mjs'

const { vectors } = JSON.parse(readFileSync(join(DATA, 'stripe', 'webhook_vectors.json'), 'utf8'))

const SECRET = 'whsec_test_4eC39HqLyjWDarjtT1zdp7dc'
const NOW = 1_790_000_000
const INVOICE_PAID = Buffer.from(
  JSON.stringify({
    id: 'evt_1',
    object: 'event',
    type: 'invoice.paid',
    created: NOW,
    livemode: false,
    data: {
      object: {
        id: 'in_1',
        object: 'invoice',
        customer: 'cus_1',
        currency: 'gbp',
        status: 'paid',
        collection_method: 'send_invoice',
        total: 8500,
        subtotal: 8500,
        amount_due: 3500,
        amount_paid: 3500,
        amount_remaining: 0,
        starting_balance: -5000,
        created: NOW,
        lines: { object: 'list', data: [], has_more: false, url: '/v1/invoices/in_1/lines' },
        metadata: { host_invoice_id: 'INV-1' },
      },
    },
  }),
)

test('there are sixty vectors covering every outcome', () => {
  assert.equal(vectors.length, 60)
  assert.deepEqual(
    new Set(vectors.map((vector) => vector.expected)),
    new Set(['ok', 'malformed_header', 'signature_mismatch', 'no_v1_signature', 'timestamp_out_of_tolerance', 'missing_header']),
  )
})

for (const vector of vectors) {
  test(`verify agrees with Stripe's verifier: ${vector.name}`, () => {
    const payload = Buffer.from(vector.payload, 'utf8')
    const options = { tolerance: vector.tolerance, now: vector.now }
    if (vector.expected === 'ok') {
      const timestamp = verify(payload, vector.header, vector.secret, options)
      assert.ok(vector.header.includes(`t=${timestamp}`))
      assert.equal(verify(payload, vector.header, new WebhookSecret(vector.secret), options), timestamp)
    } else {
      assert.throws(
        () => verify(payload, vector.header, vector.secret, options),
        (error) =>
          error instanceof SignatureError &&
          error instanceof BillbridgeError &&
          error.code === vector.expected &&
          error.category === 'signature',
      )
    }
  })
}

test('constructEvent gives the typed fields of a signed invoice event, amounts as Money', () => {
  const header = signPayload(INVOICE_PAID, SECRET, { timestamp: NOW })
  const event = constructEvent(INVOICE_PAID, header, SECRET, { now: NOW + 10 })
  assert.deepEqual([event.id, event.type, event.created, event.livemode], ['evt_1', 'invoice.paid', NOW, false])
  assert.deepEqual([event.objectType, event.objectId, event.status, event.customerId], ['invoice', 'in_1', 'paid', 'cus_1'])
  assert.ok(event.total.equals(new Money(8500, 'gbp')))
  assert.ok(event.amountDue.equals(new Money(3500, 'gbp')))
  assert.ok(event.amountPaid.equals(new Money(3500, 'gbp')))
  assert.ok(event.amountRemaining.isZero())
  assert.equal(event.currency.code, 'gbp')
  assert.equal(event.object.metadata.host_invoice_id, 'INV-1')
  assert.equal(event.previousAttributes, null)
  assert.equal(event.toJSON().data.object.id, 'in_1')
  // A string body is its UTF-8 bytes.
  assert.equal(constructEvent(INVOICE_PAID.toString('utf8'), header, SECRET, { now: NOW }).id, 'evt_1')
})

test('a tampered, stale or unsigned delivery is a SignatureError with its reason', () => {
  const header = signPayload(INVOICE_PAID, SECRET, { timestamp: NOW })
  const tampered = Buffer.from(INVOICE_PAID.toString('utf8').replace('3500', '3400'))
  assert.throws(() => constructEvent(tampered, header, SECRET, { now: NOW }), isError(SignatureError, 'signature_mismatch'))
  assert.throws(() => constructEvent(INVOICE_PAID, header, SECRET, { now: NOW + 301 }), isError(SignatureError, 'timestamp_out_of_tolerance'))
  assert.equal(verify(INVOICE_PAID, header, SECRET, { now: NOW + 301, tolerance: 600 }), NOW)
  assert.throws(() => constructEvent(INVOICE_PAID, null, SECRET, { now: NOW }), isError(SignatureError, 'missing_header'))
  // Signed now on the system clock: the defaults accept it.
  assert.equal(constructEvent(INVOICE_PAID, signPayload(INVOICE_PAID, SECRET), SECRET).id, 'evt_1')
  assert.throws(() => verify(INVOICE_PAID, header, SECRET, { tolerance: -1 }), isError(ValidationError, 'argument_out_of_range'))
  assert.throws(() => verify(INVOICE_PAID, header, SECRET, { now: 1.5 }), isError(ValidationError, 'not_a_safe_integer'))
})

test('a body that is not an event, or a secret that is not one, is a ValidationError', () => {
  assert.throws(() => parse(Buffer.from('{"not":"an event"}')), ValidationError)
  assert.throws(() => parse('not json'), ValidationError)
  assert.throws(() => new WebhookSecret('sk_test_123'), ValidationError)
  assert.throws(() => verify(INVOICE_PAID, 't=1,v1=00', 'nope'), ValidationError)
})

test('the webhook secret never shows in text or JSON', () => {
  const secret = new WebhookSecret(SECRET)
  for (const shown of [String(secret), JSON.stringify({ secret }), `${secret}`]) {
    assert.ok(!shown.includes('4eC39HqLyjWDarjtT1zdp7dc'), shown)
  }
})
