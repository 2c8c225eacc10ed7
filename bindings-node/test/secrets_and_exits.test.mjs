// Secrets and personal data never show through the Node binding, and no input, panic
// or exit takes the process down.
//
// Secrets: every secret and personal field gets a distinctive canary value, a practice
// day runs on the mock, and `String()`, `util.inspect` (plain and `showHidden`) and
// `util.format('%o')` of every object met (keys, transports, policies, bridges,
// parties, drafts, records, the mock's recorded requests, events, webhook outcomes) and
// every error (its inspection shows the stack and the own properties) are scanned for
// the canaries. Stripe's own message, which can echo what was sent, stays behind the
// non-enumerable `stripeMessage`. The library logs nothing of its own (no console call
// in the package, no print in the core): the day also runs in a child process whose
// whole stdout and stderr are scanned.
//
// No abort: malformed inputs (wrong types, BigInt and Symbol, numbers beyond every
// range, NaN and Infinity, lone surrogates, invalid UTF-8, null and undefined), the
// forced panics (sync and async) and an exit with calls in flight (by `process.exit`,
// by a natural end, and by terminating a worker thread mid-call), all in one small
// program run 50 times in child processes: every run must end with code 0 and its
// closing line. `exit.test.mjs` covers an uncaught error with calls in flight.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { format, inspect } from 'node:util'
import { test } from 'node:test'

import { PACKAGE } from './helpers.mjs'

const require = createRequire(import.meta.url)

const CANARY = {
  secretKey: 'sk_test_CanarySecretKey7Qx9Hv',
  restrictedKey: 'rk_live_CanaryRestrictedKey4Zp',
  webhookSecret: 'whsec_CanaryWebhookSecret3Lm8',
  idempotencySecret: 'canary-idempotency-secret-8Kd2',
  practiceSecret: 'canary-practice-secret-5Vt1Qa',
  proxyPassword: 'CanaryProxyPassword6Wn',
  givenName: 'Zebedee',
  familyName: 'Quillfeather',
  email: 'zebedee.quill@canary.example',
  newEmail: 'z.quillfeather@canary.example',
  mobile: '+447700900987',
  postcode: 'ZZ9 9QX',
  dateOfBirth: '1968-07-14',
  gender: 'Canarygender',
  practitionerName: 'Dr Cassia Canaryman',
  organisationName: 'Quillfeather Family Trust',
  organisationEmail: 'trustee@quill-trust.example',
  organisationPhone: '+441170000321',
  lineDescription: "Knee review for Zebedee's canary injury",
  lineMetadataValue: 'canary-line-metadata-value-77',
  memo: 'Canary memo about the patient',
  footer: 'Canary footer for the patient',
  billingArrangement: 'Canary arrangement with the trust',
  balanceReason: 'Canary refund for the missed visit',
  paymentReference: 'CANARY-CHEQUE-REF-4411',
}

const CANARIES = [
  ...Object.values(CANARY),
  'CanarySecretKey7Qx9Hv',
  'CanaryRestrictedKey4Zp',
  'CanaryWebhookSecret3Lm8',
  '7700900987',
  '1968-02-30',
]

function assertClean(what, shown) {
  for (const canary of CANARIES) {
    assert.ok(!shown.includes(canary), `${what} shows ${JSON.stringify(canary)}:\n${shown}`)
  }
}

/** Every way a value is commonly printed. */
function renderings(value) {
  const shown = [
    inspect(value),
    inspect(value, { showHidden: true, depth: Infinity }),
    format('%o %O %s', value, value, value),
  ]
  try {
    shown.push(String(value))
  } catch {
    // A value without a string form (an object with a null prototype) has none to leak.
  }
  if (value instanceof Error) shown.push(value.stack ?? '')
  return shown.join('\n')
}

function assertCleanValue(what, value) {
  assertClean(what, renderings(value))
}

async function thrown(action) {
  try {
    await action()
  } catch (error) {
    return error
  }
  assert.fail('expected an error')
}

// The practice day, as a CommonJS program so that it runs here and in a child process
// alike; it returns every value it met.
const DAY = `
const billbridge = require(${JSON.stringify(PACKAGE)})
const CANARY = ${JSON.stringify(CANARY)}
const { Money, Patient, Organisation, InvoiceLine, InvoiceDraft, AppointmentContext, MetadataPolicy } = billbridge
const gbp = (pence) => new Money(pence, 'gbp')
const practitioner = { id: 'PR-9', name: CANARY.practitionerName }
const zebedee = (email = CANARY.email) => new Patient({
  id: 'P-9001', givenName: CANARY.givenName, familyName: CANARY.familyName, dateOfBirth: CANARY.dateOfBirth,
  gender: CANARY.gender, mobile: CANARY.mobile, email, postcode: CANARY.postcode, registeredPractitioner: practitioner,
})
const trust = () => new Organisation({ id: 'ORG-9', name: CANARY.organisationName, email: CANARY.organisationEmail, phone: CANARY.organisationPhone })
const appointment = () => new AppointmentContext({
  appointmentId: 'APT-9', date: '2026-03-02', locationId: 'LOC-9', locationName: 'Harbour Street Clinic',
  practitioner, billingAndCollection: CANARY.billingArrangement,
})
const draft = (hostId) => new InvoiceDraft({
  payer: zebedee(), hostId, memo: CANARY.memo, footer: CANARY.footer, dueInDays: 14, context: appointment(),
  lines: [
    new InvoiceLine({ description: CANARY.lineDescription, unitAmount: gbp(6500), metadata: { ward: CANARY.lineMetadataValue } }),
    new InvoiceLine({ description: CANARY.lineDescription, unitAmount: gbp(-1500) }),
  ],
})
const policy = () => MetadataPolicy.heroCompatible().withKey('patient_email', 'customer', 'patient_email').withPseudonymSecret(CANARY.practiceSecret)

async function day() {
  const shown = []
  const met = (what, value) => { shown.push([what, value]); return value }
  const stripe = met('MockStripe', new billbridge.MockStripe({ apiKey: CANARY.secretKey }))
  stripe.setWebhookOptions({ signatureTime: 'mock_clock' })
  const bridge = met('Billbridge', new billbridge.Billbridge({
    stripe, idempotencySecret: CANARY.idempotencySecret, webhookSecret: stripe.webhookSecret, metadataPolicy: met('MetadataPolicy', policy()),
  }))
  const patient = met('Patient', zebedee())
  met('Organisation', trust())
  met('AppointmentContext', appointment())
  met('InvoiceDraft', draft('INV-S0'))
  met('InvoiceLine', draft('INV-S0').lines[0])
  met('CustomerRecord', await bridge.upsertCustomer(patient))
  met('CustomerRecord', await bridge.upsertCustomer(trust()))
  met('BalanceAdjustment', await bridge.adjustBalance(patient, gbp(-2500), { reason: CANARY.balanceReason, adjustmentId: 'ADJ-9' }))
  met('InvoicePreview', await bridge.preview(draft('INV-S1')))
  const raised = met('InvoiceRecord', await bridge.raiseInvoice(draft('INV-S1'), { mode: 'finalize_and_send', patient }))
  await bridge.raiseInvoice(draft('INV-S2'), { mode: 'finalize', patient })
  met('InvoiceRecord paid outside', await bridge.markPaidOutsideStripe('INV-S2', { method: 'cheque', reference: CANARY.paymentReference }))
  await bridge.upsertCustomer(zebedee(CANARY.newEmail))
  const deliveries = stripe.takeWebhooks()
  for (const delivery of deliveries) {
    met('WebhookDelivery', delivery)
    met('Event', billbridge.constructEvent(delivery.body, delivery.signatureHeader, stripe.webhookSecret, { now: delivery.signedAt }))
    const outcome = met('WebhookOutcome', await bridge.handleWebhook(delivery.body, delivery.signatureHeader))
    for (const change of outcome.changes) met('WebhookChange', change)
  }
  const portal = met('Portal', await bridge.portal(patient))
  for (const invoice of portal.invoices) met('PortalInvoice', invoice)
  for (const record of await bridge.invoices()) met('InvoiceRecord', record)
  for (const record of await bridge.stripeInvoices()) met('InvoiceRecord', record)
  for (const payment of await bridge.paymentsReceived('2000-01-01', '2100-01-01')) met('Payment', payment)
  const requests = stripe.requests()
  for (const request of requests) met('RecordedRequest', request)
  const offline = new billbridge.OfflineBilling()
  met('offline InvoiceRecord', await offline.raiseInvoice(draft('INV-O1'), { on: '2026-03-02', metadata: { patient_name: CANARY.givenName } }))
  met('offline InvoiceRecord', await offline.recordPayment('INV-O1', gbp(1000), { method: 'cheque', on: '2026-03-02', reference: CANARY.paymentReference }))
  met('LedgerRecord', await offline.invoice('INV-O1'))
  return { shown, raised, deliveries, requests }
}
`

const runDay = new Function('require', `${DAY}\nreturn day()`)

test('keys, secrets, transports, policies and bridges show no secret', async () => {
  const billbridge = require(PACKAGE)
  for (const key of [new billbridge.ApiKey(CANARY.secretKey), new billbridge.ApiKey(CANARY.restrictedKey)]) {
    assertCleanValue('ApiKey', key)
    assertClean('ApiKey JSON', JSON.stringify(key))
  }
  assert.equal(String(new billbridge.ApiKey(CANARY.secretKey)), 'sk_test_[redacted]')
  const secret = new billbridge.WebhookSecret(CANARY.webhookSecret)
  assertCleanValue('WebhookSecret', secret)
  assertClean('WebhookSecret JSON', JSON.stringify(secret))
  assertCleanValue('HttpTransport', new billbridge.HttpTransport(CANARY.secretKey, { baseUrl: `https://billing:${CANARY.proxyPassword}@proxy.example/stripe` }))
  const policy = billbridge.MetadataPolicy.heroCompatible().withPseudonymSecret(CANARY.practiceSecret)
  assertCleanValue('MetadataPolicy', policy)
  assert.match(String(policy), /pseudonym secret: set/)
  const stripe = new billbridge.MockStripe({ apiKey: CANARY.secretKey })
  assertCleanValue('MockStripe', stripe)
  assertCleanValue('Billbridge', new billbridge.Billbridge({ stripe, idempotencySecret: CANARY.idempotencySecret, webhookSecret: CANARY.webhookSecret, metadataPolicy: policy }))

  for (const refused of [
    () => new billbridge.ApiKey('pk_test_CanarySecretKey7Qx9Hv'),
    () => new billbridge.ApiKey('sk_CanarySecretKey7Qx9Hv'),
    () => new billbridge.ApiKey('sk_test_CanarySecretKey7Qx9Hv '),
    () => new billbridge.HttpTransport(CANARY.restrictedKey.replace('rk_', 'xk_')),
    () => new billbridge.HttpTransport(CANARY.secretKey, { baseUrl: `ftp://billing:${CANARY.proxyPassword}@proxy.example` }),
    () => new billbridge.WebhookSecret('CanaryWebhookSecret3Lm8'),
    () => new billbridge.Billbridge({ stripe, idempotencySecret: 'CanaryWebhook' }),
    () => billbridge.MetadataPolicy.heroCompatible().withPseudonymSecret('Canary'),
  ]) {
    const error = await thrown(refused)
    assert.ok(error instanceof billbridge.ValidationError, inspect(error))
    assertCleanValue('a refused secret', error)
  }
})

test('refused personal values are not echoed by their errors', async () => {
  const billbridge = require(PACKAGE)
  const base = { id: 'P-9001', givenName: CANARY.givenName, familyName: CANARY.familyName }
  for (const refused of [
    () => new billbridge.Patient({ ...base, email: `${CANARY.email} ${CANARY.mobile}` }),
    () => new billbridge.Patient({ ...base, mobile: `${CANARY.mobile} ${CANARY.givenName}` }),
    () => new billbridge.Patient({ ...base, dateOfBirth: '1968-02-30' }),
    () => new billbridge.InvoiceDraft({
      payer: new billbridge.Patient(base),
      lines: [new billbridge.InvoiceLine({ description: CANARY.lineDescription, unitAmount: new billbridge.Money(100, 'gbp'), metadata: { ward: CANARY.lineMetadataValue.repeat(20) } })],
    }).validate(),
    // A value in the wrong field of a JSON form: the decoder's message names the type
    // it expected, not the value it got.
    () => billbridge.Patient.fromJSON({ ...base, dateOfBirth: 19680714 }),
    () => billbridge.Patient.fromJSON({ ...base, gender: [CANARY.gender] }),
    () => billbridge.InvoiceDraft.fromJSON({ payer: { kind: CANARY.givenName, id: 'P-9001' } }),
    () => billbridge.InvoiceDraft.fromJSON({ payer: { kind: 'patient', id: 'P-9001' }, revision: CANARY.familyName }),
  ]) {
    const error = await thrown(refused)
    assert.ok(error instanceof billbridge.ValidationError, inspect(error))
    assertCleanValue('a refused personal value', error)
    assert.ok(!renderings(error).includes('19680714'), inspect(error))
  }
})

test("a Stripe error echoing the request keeps Stripe's text behind stripeMessage", async () => {
  const billbridge = require(PACKAGE)
  const server = createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      const body = JSON.stringify({ error: {
        type: 'invalid_request_error', code: 'email_invalid', param: 'email',
        message: `Invalid email address: ${CANARY.email} (${CANARY.givenName} ${CANARY.familyName})`,
      } })
      response.writeHead(400, { 'content-type': 'application/json', 'request-id': 'req_canary' })
      response.end(body)
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const stripe = new billbridge.HttpTransport(CANARY.secretKey, { baseUrl: `http://127.0.0.1:${server.address().port}` })
    const bridge = new billbridge.Billbridge({ stripe, idempotencySecret: CANARY.idempotencySecret })
    const patient = new billbridge.Patient({ id: 'P-9001', givenName: CANARY.givenName, familyName: CANARY.familyName, email: CANARY.email })
    const error = await thrown(() => bridge.upsertCustomer(patient))
    assert.ok(error instanceof billbridge.StripeApiError, inspect(error))
    assert.equal(error.code, 'stripe_invalid_request')
    assert.equal(error.param, 'email')
    assert.ok(error.stripeMessage.includes(CANARY.email), 'reachable for the person who asked')
    assertCleanValue('a Stripe error', error)
    assertClean('a Stripe error as JSON', JSON.stringify(error))
  } finally {
    server.close()
  }
})

test('a practice day shows nothing personal and sends no personal idempotency key', async () => {
  const { shown, raised, deliveries, requests } = await runDay(require)
  const links = [raised.hostedInvoiceUrl, raised.invoicePdf]
  assert.ok(links.every(Boolean), 'a sent invoice has both links')
  assert.ok(deliveries.some((delivery) => delivery.eventType === 'customer.updated'))
  assert.ok(requests.some((request) => request.params.some(([key, value]) => key === 'email' && value === CANARY.email)), 'the email was sent')
  for (const [what, value] of shown) {
    const text = renderings(value)
    assertClean(what, text)
    for (const link of links) assert.ok(!text.includes(link), `${what} shows a pay link: ${text}`)
  }
  const keys = requests.map((request) => request.idempotencyKey).filter(Boolean)
  assert.ok(keys.length >= 8, `${keys.length} keys`)
  for (const key of keys) assert.match(key, /^bb1_[0-9a-f]{64}$/)
})

test('a practice day writes nothing of its own to stdout or stderr', () => {
  const child = spawnSync(process.execPath, ['-e', `${DAY}\nday().then(() => console.log('day done'))`], { encoding: 'utf8', timeout: 120_000 })
  assert.deepEqual([child.status, child.signal], [0, null], child.stderr)
  assert.equal(child.stdout.trim(), 'day done')
  assertClean('stderr', child.stderr)
})

const NO_ABORT = `
const { Worker } = require('node:worker_threads')
const billbridge = require(${JSON.stringify(PACKAGE)})
const { Billbridge, HttpTransport, InvoiceDraft, InvoiceLine, MockStripe, Money, Patient } = billbridge
const stripe = new MockStripe()
const bridge = new Billbridge({ stripe, idempotencySecret: 'no-abort-test-secret-0123', webhookSecret: stripe.webhookSecret })
const money = new Money(5000, 'gbp')
const patient = new Patient({ id: 'P-1', givenName: 'Ada', familyName: 'Lovelace' })
const line = new InvoiceLine({ description: 'Visit', unitAmount: money })
const body = Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0xff, 0xfe, 0x7d])
const signed = billbridge.signPayload(body, stripe.webhookSecret)

// [what, action, whether it may also be accepted]: a lone surrogate becomes U+FFFD on
// its way to UTF-8, which is a valid (if odd) value.
const CASES = [
  ['a string amount', () => new Money('5000', 'gbp')],
  ['a numeric currency', () => new Money(5000, 826)],
  ['a BigInt amount', () => new Money(5000n, 'gbp')],
  ['a Symbol amount', () => new Money(Symbol('x'), 'gbp')],
  ['an object as a description', () => new InvoiceLine({ description: {}, unitAmount: money })],
  ['a number as Money', () => new InvoiceLine({ description: 'Visit', unitAmount: 5000 })],
  ['a numeric patient id', () => new Patient({ id: 1001, givenName: 'A', familyName: 'B' })],
  ['no patient at all', () => new Patient()],
  ['a string as a party', () => bridge.upsertCustomer('P-1')],
  ['a patient as a draft', () => bridge.raiseInvoice(patient)],
  ['a number as a body', () => bridge.handleWebhook(12345, 't=1,v1=00')],
  ['an object as the stripe', () => new Billbridge({ stripe: {}, idempotencySecret: 'no-abort-test-secret-0123' })],
  ['no options', () => new Billbridge()],
  ['a string seed', () => new MockStripe({ seed: 'seven' })],
  ['2^64 pence', () => new Money(2 ** 64, 'gbp')],
  ['the largest double', () => new Money(Number.MAX_VALUE, 'gbp')],
  ['-2^63 pence', () => new Money(-(2 ** 63), 'gbp')],
  ['a quantity of 2^40', () => new InvoiceLine({ description: 'Visit', unitAmount: money, quantity: 2 ** 40 })],
  ['a negative quantity', () => new InvoiceLine({ description: 'Visit', unitAmount: money, quantity: -1 })],
  ['2^40 days until due', () => new InvoiceDraft({ payer: patient, lines: [line], dueInDays: 2 ** 40 })],
  ['advancing 2^80 seconds', () => stripe.advance(2 ** 80)],
  ['a time before year 1', () => stripe.setTime(-(2 ** 70))],
  ['a 2^80 seed', () => new MockStripe({ seed: 2 ** 80 })],
  ['a resync from 2^90', () => bridge.resyncChangedSince(2 ** 90)],
  ['a NaN amount', () => new Money(NaN, 'gbp')],
  ['an infinite amount', () => new Money(Infinity, 'gbp')],
  ['a NaN latency', () => stripe.setLatency(NaN)],
  ['an infinite latency', () => stripe.setLatency(Infinity)],
  ['a negative latency', () => stripe.setLatency(-1)],
  ['a NaN timeout', () => new HttpTransport('sk_test_abc123', { timeout: NaN })],
  ['an infinite connect timeout', () => new HttpTransport('sk_test_abc123', { connectTimeout: Infinity })],
  ['a NaN fault rate', () => stripe.failRandomly('/v1/customers', 'server_error', { rate: NaN })],
  ['a NaN quantity', () => new InvoiceLine({ description: 'Visit', unitAmount: money, quantity: NaN })],
  ['advancing NaN seconds', () => stripe.advance(NaN)],
  ['a resync from Infinity', () => bridge.resyncChangedSince(Infinity)],
  ['a lone surrogate in an id', () => new Patient({ id: 'P-\\uD800', givenName: 'A', familyName: 'B' }), true],
  ['a lone surrogate in a description', () => new InvoiceLine({ description: 'Visit \\uDCFF', unitAmount: money }), true],
  ['a lone surrogate in a key', () => new billbridge.ApiKey('sk_test_\\uD800')],
  ['a lone surrogate in an amount', () => Money.parse('1\\uD800', 'gbp')],
  ['a lone surrogate in a body', () => bridge.handleWebhook('{\\uD800}', signed)],
  ['a body that is not UTF-8', () => bridge.handleWebhook(body, signed)],
  ['parsing a body that is not UTF-8', () => billbridge.parse(body)],
  ['verifying a body that is not UTF-8', () => billbridge.constructEvent(body, signed, stripe.webhookSecret)],
  ['a null amount', () => new Money(null, 'gbp')],
  ['an undefined amount', () => new Money(undefined, 'gbp')],
  ['a null id', () => new Patient({ id: null, givenName: 'A', familyName: 'B' })],
  ['a null draft payer', () => new InvoiceDraft({ payer: null })],
  ['an undefined party', () => bridge.upsertCustomer(undefined)],
  ['a null invoice id', () => bridge.invoice(null)],
  ['an undefined invoice id', () => bridge.invoice(undefined)],
  ['a null body and header', () => bridge.handleWebhook(null, null)],
  ['a null header', () => billbridge.constructEvent(body, null, stripe.webhookSecret)],
]

async function main() {
  let refused = 0
  for (const [what, action, mayBeAccepted] of CASES) {
    try {
      await action()
      if (!mayBeAccepted) throw Object.assign(new Error('accepted: ' + what), { accepted: true })
    } catch (error) {
      if (error?.accepted) throw error
      if (!(error instanceof Error)) throw new Error(what + ' threw a non-Error: ' + String(error))
      refused += 1
    }
  }
  let panics = 0
  try { billbridge._panicForTests('forced sync panic') } catch (error) { if (error instanceof Error) panics += 1 }
  await billbridge._panicForTests('forced async panic', true).catch((error) => {
    if (error instanceof billbridge.InternalError && error.code === 'panic') panics += 1
  })

  stripe.setLatency(0.02)
  const work = Array.from({ length: 40 }, (_, index) =>
    bridge.upsertCustomer(new Patient({ id: 'P-' + index, givenName: 'A', familyName: 'B' })))
  console.log('refused ' + refused + ' of ' + CASES.length + ', caught ' + panics + ' panics, exiting with calls in flight')
  if (EXIT === 'process.exit') {
    setImmediate(() => process.exit(0))
  } else if (EXIT === 'worker') {
    const worker = new Worker(\`
      const { parentPort } = require('node:worker_threads')
      const { Billbridge, MockStripe, Patient } = require(\${JSON.stringify(${JSON.stringify(PACKAGE)})})
      const stripe = new MockStripe()
      stripe.setLatency(0.02)
      const bridge = new Billbridge({ stripe, idempotencySecret: 'no-abort-worker-secret-01' })
      for (let index = 0; index < 20; index += 1) {
        bridge.upsertCustomer(new Patient({ id: 'W-' + index, givenName: 'A', familyName: 'B' })).catch(() => {})
      }
      parentPort.postMessage('started')
    \`, { eval: true })
    worker.once('message', () => worker.terminate().then(() => Promise.allSettled(work)))
  } else {
    await Promise.allSettled(work)
  }
}
main().catch((error) => { console.error(error); process.exit(3) })
`

test('no input, panic or exit with calls in flight ever crashes the process', () => {
  // A crash shows as a signal or an exit code other than 0; 50 runs, the three exits
  // taking turns.
  const runs = 50
  const exits = ['process.exit', 'worker', 'natural']
  const failures = []
  for (let run = 0; run < runs; run += 1) {
    const exit = exits[run % exits.length]
    const child = spawnSync(process.execPath, ['-e', `const EXIT = ${JSON.stringify(exit)}\n${NO_ABORT}`], { encoding: 'utf8', timeout: 120_000 })
    if (child.status !== 0 || child.signal !== null || !/caught 2 panics, exiting with calls in flight/.test(child.stdout)) {
      failures.push({ run, exit, status: child.status, signal: child.signal, out: child.stdout.slice(-300), err: child.stderr.slice(-800) })
    }
  }
  assert.deepEqual(failures.slice(0, 3), [])
})
