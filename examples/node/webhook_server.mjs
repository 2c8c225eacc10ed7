// A Stripe webhook endpoint on node:http: the raw body goes to the bridge exactly as
// received (the signature covers those bytes, so never re-serialise parsed JSON), and
// the changes it reports update the host's own records.
//
// Run it with `STRIPE_API_KEY=sk_test_… STRIPE_WEBHOOK_SECRET=whsec_… node
// examples/node/webhook_server.mjs`; it listens on 127.0.0.1:$PORT (default 4242) at
// POST /stripe/webhooks.
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'

import { Billbridge, HttpTransport, SignatureError, ValidationError } from 'billbridge'

/** Reads the whole request body as one Buffer. */
async function rawBody(request) {
  const chunks = []
  for await (const chunk of request) chunks.push(chunk)
  return Buffer.concat(chunks)
}

function answer(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json' })
  response.end(JSON.stringify(body))
}

/**
 * The endpoint. `invoices` is the host's own table (host invoice id → status), kept in
 * step with what the bridge says changed.
 */
export function createWebhookServer({ bridge, invoices = new Map() }) {
  const server = createServer(async (request, response) => {
    if (request.method !== 'POST' || request.url !== '/stripe/webhooks') {
      return answer(response, 404, { error: 'not_found' })
    }
    const body = await rawBody(request)
    try {
      const outcome = await bridge.handleWebhook(body, request.headers['stripe-signature'] ?? null)
      for (const change of outcome.changes) {
        if (change.kind === 'invoice_status_changed') invoices.set(change.hostInvoiceId, change.statusAfter)
        if (change.kind === 'invoice_paid') invoices.set(change.hostInvoiceId, 'paid')
      }
      // A duplicate or ignored event is still answered 2xx, or Stripe retries it.
      answer(response, 200, { received: outcome.eventId, disposition: outcome.disposition })
    } catch (error) {
      if (error instanceof SignatureError || error instanceof ValidationError) {
        return answer(response, 400, { error: error.code })
      }
      // Anything else (a store down): 5xx, so that Stripe delivers it again later.
      answer(response, 500, { error: error.code ?? 'internal' })
    }
  })
  return { server, invoices }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { STRIPE_API_KEY, STRIPE_WEBHOOK_SECRET, PORT = '4242' } = process.env
  if (!STRIPE_API_KEY || !STRIPE_WEBHOOK_SECRET) {
    console.error('set STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET')
    process.exit(2)
  }
  const bridge = new Billbridge({
    stripe: new HttpTransport(STRIPE_API_KEY),
    idempotencySecret: process.env.BILLBRIDGE_IDEMPOTENCY_SECRET ?? 'set-me-to-a-long-random-secret',
    webhookSecret: STRIPE_WEBHOOK_SECRET,
  })
  const { server } = createWebhookServer({ bridge })
  server.listen(Number(PORT), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${PORT}/stripe/webhooks`))
}
