// The examples run as documented: the practice day end to end, and the node:http
// webhook endpoint receiving signed deliveries from the mock over real HTTP requests.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { Money, PayerRef } from 'billbridge'
import { EXAMPLES, draftFor, linkExamples, mockBridge, patient, temporaryFolder } from './helpers.mjs'

before(linkExamples)

const gbp = (pence) => new Money(pence, 'gbp')

function csv(path) {
  const [header, ...rows] = readFileSync(path, 'utf8').trim().split('\n')
  const names = header.split(',')
  return rows.map((row) => Object.fromEntries(row.split(',').map((value, index) => [names[index], value])))
}

test('the practice day ends as the scenario says', async () => {
  const { main } = await import(join(EXAMPLES, 'practice_day.mjs'))
  const folder = temporaryFolder('harbour-health-')
  const invoices = await main(folder)
  // John's credit covers the follow-up: only the kit is due.
  assert.equal(invoices['APT-2'].status, 'open')
  assert.ok(invoices['APT-2'].total.equals(gbp(8500)) && invoices['APT-2'].amountDue.equals(gbp(3500)))
  // María's insurer is the customer; her patient metadata rides on the invoice.
  assert.ok(invoices['APT-3'].payer.equals(PayerRef.organisation('ORG-1')))
  assert.equal(invoices['APT-3'].patientId, 'P-1002')
  assert.ok(Object.values(invoices['APT-3'].metadata).includes('P-1002'))
  // Aiko's postage debit is added to her invoice.
  assert.ok(invoices['APT-4'].amountDue.equals(gbp(7950)))
  // Ben paid cash; Chloé paid on the hosted page and the webhook told the host.
  assert.deepEqual([invoices['APT-5'].status, invoices['APT-5'].paidOutsideMethod], ['paid', 'cash'])
  assert.equal(invoices['APT-6'].status, 'paid')
  assert.ok(invoices['APT-6'].amountPaid.equals(gbp(7500)))
  assert.equal(invoices['APT-7'].status, 'void')
  // Eli is billed the 40.00 insurance remainder.
  assert.ok(invoices['SVC-ELI-1'].amountDue.equals(gbp(4000)))
  assert.ok(invoices['SVC-ELI-1'].payer.equals(PayerRef.patient('P-1007')))
  // End of day: the CSV reports, one written to a path, one through a stream.
  const outstanding = csv(join(folder, 'outstanding.csv'))
  assert.deepEqual(new Set(outstanding.map((row) => row.status)), new Set(['open']))
  assert.equal(outstanding.length, 4)
  assert.ok(outstanding.some((row) => row.patient_name === 'John Deer'))
  assert.ok(outstanding.some((row) => row.appointment_practitioner === 'Dr Amara Okafor'))
  assert.deepEqual(csv(join(folder, 'payments.csv')).map((row) => row.method).sort(), ['cash', 'stripe'])
})

let endpoint
before(async () => {
  linkExamples()
  const { createWebhookServer } = await import(join(EXAMPLES, 'webhook_server.mjs'))
  const { stripe, bridge } = mockBridge()
  const { server, invoices } = createWebhookServer({ bridge })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  endpoint = { stripe, bridge, server, invoices, url: `http://127.0.0.1:${server.address().port}/stripe/webhooks` }
})
after(() => endpoint?.server.close())

const deliver = (delivery, header = delivery.signatureHeader) =>
  fetch(endpoint.url, { method: 'POST', headers: { 'stripe-signature': header, 'content-type': 'application/json' }, body: delivery.body })

test('the webhook endpoint takes signed deliveries over HTTP and updates the host\'s records', async () => {
  const { stripe, bridge, invoices } = endpoint
  const john = patient()
  await bridge.upsertCustomer(john)
  const record = await bridge.raiseInvoice(draftFor(john, 'INV-W1', 5000), { mode: 'finalize_and_send' })
  await stripe.payInvoice(record.stripeInvoiceId)
  const deliveries = stripe.takeWebhooks()
  assert.ok(deliveries.length >= 3)
  for (const delivery of deliveries) {
    const response = await deliver(delivery)
    assert.equal(response.status, 200, await response.clone().text())
    assert.equal((await response.json()).received, delivery.eventId)
  }
  assert.equal(invoices.get('INV-W1'), 'paid')
  assert.equal((await bridge.invoice('INV-W1')).status, 'paid')

  // A redelivery is answered 2xx and changes nothing.
  const again = await deliver(deliveries.at(-1))
  assert.deepEqual([again.status, (await again.json()).disposition], [200, 'duplicate'])
})

test('the webhook endpoint refuses a forged or unsigned delivery with 400', async () => {
  const { stripe, bridge, invoices } = endpoint
  const ada = patient('P-2', { givenName: 'Ada' })
  await bridge.upsertCustomer(ada)
  const record = await bridge.raiseInvoice(draftFor(ada, 'INV-W2', 5000), { mode: 'finalize_and_send' })
  stripe.takeWebhooks()
  await stripe.payInvoice(record.stripeInvoiceId)
  const [delivery] = stripe.takeWebhooks()
  const forged = delivery.signatureHeader.replace(/v1=[0-9a-f]{4}/, 'v1=0000')
  const refused = await deliver(delivery, forged)
  assert.deepEqual([refused.status, (await refused.json()).error], [400, 'signature_mismatch'])
  const unsigned = await fetch(endpoint.url, { method: 'POST', body: delivery.body })
  assert.deepEqual([unsigned.status, (await unsigned.json()).error], [400, 'missing_header'])
  assert.notEqual(invoices.get('INV-W2'), 'paid')
  assert.equal((await bridge.invoice('INV-W2')).status, 'open')
})
