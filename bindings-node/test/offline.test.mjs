// Offline billing: the same workflow with no Stripe, its books in SQLite.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'

import {
  BillingRate, InvalidStateError, LedgerRecord, MemoryLedgerStore, OfflineBilling, Service,
  SqliteStore, ValidationError,
} from 'billbridge'
import { draftFor, gbp, patient, temporaryFolder } from './helpers.mjs'

test('offline invoices are numbered, paid in parts and reported; the books survive a restart', async () => {
  const path = join(temporaryFolder(), 'books.db')
  const billing = new OfflineBilling({ store: await SqliteStore.open(path), numberPrefix: 'HH' })
  const john = patient()
  const raised = await billing.raiseInvoice(draftFor(john, 'INV-1', 5000, 2500), { on: '2026-01-01', metadata: { clinic: 'Harbour' } })
  assert.equal(raised.status, 'open')
  assert.ok(raised.number.startsWith('HH'))
  await billing.recordPayment('INV-1', gbp(5000), { method: 'insurance', on: '2026-01-02', reference: 'CLAIM-1' })
  const paid = await billing.recordPayment('INV-1', gbp(2500), { method: 'cash', on: '2026-01-03' })
  assert.equal(paid.status, 'paid')
  await assert.rejects(billing.recordPayment('INV-1', gbp(1), { method: 'cash', on: '2026-01-03' }), (error) => error.code && error.category !== 'internal')
  await assert.rejects(billing.recordPayment('INV-1', gbp(1), { method: 'cash', on: '2026-02-30' }), ValidationError)

  const reopened = new OfflineBilling({ store: await SqliteStore.open(path) })
  const ledger = await reopened.invoice('INV-1')
  assert.ok(ledger instanceof LedgerRecord)
  assert.equal(ledger.payments.length, 2)
  assert.ok(ledger.amountRemaining.isZero())
  assert.equal(ledger.metadata.clinic, 'Harbour')
  assert.equal(ledger.toRecord().status, 'paid')
  const payments = await reopened.paymentsReceived('2026-01-01', '2026-01-31')
  assert.deepEqual(payments.map((payment) => payment.channel), ['insurance', 'cash'])
  assert.equal(await reopened.invoice('INV-404'), null)
})

test('offline billing voids, writes off, bills services and shows a portal', async () => {
  const billing = new OfflineBilling({ ledger: new MemoryLedgerStore() })
  const john = patient()
  await billing.raiseInvoice(draftFor(john, 'INV-V', 1000), { on: '2026-01-01' })
  assert.equal((await billing.void('INV-V', '2026-01-02')).status, 'void')
  await assert.rejects(billing.void('INV-V', '2026-01-02'), InvalidStateError)
  await billing.raiseInvoice(draftFor(john, 'INV-U', 2000), { on: '2026-01-01' })
  assert.equal((await billing.markUncollectible('INV-U', '2026-01-05')).status, 'uncollectible')
  const rates = [new BillingRate({ id: 'R-INS', name: 'General Service', invoiced: true, payer: 'insurance' })]
  const services = [new Service({ id: 'S-1', patientId: 'P-1001', date: '2026-01-01', rateId: 'R-INS', amount: gbp(9000) })]
  const [billed] = await billing.raiseForServices(services, rates, { invoicedOn: '2026-01-06', defaultPayers: { 'P-1001': 'ORG-1' } })
  assert.deepEqual(billed.serviceIds, ['S-1'])
  assert.equal(billed.invoice.payer.toString(), 'organisation:ORG-1')
  assert.equal(billed.services[0].invoicedOn, '2026-01-06')
  assert.deepEqual((await billing.outstanding()).map((record) => record.hostInvoiceId), [billed.invoice.hostInvoiceId])
  assert.equal((await billing.invoices({ status: 'uncollectible' })).length, 1)
  const portal = await billing.portal(john)
  assert.ok(portal.remainingIn('gbp').equals(gbp(2000)))
  assert.ok((await billing.rebuildMirrors()) >= 3)
})
