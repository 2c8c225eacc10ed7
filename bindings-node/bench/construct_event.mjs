// Measures webhook verification plus typed reading of one `invoice.paid` delivery:
// billbridge's `constructEvent` against the official `stripe` package's
// `webhooks.constructEvent`, in the same process on the same bytes, each reading the
// same fields (id, type, invoice id, customer, status, currency, amount paid). Prints
// figures; it is a measurement, not a test (target: billbridge at least 1.5× faster).
//
// Run after a release build: `npm run build && node bench/construct_event.mjs`.
import { readFileSync } from 'node:fs'

import Stripe from 'stripe'

import { constructEvent, signPayload } from 'billbridge'

const ITERATIONS = 20_000
const ROUNDS = 5

// Stripe's published invoice example with 5 lines and 6 metadata keys (about 8 KB), as
// the Rust measurement (examples/bench_webhook.rs) builds it.
const invoice = JSON.parse(readFileSync(new URL('../../tests/data/stripe/fixtures/invoice.json', import.meta.url), 'utf8'))
const line = invoice.lines.data[0]
invoice.lines.data = Array.from({ length: 5 }, (_, index) => ({
  ...structuredClone(line),
  id: `il_benchmark${String(index).padStart(4, '0')}`,
  description: `Follow-up session ${index}`,
}))
invoice.status = 'paid'
invoice.metadata = {
  host_patient_id: 'P-1001',
  host_invoice_id: 'INV-2026-0042',
  patient_name: 'John Deer',
  registered_practitioner: 'Dr Amara Okafor',
  appointment_location: 'Harbour Street Clinic',
  appointment_practitioner: 'Dr Amara Okafor',
}
const now = Math.floor(Date.now() / 1000)
const payload = Buffer.from(
  JSON.stringify({
    id: 'evt_benchmark0001',
    object: 'event',
    api_version: '2026-07-29.dahlia',
    created: now,
    data: { object: invoice },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'invoice.paid',
  }),
)
const secret = 'whsec_benchmark_secret_0123456789'
const header = signPayload(payload, secret, { timestamp: now })
const stripe = new Stripe('sk_test_benchmark')

function billbridgeFields() {
  const event = constructEvent(payload, header, secret)
  return [event.id, event.type, event.objectId, event.customerId, event.status, event.currency.code, event.amountPaid.amount]
}

function stripeFields() {
  const event = stripe.webhooks.constructEvent(payload, header, secret)
  const object = event.data.object
  return [event.id, event.type, object.id, object.customer, object.status, object.currency, object.amount_paid]
}

const same = JSON.stringify(billbridgeFields()) === JSON.stringify(stripeFields())
if (!same) throw new Error(`the two read different fields: ${billbridgeFields()} vs ${stripeFields()}`)

/** Mean microseconds per call over ITERATIONS, after a warm-up. */
function perCall(call) {
  let sink = 0
  for (let index = 0; index < ITERATIONS / 10; index += 1) sink += call().length
  const start = process.hrtime.bigint()
  for (let index = 0; index < ITERATIONS; index += 1) sink += call().length
  const elapsed = Number(process.hrtime.bigint() - start) / 1000
  if (sink === 0) throw new Error('nothing was read')
  return elapsed / ITERATIONS
}

const best = { billbridge: Infinity, stripe: Infinity }
for (let round = 0; round < ROUNDS; round += 1) {
  best.billbridge = Math.min(best.billbridge, perCall(billbridgeFields))
  best.stripe = Math.min(best.stripe, perCall(stripeFields))
}
console.log(`payload: invoice.paid, ${payload.length} bytes; ${ITERATIONS} calls × ${ROUNDS} rounds, best round`)
console.log(`billbridge constructEvent + typed fields:        ${best.billbridge.toFixed(2).padStart(8)} µs`)
console.log(`stripe webhooks.constructEvent + the same fields: ${best.stripe.toFixed(2).padStart(7)} µs`)
console.log(`billbridge is ${(best.stripe / best.billbridge).toFixed(2)}× faster (target ≥ 1.5×)`)
