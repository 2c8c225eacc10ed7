// The bridge over the mock: customers, balances, the invoice lifecycle, webhooks,
// re-sync, reports and CSV export, bulk calls with progress, and the SQLite store.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough, Writable } from 'node:stream'
import { test } from 'node:test'

import {
  Billbridge, BulkResult, InvalidStateError, InvoiceDraft, InvoiceLine, IoError, MockStripe, Money, Organisation, SqliteStore,
  ValidationError, writeCsv, writePaymentsCsv,
} from 'billbridge'
import { draftFor, gbp, isError, mockBridge, patient, temporaryFolder } from './helpers.mjs'

test('a credit is applied at finalization and the invoice goes through its lifecycle', async () => {
  const { stripe, bridge } = mockBridge()
  const john = patient()
  assert.equal((await bridge.upsertCustomer(john)).outcome, 'created')
  assert.equal((await bridge.upsertCustomer(john)).outcome, 'unchanged')
  assert.match(await bridge.customerId(john), /^cus_/)
  const credit = await bridge.adjustBalance(john, gbp(-5000), { reason: 'Missed visit', adjustmentId: 'APT-1' })
  assert.ok(credit.endingBalance.equals(gbp(-5000)))
  // The same adjustment id again is a no-op.
  await bridge.adjustBalance(john, gbp(-5000), { reason: 'Missed visit', adjustmentId: 'APT-1' })
  assert.ok((await bridge.balance(john)).equals(gbp(-5000)))

  const draft = draftFor(john, 'INV-1', 5000, 3500)
  const preview = await bridge.preview(draft)
  assert.ok(preview.amountDue.equals(gbp(3500)))
  assert.ok(preview.appliedBalance.equals(gbp(-5000)))
  const raised = await bridge.raiseInvoice(draft)
  assert.equal(raised.status, 'draft')
  const open = await bridge.finalize('INV-1')
  assert.equal(open.status, 'open')
  assert.ok(open.total.equals(gbp(8500)) && open.amountDue.equals(gbp(3500)))
  assert.match(open.hostedInvoiceUrl, /^https:\/\//)
  assert.ok(open.number)
  assert.equal((await bridge.send('INV-1')).status, 'open')

  stripe.takeWebhooks()
  await stripe.payInvoice(open.stripeInvoiceId)
  const changes = []
  for (const delivery of stripe.takeWebhooks()) {
    const outcome = await bridge.handleWebhook(delivery.body, delivery.signatureHeader)
    assert.ok(['applied', 'ignored'].includes(outcome.disposition))
    changes.push(...outcome.changes.map((change) => change.kind))
    // A redelivery is recognised.
    assert.equal((await bridge.handleWebhook(delivery.body, delivery.signatureHeader)).disposition, 'duplicate')
  }
  assert.ok(changes.includes('invoice_paid'), changes.join())
  const paid = await bridge.invoice('INV-1')
  assert.equal(paid.status, 'paid')
  assert.ok(paid.amountPaid.equals(gbp(3500)))
  assert.equal(typeof paid.paidAt, 'number')
  assert.equal((await bridge.resyncInvoice('INV-1')).status, 'paid')
  assert.equal(await bridge.invoice('INV-404'), null)
  await assert.rejects(bridge.void('INV-1'), InvalidStateError)
})

test('an organisation pays by default, a draft is edited, deleted, voided or written off', async () => {
  const { bridge } = mockBridge()
  const insurer = new Organisation({ id: 'ORG-1', name: 'Northwind Insurance' })
  const maria = patient('P-2', { givenName: 'María', familyName: 'López' })
  await bridge.upsertCustomer(insurer)
  await bridge.upsertCustomer(maria)
  await bridge.setDefaultPayer('P-2', 'ORG-1')
  assert.equal(await bridge.defaultPayer('P-2'), 'ORG-1')
  const billed = await bridge.raiseInvoice(draftFor(maria, 'INV-M', 7500), { patient: maria, mode: 'finalize' })
  assert.equal(billed.payer.kind, 'organisation')
  assert.equal(billed.patientId, 'P-2')
  assert.equal(await bridge.clearDefaultPayer('P-2'), true)

  const draft = draftFor(maria, 'INV-D', 1000)
  await bridge.raiseInvoice(draft)
  draft.addLine(draftFor(maria, 'x', 500).lines[0])
  assert.ok((await bridge.editDraft(draft)).total.equals(gbp(1500)))
  assert.equal((await bridge.deleteDraft('INV-D')).status, 'deleted')
  assert.equal((await bridge.void('INV-M')).status, 'void')
  await bridge.raiseInvoice(draftFor(maria, 'INV-U', 1000), { mode: 'finalize' })
  assert.equal((await bridge.markUncollectible('INV-U')).status, 'uncollectible')
  const outside = await bridge.markPaidOutsideStripe('INV-U', { method: 'cheque', reference: 'CHQ-1', paidOn: '2026-01-02' })
  assert.deepEqual([outside.status, outside.paidOutsideMethod, outside.paidOutsideReference, outside.paidOutsideOn], ['paid', 'cheque', 'CHQ-1', '2026-01-02'])
})

test('reports filter the host records, the portal shows what is owed, Stripe\'s list agrees', async () => {
  const { bridge } = mockBridge()
  const john = patient()
  const ada = patient('P-2', { givenName: 'Ada' })
  for (const party of [john, ada]) await bridge.upsertCustomer(party)
  await bridge.raiseInvoice(draftFor(john, 'INV-1', 5000), { mode: 'finalize_and_send' })
  await bridge.raiseInvoice(draftFor(john, 'INV-2', 2000), { mode: 'finalize_and_send' })
  await bridge.raiseInvoice(draftFor(ada, 'INV-3', 1000), { mode: 'finalize_and_send' })
  await bridge.markPaidOutsideStripe('INV-2', { method: 'cash' })
  assert.deepEqual((await bridge.outstanding()).map((record) => record.hostInvoiceId).sort(), ['INV-1', 'INV-3'])
  assert.deepEqual((await bridge.invoices({ status: 'paid' })).map((record) => record.hostInvoiceId), ['INV-2'])
  assert.equal((await bridge.invoices({ payer: ada })).length, 1)
  assert.equal((await bridge.invoices({ patientId: 'P-1001', status: 'open' })).length, 1)
  const stripeSide = await bridge.stripeInvoices({ payer: john })
  assert.deepEqual(stripeSide.map((record) => record.hostInvoiceId).sort(), ['INV-1', 'INV-2'])
  const portal = await bridge.portal(john)
  assert.equal(portal.invoices.length, 2)
  assert.equal(portal.unpaid().length, 1)
  assert.match(portal.unpaid()[0].payLink, /^https:\/\//)
  assert.ok(portal.remaining.gbp.equals(gbp(5000)))
  assert.ok(portal.remainingIn('gbp').equals(gbp(5000)))
  const today = new Date((await bridge.invoice('INV-2')).created * 1000).toISOString().slice(0, 10)
  const payments = await bridge.paymentsReceived(today, today)
  assert.deepEqual(payments.map((payment) => [payment.hostInvoiceId, payment.channel, payment.amount.amount]), [['INV-2', 'cash', 2000]])
  assert.ok((await bridge.resyncChangedSince(0)).length >= 3)
})

test('CSV goes to a path or a stream, with backpressure honoured, and a failing stream is an IoError', async () => {
  const { bridge } = mockBridge()
  const john = patient()
  await bridge.upsertCustomer(john)
  for (let index = 0; index < 40; index += 1) {
    await bridge.raiseInvoice(draftFor(john, `INV-${index}`, 1000 + index), { mode: 'finalize' })
  }
  const records = await bridge.outstanding()
  const columns = ['number', 'status', 'amount_due', 'meta:patient_name']
  const path = join(temporaryFolder(), 'outstanding.csv')
  assert.equal(await writeCsv(records, columns, path), 40)
  const file = readFileSync(path, 'utf8').trim().split('\n')
  assert.equal(file.length, 41)
  assert.equal(file[0], 'number,status,amount_due,patient_name')

  // A slow stream with a tiny buffer: every chunk waits for 'drain'.
  let received = ''
  let drained = 0
  const slow = new Writable({
    highWaterMark: 16,
    write(chunk, _encoding, done) {
      received += chunk
      setTimeout(done, 1)
    },
  })
  slow.on('drain', () => (drained += 1))
  assert.equal(await writeCsv(records, columns, slow), 40)
  assert.equal(received, readFileSync(path, 'utf8'))

  const through = new PassThrough()
  const chunks = []
  through.on('data', (chunk) => chunks.push(chunk))
  const payments = [await bridge.markPaidOutsideStripe('INV-0', { method: 'cash' })]
  assert.equal(payments[0].status, 'paid')
  const rows = await bridge.paymentsReceived('2000-01-01', '2100-01-01')
  assert.equal(await writePaymentsCsv(rows, ['date', 'method', 'amount'], through), 1)
  assert.match(Buffer.concat(chunks).toString(), /^date,method,amount\n.*,cash,10\.00\n$/)

  const broken = new Writable({ write: (_chunk, _encoding, done) => done(new Error('disk full')) })
  broken.on('error', () => {})
  await assert.rejects(writeCsv(records, columns, async () => { throw new Error('disk full') }), IoError)
  await assert.rejects(writeCsv(records, ['number', 'favourite_colour'], path), ValidationError)
  await assert.rejects(writeCsv(records, columns, join(temporaryFolder(), 'missing', 'x.csv')), IoError)
})

test('bulk calls report progress and keep going past one failure', async () => {
  const { stripe, bridge } = mockBridge()
  const parties = Array.from({ length: 12 }, (_, index) => patient(`P-${index}`))
  const seen = []
  const results = await bridge.upsertCustomers(parties, { concurrency: 3, progress: (step) => seen.push(step) })
  assert.equal(results.length, 12)
  assert.ok(results.every((result) => result instanceof BulkResult && result.ok && result.value.outcome === 'created'))
  // Progress ticks arrive on the event loop after the call's own resolution at worst.
  await new Promise((resolve) => setImmediate(resolve))
  assert.ok(seen.length > 0 && seen.at(-1).total === 12, JSON.stringify(seen.at(-1)))

  stripe.failNext('/v1/invoices', 'server_error', { times: 20 })
  const drafts = parties.slice(0, 2).map((party, index) => ({ draft: draftFor(party, `INV-B${index}`, 1000), patient: party }))
  const raised = await bridge.raiseInvoices(drafts, { mode: 'finalize' })
  assert.equal(raised.length, 2)
  assert.ok(raised.some((result) => !result.ok))
  const failed = raised.find((result) => !result.ok)
  assert.equal(failed.value, null)
  assert.equal(failed.error.category, 'stripe_api')
  assert.equal(failed.error.constructor.name, 'StripeApiError')
})

test('services under invoiced rates are billed once per payer', async () => {
  const { bridge } = mockBridge()
  const { BillingRate, Service } = await import('billbridge')
  const eli = patient('P-1007', { givenName: 'Eli' })
  await bridge.upsertCustomer(eli)
  const rates = [new BillingRate({ id: 'RATE-SELF', name: 'General Service (Self-Pay)', invoiced: true, payer: 'client' })]
  const services = [new Service({ id: 'SVC-1', patientId: 'P-1007', date: '2026-01-01', rateId: 'RATE-SELF', amount: gbp(12000), insurerPayment: gbp(8000) })]
  const [outcome] = await bridge.raiseForServices(services, rates, { invoicedOn: '2026-01-01', patients: [eli] })
  assert.equal(outcome.error, null)
  assert.equal(outcome.record.status, 'open')
  assert.ok(outcome.record.amountDue.equals(gbp(4000)))
  assert.equal(outcome.services[0].invoicedOn, '2026-01-01')
  await assert.rejects(bridge.raiseForServices(services, rates, { invoicedOn: 'yesterday' }), ValidationError)
})

test('the SQLite store keeps the host\'s links across bridges', async () => {
  const path = join(temporaryFolder(), 'billbridge.db')
  const stripe = new MockStripe()
  const open = async () => new Billbridge({ stripe, idempotencySecret: 'node-binding-tests-secret', store: await SqliteStore.open(path) })
  const first = await open()
  await first.upsertCustomer(patient())
  await first.raiseInvoice(draftFor(patient(), 'INV-1', 5000), { mode: 'finalize' })
  const second = await open()
  assert.equal((await second.upsertCustomer(patient())).outcome, 'unchanged')
  assert.equal((await second.invoice('INV-1')).status, 'open')
  await assert.rejects(SqliteStore.open(join(temporaryFolder(), 'no', 'such', 'folder', 'x.db')), (error) => error.category === 'store')
})

test('the bridge refuses options the core refuses', () => {
  const stripe = new MockStripe()
  assert.throws(() => new Billbridge({ stripe, idempotencySecret: 'short' }), ValidationError)
  assert.throws(() => new Billbridge({ stripe, idempotencySecret: 'long-enough-secret-here', currency: 'xyz' }), isError(ValidationError, 'unknown_currency'))
  assert.throws(() => new Billbridge({ stripe, idempotencySecret: 'long-enough-secret-here', webhookTolerance: -5 }), ValidationError)
  const bridge = new Billbridge({ stripe, idempotencySecret: 'long-enough-secret-here', currency: 'eur', account: 'acct_1' })
  assert.equal(bridge.currency.code, 'eur')
  assert.equal(bridge.account, 'acct_1')
})

test('a yen remainder below the minimum charge is carried to the balance, not received', async () => {
  const { bridge } = mockBridge()
  const ana = patient('P-YEN')
  await bridge.upsertCustomer(ana)
  const yen = (amount) => new Money(amount, 'jpy')
  await bridge.adjustBalance(ana, yen(-6570), { reason: 'Prepaid', adjustmentId: 'PKG-1' })
  const draft = new InvoiceDraft({
    payer: ana,
    hostId: 'INV-YEN',
    lines: [new InvoiceLine({ description: 'Treatment', unitAmount: yen(6600) })],
  })
  const preview = await bridge.preview(draft)
  assert.ok(preview.amountDue.equals(yen(0)) && preview.carriedToBalance.equals(yen(30)))
  const invoice = await bridge.raiseInvoice(draft, { patient: ana, mode: 'finalize' })
  assert.equal(invoice.status, 'paid')
  assert.ok(invoice.amountDue.equals(yen(0)) && invoice.amountPaid.equals(yen(0)))
  assert.ok(invoice.carriedToBalance.equals(yen(30)))
  assert.ok((await bridge.balance(ana)).equals(yen(30)))
})
