// The table of bad inputs (tests/data/bad_inputs.json) through the Node binding: each
// row must throw (or reject with) the BillbridgeError subclass of its category with the
// core's code, never crash the process, and leave nothing half-sent — the mock's
// request log is unchanged (or holds only 401 refusals), the loopback stub saw exactly
// the expected attempts under one idempotency key, and the bridge recorded nothing.
// The Rust, Python and Kotlin tests read the same table.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'

import * as billbridge from 'billbridge'
import {
  BillbridgeError, Billbridge, Currency, HttpTransport, InvoiceDraft, InvoiceLine, MetadataPolicy,
  MockStripe, Money, Patient, constructEvent, signPayload,
} from 'billbridge'
import { DATA } from './helpers.mjs'

const TABLE = JSON.parse(readFileSync(join(DATA, 'bad_inputs.json'), 'utf8'))
const RUNS_HERE = new Set(Object.entries(TABLE.kinds).filter(([, about]) => about.bindings.includes('node')).map(([kind]) => kind))
const SECRET = 'node-bad-input-idempotency-secret'
const NOW = 1_790_000_000
const ENDPOINT_SECRET = 'whsec_bad_input_endpoint'
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

/** The table's generated values: `{"repeat"…}` strings and `{"entries"…}` maps. */
function expand(value) {
  if (Array.isArray(value)) return value.map(expand)
  if (value === null || typeof value !== 'object') return value
  if ('repeat' in value) return (value.prefix ?? '') + value.repeat.repeat(value.times) + (value.suffix ?? '')
  if ('entries' in value) {
    return Object.fromEntries(Array.from({ length: value.entries }, (_, index) => [`${value.key}${index}`, value.value]))
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expand(item)]))
}

const john = () => new Patient({ id: 'P-1001', givenName: 'John', familyName: 'Deer' })

const line = (spec, index) =>
  new InvoiceLine({
    description: `Session ${index + 1}`,
    unitAmount: new Money(spec.unit_amount, spec.currency ?? 'gbp'),
    quantity: spec.quantity ?? 1,
    ...(spec.metadata ? { metadata: spec.metadata } : {}),
  })

const draft = (lines) => new InvoiceDraft({ payer: john(), hostId: 'INV-1', lines: lines.map(line) })

async function practice() {
  const stripe = new MockStripe({ seed: 7 })
  const bridge = new Billbridge({ stripe, idempotencySecret: SECRET, webhookSecret: stripe.webhookSecret })
  await bridge.upsertCustomer(john())
  return { stripe, bridge }
}

// ---------------------------------------------------------------- over the mock

async function raiseLines(row, given) {
  const { stripe, bridge } = await practice()
  const sent = stripe.requests().length
  try {
    await bridge.raiseInvoice(draft(given.lines), { mode: 'draft', patient: john() })
  } finally {
    assert.equal(stripe.requests().length, sent, 'a refused raise sent a request')
    assert.equal(await bridge.invoice('INV-1'), null)
  }
}

function act(bridge, action) {
  switch (action) {
    case 'finalize': return bridge.finalize('INV-1')
    case 'send': return bridge.send('INV-1')
    case 'void': return bridge.void('INV-1')
    case 'mark_uncollectible': return bridge.markUncollectible('INV-1')
    case 'delete_draft': return bridge.deleteDraft('INV-1')
    case 'mark_paid_outside_stripe': return bridge.markPaidOutsideStripe('INV-1', { method: 'cash' })
    default: throw new Error(`unknown action ${action}`)
  }
}

async function transition(row, given) {
  const { stripe, bridge } = await practice()
  await bridge.raiseInvoice(draft([{ unit_amount: 5000 }]), { mode: 'draft', patient: john() })
  for (const step of given.steps) await act(bridge, step)
  const before = (await bridge.invoice('INV-1')).status
  const sent = stripe.requests().length
  try {
    await act(bridge, given.action)
  } finally {
    assert.equal(stripe.requests().length, sent, 'an illegal transition sent a request')
    assert.equal((await bridge.invoice('INV-1')).status, before)
  }
}

/** Sends `key` straight to the mock's HTTP front, as any HTTP client would. */
async function rawCreateCustomer(url, key) {
  const response = await fetch(`${url}/v1/customers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'name=Ada',
  })
  await response.arrayBuffer()
  return response.status
}

function onlyRefusals(stripe) {
  const answered = stripe.requests().map((request) => request.status)
  assert.ok(answered.every((status) => status === 401), `the mock did more than refuse: ${answered}`)
}

async function apiKey(row, given) {
  const stripe = new MockStripe({ seed: 7 })
  const server = await stripe.serve()
  try {
    try {
      const transport = new HttpTransport(given.key, { baseUrl: server.url })
      const bridge = new Billbridge({ stripe: transport, idempotencySecret: SECRET })
      await bridge.upsertCustomer(john())
    } catch (error) {
      if (error instanceof billbridge.ValidationError) {
        assert.equal(stripe.requests().length, 0, 'a key refused by the client reached the mock')
      }
      throw error
    } finally {
      onlyRefusals(stripe)
      if ('mock_http_status' in row) {
        assert.equal(await rawCreateCustomer(server.url, given.key), row.mock_http_status)
        onlyRefusals(stripe)
      }
    }
  } finally {
    await server.close()
  }
}

// ---------------------------------------------------------------- a loopback stub

/**
 * A loopback HTTP server answering every request with the same bytes, then closing
 * the connection: bodies, content types and framings Stripe never sends.
 */
async function startStub(response) {
  const keys = []
  const server = createServer((socket) => {
    let request = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      request = Buffer.concat([request, chunk])
      const end = request.indexOf('\r\n\r\n')
      if (end < 0) return
      const head = request.subarray(0, end).toString('latin1').split('\r\n').slice(1)
      const headers = Object.fromEntries(head.map((header) => {
        const colon = header.indexOf(':')
        return [header.slice(0, colon).trim().toLowerCase(), header.slice(colon + 1).trim()]
      }))
      if (request.length < end + 4 + Number(headers['content-length'] ?? 0)) return
      socket.removeAllListeners('data')
      keys.push(headers['idempotency-key'] ?? null)
      socket.end(response)
    })
    socket.on('error', () => {})
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    keys,
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

function responseBytes(given) {
  const body = Buffer.from(given.body)
  const length = given.declared_length ?? body.length
  const reason = { 200: 'OK', 400: 'Bad Request', 403: 'Forbidden', 502: 'Bad Gateway' }[given.status] ?? 'Status'
  const head = `HTTP/1.1 ${given.status} ${reason}\r\nContent-Type: ${given.content_type}\r\n`
    + `Content-Length: ${length}\r\nRequest-Id: req_stub\r\nConnection: close\r\n\r\n`
  return Buffer.concat([Buffer.from(head), body])
}

async function apiResponse(row, given) {
  const stub = await startStub(responseBytes(given))
  try {
    const transport = new HttpTransport('sk_test_51BadInputStub', { baseUrl: stub.url })
    const bridge = new Billbridge({ stripe: transport, idempotencySecret: SECRET })
    try {
      await bridge.upsertCustomer(john())
    } catch (error) {
      assert.equal(error.status, row.http_status, 'status in the details')
      throw error
    } finally {
      assert.equal(stub.keys.length, row.attempts, `requests the stub saw: ${stub.keys}`)
      assert.ok(stub.keys[0], 'a POST without an idempotency key')
      assert.ok(stub.keys.every((key) => key === stub.keys[0]), 'the retries changed the idempotency key')
      assert.equal(await bridge.customerId(john()), null, 'the host recorded a customer')
    }
  } finally {
    await stub.close()
  }
}

// ---------------------------------------------------------------- webhooks

function webhookHeader(given, body, endpoint, now) {
  if (!given.sign) return given.header
  return signPayload(body, given.sign.secret ?? endpoint, { timestamp: now - given.sign.age })
}

async function webhook(row, given) {
  const body = Buffer.from(given.body)
  let pure
  try {
    constructEvent(body, webhookHeader(given, body, ENDPOINT_SECRET, NOW), ENDPOINT_SECRET, { now: NOW })
  } catch (error) {
    pure = error
  }
  assert.ok(pure instanceof BillbridgeError, 'construct_event accepted the delivery')
  const { stripe, bridge } = await practice()
  const sent = stripe.requests().length
  const header = webhookHeader(given, body, stripe.webhookSecret, Math.floor(Date.now() / 1000))
  try {
    await bridge.handleWebhook(body, header)
  } catch (error) {
    assert.equal(error.code, pure.code, 'construct_event and handle_webhook disagree')
    throw error
  } finally {
    assert.equal(stripe.requests().length, sent, 'a refused delivery sent a request')
  }
}

const RUNNERS = {
  money_parse: (row, given) => Money.parse(given.text, given.currency),
  currency: (row, given) => new Currency(given.code),
  money_arithmetic: (row, given) => {
    const left = new Money(given.amount, given.currency)
    if (given.op === 'mul') return left.mul(given.factor)
    const right = new Money(given.other.amount, given.other.currency)
    return given.op === 'add' ? left.add(right) : left.sub(right)
  },
  invoice_total: (row, given) => draft(given.lines).total(),
  metadata_render: (row, given) => new MetadataPolicy().render('invoice', {}, { extra: given.extra }),
  metadata_policy_key: (row, given) => new MetadataPolicy().withKey(given.field, given.target, given.key).validate(),
  raise_lines: raiseLines,
  transition,
  api_key: apiKey,
  api_response: apiResponse,
  webhook,
}

test('this binding runs exactly the kinds the table gives it', () => {
  assert.deepEqual(new Set(Object.keys(RUNNERS)), RUNS_HERE)
})

for (const row of TABLE.rows.filter((row) => RUNS_HERE.has(row.kind))) {
  test(`bad input ${row.name} gives ${row.code} and sends nothing`, async () => {
    let outcome
    try {
      await RUNNERS[row.kind](row, expand(row.input))
    } catch (error) {
      outcome = error
    }
    assert.ok(outcome instanceof BillbridgeError, `no BillbridgeError: ${outcome?.stack ?? outcome}`)
    assert.deepEqual([outcome.code, outcome.category], [row.code, row.category], outcome.message)
    assert.equal(outcome.constructor, billbridge[CLASSES[row.category]])
    assert.ok(String(outcome) && outcome.stack)
  })
}
