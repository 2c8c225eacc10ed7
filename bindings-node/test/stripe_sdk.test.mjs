// The official `stripe` npm package, unchanged, against the mock's HTTP server on
// loopback: an invoice cycle with a customer balance, finalize, pay and events, its
// error classes, and its own verifier accepting the mock's signed deliveries.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import Stripe from 'stripe'

import { ApiKey, Billbridge, HttpTransport, InvoiceDraft, InvoiceLine, MockStripe, Money, Patient, StripeApiError, ValidationError } from 'billbridge'

// The key the mock accepts; the SDK is configured as it would be for any Stripe-like host.
const API_KEY = 'sk_test_mock'

let mock
let server
let stripe

before(async () => {
  mock = new MockStripe()
  server = await mock.serve()
  stripe = new Stripe(API_KEY, {
    host: '127.0.0.1',
    port: server.port,
    protocol: 'http',
    maxNetworkRetries: 0,
    telemetry: false,
  })
})

after(() => server?.close())

test('a credit is applied to an invoice that is then finalized, paid and evented', async () => {
  const customer = await stripe.customers.create({ name: 'Ada Lovelace', email: 'ada@example.com', metadata: { ehr_patient_id: 'P-1' } })
  assert.match(customer.id, /^cus_/)
  const credit = await stripe.customers.createBalanceTransaction(customer.id, { amount: -500, currency: 'gbp', description: 'Credit' })
  assert.equal(credit.type, 'adjustment')
  assert.equal(credit.ending_balance, -500)

  let invoice = await stripe.invoices.create({ customer: customer.id, currency: 'gbp' })
  assert.equal(invoice.status, 'draft')
  invoice = await stripe.invoices.addLines(invoice.id, {
    lines: [{ description: 'Consultation', quantity: 1, price_data: { currency: 'gbp', product_data: { name: 'Consultation' }, unit_amount: 1099 } }],
  })
  assert.equal(invoice.total, 1099)

  invoice = await stripe.invoices.finalizeInvoice(invoice.id)
  assert.equal(invoice.status, 'open')
  assert.equal(invoice.amount_due, 599)
  assert.equal(invoice.starting_balance, -500)
  assert.equal(invoice.ending_balance, 0)
  assert.ok(invoice.number)
  assert.match(invoice.hosted_invoice_url, /^https:\/\//)

  await stripe.invoices.pay(invoice.id, { paid_out_of_band: true })
  const paid = await stripe.invoices.retrieve(invoice.id)
  assert.equal(paid.status, 'paid')
  assert.deepEqual([paid.total, paid.amount_due, paid.amount_paid, paid.amount_remaining], [1099, 599, 599, 0])
  assert.ok(paid.status_transitions.paid_at)
  assert.equal(paid.lines.data[0].amount, 1099)
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, 0)

  const events = await stripe.events.list({ limit: 100 })
  const types = events.data.map((event) => event.type)
  for (const type of ['customer.created', 'invoice.created', 'invoice.finalized', 'invoice.paid']) {
    assert.ok(types.includes(type), `${type} not in ${types.join(', ')}`)
  }
  const paidEvent = events.data.find((event) => event.type === 'invoice.paid')
  assert.equal(paidEvent.data.object.id, invoice.id)

  // The mock's signed deliveries pass the SDK's own verifier.
  const deliveries = mock.takeWebhooks()
  assert.ok(deliveries.length >= 4)
  for (const delivery of deliveries) {
    const event = stripe.webhooks.constructEvent(delivery.body, delivery.signatureHeader, mock.webhookSecret)
    assert.equal(event.id, delivery.eventId)
  }
})

test('errors come back as the SDK\'s own error classes', async () => {
  await assert.rejects(stripe.invoices.retrieve('in_missing'), (error) => {
    assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError)
    assert.equal(error.statusCode, 404)
    assert.equal(error.code, 'resource_missing')
    return true
  })
  const customer = await stripe.customers.create({ name: 'Bob' })
  const invoice = await stripe.invoices.create({ customer: customer.id, currency: 'usd' })
  await stripe.invoiceItems.create({ customer: customer.id, invoice: invoice.id, amount: 1500, currency: 'usd' })
  await stripe.invoices.finalizeInvoice(invoice.id)
  await assert.rejects(stripe.invoices.pay(invoice.id, { payment_method: 'pm_card_chargeDeclined' }), (error) => {
    assert.ok(error instanceof Stripe.errors.StripeCardError)
    assert.equal(error.code, 'card_declined')
    return true
  })
  assert.equal((await stripe.invoices.retrieve(invoice.id)).status, 'open')
})

test('search over metadata and clearing a key work as at Stripe', async () => {
  const customer = await stripe.customers.create({ name: 'Cy', metadata: { ehr_patient_id: 'P-77' } })
  const found = await stripe.customers.search({ query: "metadata['ehr_patient_id']:'P-77'" })
  assert.deepEqual(found.data.map((item) => item.id), [customer.id])
  const updated = await stripe.customers.update(customer.id, { metadata: { ehr_patient_id: '' } })
  assert.equal(updated.metadata.ehr_patient_id, undefined)
})

test('the bridge itself goes over real HTTP with an HttpTransport and a key', async () => {
  const transport = new HttpTransport(new ApiKey(API_KEY), { baseUrl: server.url, timeout: 10 })
  assert.equal(transport.baseUrl, server.url)
  const bridge = new Billbridge({ stripe: transport, idempotencySecret: 'http-transport-test-secret' })
  const john = new Patient({ id: 'P-HTTP', givenName: 'John', familyName: 'Deer' })
  const customer = await bridge.upsertCustomer(john)
  assert.equal(customer.outcome, 'created')
  const draft = new InvoiceDraft({ payer: john, hostId: 'INV-HTTP', lines: [new InvoiceLine({ description: 'Visit', unitAmount: new Money(5000, 'gbp') })] })
  const record = await bridge.raiseInvoice(draft, { mode: 'finalize' })
  assert.equal(record.status, 'open')
  assert.equal((await stripe.invoices.retrieve(record.stripeInvoiceId)).amount_due, 5000)
  assert.ok(mock.requests().some((request) => request.path === `/v1/invoices/${record.stripeInvoiceId}/finalize`))

  // The mock never pretends to be live Stripe: a live key gets Stripe's 401, typed.
  const stranger = new Billbridge({ stripe: new HttpTransport('sk_live_not_for_the_mock', { baseUrl: server.url }), idempotencySecret: 'http-transport-test-secret' })
  await assert.rejects(stranger.upsertCustomer(john), (error) => error instanceof StripeApiError && error.status === 401)
})

test('keys are checked and never shown', () => {
  const key = new ApiKey('sk_test_4eC39HqLyjWDarjtT1zdp7dc')
  assert.deepEqual([key.kind, key.mode, key.isTestMode], ['secret', 'test', true])
  for (const shown of [String(key), JSON.stringify({ key })]) assert.ok(!shown.includes('4eC39HqLyjWDarjtT1zdp7dc'), shown)
  assert.throws(() => new ApiKey('pk_test_123'), (error) => error instanceof ValidationError && error.code === 'publishable_key')
  assert.throws(() => new HttpTransport('sk_test_123', { baseUrl: 'ftp://example.invalid' }), (error) => error.code === 'invalid_base_url')
  assert.throws(() => new HttpTransport('sk_test_123', { timeout: -1 }), ValidationError)
})

test('each test key sees only its own objects on one mock server', async () => {
  const other = new Stripe('sk_test_another_suite', { host: '127.0.0.1', port: server.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false })
  const mine = await stripe.customers.create({ name: 'Mine' })
  await assert.rejects(other.customers.retrieve(mine.id), (error) => error.statusCode === 404)
  assert.ok((await other.customers.list()).data.every((customer) => customer.id !== mine.id))
})
