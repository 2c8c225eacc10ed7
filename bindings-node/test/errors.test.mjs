// Errors: one class per core category with the core's stable code and Stripe's
// details; bad input of each kind refused before anything reaches Stripe; a Rust panic
// becomes a thrown error or a rejected Promise, never a crashed process.
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { test } from 'node:test'

import * as billbridge from 'billbridge'
import {
  BillbridgeError, InternalError, InvalidStateError, InvoiceDraft, InvoiceLine, Money,
  SignatureError, StripeApiError, TransportError, ValidationError,
} from 'billbridge'
import { draftFor, gbp, isError, mockBridge, patient } from './helpers.mjs'

const CLASSES = {
  validation: 'ValidationError',
  invalid_state: 'InvalidStateError',
  stripe_api: 'StripeApiError',
  transport: 'TransportError',
  signature: 'SignatureError',
  store: 'StoreError',
  internal: 'InternalError',
  io: 'IoError',
}

test('every core category has its own BillbridgeError subclass', () => {
  const categories = billbridge._errorCategories()
  assert.deepEqual(categories.sort(), Object.keys(CLASSES).sort())
  for (const category of categories) {
    const Class = billbridge[CLASSES[category]]
    assert.equal(typeof Class, 'function', category)
    assert.ok(Class.prototype instanceof BillbridgeError, category)
    assert.ok(Class.prototype instanceof Error, category)
  }
})

test('a thrown error has its class, code, category, a stack and no Stripe details', () => {
  try {
    Money.parse('12.345', 'gbp')
    assert.fail('should have thrown')
  } catch (error) {
    assert.ok(error instanceof ValidationError)
    assert.equal(error.name, 'ValidationError')
    assert.equal(error.code, 'too_many_decimals')
    assert.equal(error.category, 'validation')
    assert.equal(error.status, null)
    assert.equal(error.requestId, null)
    assert.equal(error.stripeMessage, null)
    assert.match(error.stack, /ValidationError: amount "12.345"/)
  }
})

test('a sync panic is a thrown error, an async one a rejected InternalError', async () => {
  assert.throws(() => billbridge._panicForTests('sync boom'), (error) => error instanceof Error && /sync boom/.test(error.message))
  await assert.rejects(billbridge._panicForTests('async boom', true), (error) => {
    assert.ok(error instanceof InternalError)
    assert.equal(error.code, 'panic')
    assert.match(error.message, /async boom/)
    return true
  })
  // The process is still fine: the addon keeps working after both.
  assert.equal(gbp(1).amount, 1)
})

test('a declined card is a StripeApiError with Stripe details; its text stays out of logs', async () => {
  const { stripe, bridge } = mockBridge()
  const john = patient()
  await bridge.upsertCustomer(john)
  const record = await bridge.raiseInvoice(draftFor(john, 'INV-1', 5000), { mode: 'finalize_and_send' })
  const declined = await stripe.payInvoice(record.stripeInvoiceId, { paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' }).then(
    () => assert.fail('should have been declined'),
    (error) => error,
  )
  assert.ok(declined instanceof StripeApiError)
  assert.equal(declined.category, 'stripe_api')
  assert.equal(declined.status, 402)
  assert.equal(declined.type, 'card_error')
  assert.equal(declined.stripeCode, 'card_declined')
  assert.equal(declined.declineCode, 'insufficient_funds')
  assert.equal(typeof declined.stripeMessage, 'string')
  assert.ok(!Object.keys(declined).includes('stripeMessage'))
  assert.ok(!inspect(declined).includes(declined.stripeMessage))
  assert.ok(!declined.message.includes(declined.stripeMessage))
  assert.equal((await bridge.invoice('INV-1')).status, 'open')
})

test('a 500 every time is a typed error after the retries, not a crash', async () => {
  const { stripe, bridge } = mockBridge()
  stripe.failNext('/v1/customers', 'server_error', { times: 10 })
  await assert.rejects(bridge.upsertCustomer(patient()), (error) => error instanceof StripeApiError && error.status === 500)
  stripe.clearFaults()
  stripe.failNext('/v1/customers', 'connection_reset', { times: 10 })
  await assert.rejects(bridge.upsertCustomer(patient('P-2')), (error) => error instanceof TransportError)
  stripe.clearFaults()
  // Transient faults are retried with the same idempotency key: one customer.
  stripe.failNext('/v1/customers', 'response_lost', { times: 1 })
  const record = await bridge.upsertCustomer(patient('P-3'))
  assert.equal(record.outcome, 'created')
  assert.throws(() => stripe.failNext('/v1', 'gremlins'), isError(ValidationError, 'unknown_fault_kind'))
})

test('bad input of each kind is a typed error and nothing reaches Stripe', async () => {
  const { stripe, bridge } = mockBridge()
  const john = patient()
  await bridge.upsertCustomer(john)
  const paid = await bridge.raiseInvoice(draftFor(john, 'INV-PAID', 5000), { mode: 'finalize_and_send' })
  await bridge.markPaidOutsideStripe(paid.hostInvoiceId, { method: 'cash' })
  const sent = stripe.requests().length

  const cases = [
    ['a fractional amount', () => new Money(12.5, 'gbp'), ValidationError, 'not_a_safe_integer'],
    ['an unsafe integer', () => new Money(2 ** 60, 'gbp'), ValidationError, 'not_a_safe_integer'],
    ['an unknown currency', () => new Money(100, 'gbx'), ValidationError, 'unknown_currency'],
    ['decimal text with too many places', () => Money.parse('1.234', 'gbp'), ValidationError, 'too_many_decimals'],
    ['an amount over Stripe\'s limit', () => bridge.adjustBalance(john, gbp(100_000_000_000), { reason: 'x', adjustmentId: 'A-1' }), ValidationError, null],
    ['mixed currencies on a draft', () => bridge.raiseInvoice(new InvoiceDraft({
      payer: john,
      hostId: 'INV-MIX',
      lines: [new InvoiceLine({ description: 'a', unitAmount: gbp(100) }), new InvoiceLine({ description: 'b', unitAmount: new Money(100, 'usd') })],
    })), ValidationError, 'currency_mismatch'],
    ['metadata over Stripe\'s limits', () => bridge.raiseInvoice(new InvoiceDraft({
      payer: john,
      hostId: 'INV-META',
      lines: [new InvoiceLine({ description: 'a', unitAmount: gbp(100), metadata: { ['k'.repeat(41)]: 'v' } })],
    })), ValidationError, null],
    ['an unknown raise mode', () => bridge.raiseInvoice(draftFor(john, 'INV-2', 100), { mode: 'finalise' }), ValidationError, 'unknown_raise_mode'],
    ['an unknown payment method word', () => bridge.markPaidOutsideStripe('INV-PAID', { method: '' }), ValidationError, null],
    ['an impossible date', () => bridge.markPaidOutsideStripe('INV-PAID', { method: 'cash', paidOn: '2026-13-01' }), ValidationError, 'invalid_date'],
    ['an illegal transition', () => bridge.void('INV-PAID'), InvalidStateError, null],
    ['a forged webhook', () => bridge.handleWebhook(Buffer.from('{"id":"evt_x"}'), 't=1,v1=00'), SignatureError, null],
    ['an unsigned webhook', () => bridge.handleWebhook(Buffer.from('{"id":"evt_x"}'), null), SignatureError, 'missing_header'],
    ['a fractional resync time', () => bridge.resyncChangedSince(1.5), ValidationError, 'not_a_safe_integer'],
    ['an unknown report status', () => bridge.invoices({ status: 'overdue' }), ValidationError, null],
    ['a one-day range given as one date', () => bridge.invoices({ created: ['2026-01-01'] }), ValidationError, 'invalid_type'],
  ]
  for (const [kind, action, Class, code] of cases) {
    let outcome
    try {
      outcome = await action()
    } catch (error) {
      outcome = error
    }
    assert.ok(outcome instanceof Class, `${kind}: expected ${Class.name}, got ${outcome?.constructor?.name}: ${outcome?.message}`)
    if (code) assert.equal(outcome.code, code, kind)
    assert.equal(typeof outcome.code, 'string', kind)
    assert.equal(stripe.requests().length, sent, `${kind}: a request reached Stripe`)
  }
})
