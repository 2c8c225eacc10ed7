// The invoice cycle of bench.py through the official `stripe` npm package (from
// bindings-node/node_modules), with Node's keep-alive agent as the SDK uses it.
// Prints {"requests": [seconds…], "cycles": [seconds…]} for the timed cycles.
//
//   node bench/mock_server/sdk_node.mjs URL API_KEY CYCLES WARMUP
import { createRequire } from 'node:module'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(path.join(here, '..', '..', 'bindings-node', 'package.json'))
const StripeModule = require('stripe')
const Stripe = StripeModule.default ?? StripeModule

const [url, apiKey, cyclesText, warmupText] = process.argv.slice(2)
const address = new URL(url)
const stripe = new Stripe(apiKey, {
  host: address.hostname,
  port: Number(address.port),
  protocol: 'http',
  maxNetworkRetries: 0,
  telemetry: false,
})

const steps = [
  async (ids) => { ids.customer = (await stripe.customers.create({ name: 'Ada Lovelace' })).id },
  async (ids) => { await stripe.invoiceItems.create({ customer: ids.customer, amount: 1500, currency: 'gbp', description: 'Consultation' }) },
  async (ids) => { ids.invoice = (await stripe.invoices.create({ customer: ids.customer, currency: 'gbp', pending_invoice_items_behavior: 'include' })).id },
  async (ids) => { await stripe.invoices.finalizeInvoice(ids.invoice) },
  async (ids) => { await stripe.invoices.pay(ids.invoice, { paid_out_of_band: true }) },
]

const cycles = Number(cyclesText)
const warmup = Number(warmupText)
const requests = []
const cycleTimes = []
for (let index = 0; index < warmup + cycles; index++) {
  const ids = {}
  const cycleStart = performance.now()
  for (const step of steps) {
    const start = performance.now()
    await step(ids)
    if (index >= warmup) requests.push((performance.now() - start) / 1000)
  }
  if (index >= warmup) cycleTimes.push((performance.now() - cycleStart) / 1000)
}
process.stdout.write(JSON.stringify({ requests, cycles: cycleTimes }))
