// Shared by the tests: repository paths, money in pence, a mock bridge, and the link
// that lets the examples import `billbridge` as an installed package would.
import { mkdirSync, mkdtempSync, readlinkSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

import * as billbridge from 'billbridge'

export const PACKAGE = fileURLToPath(new URL('..', import.meta.url))
export const REPOSITORY = join(PACKAGE, '..')
export const EXAMPLES = join(REPOSITORY, 'examples', 'node')
export const DATA = join(REPOSITORY, 'tests', 'data')

export const gbp = (pence) => new billbridge.Money(pence, 'gbp')

/** A fresh folder under the system's temporary directory. */
export function temporaryFolder(prefix = 'billbridge-node-') {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** A mock Stripe and a bridge over it. */
export function mockBridge(options = {}) {
  const stripe = new billbridge.MockStripe(options.mock)
  const bridge = new billbridge.Billbridge({
    stripe,
    idempotencySecret: 'node-binding-tests-secret',
    webhookSecret: stripe.webhookSecret,
    ...options.bridge,
  })
  return { stripe, bridge }
}

export const patient = (id = 'P-1001', extra = {}) =>
  new billbridge.Patient({ id, givenName: 'John', familyName: 'Deer', email: 'john.deer@example.com', ...extra })

export const draftFor = (payer, hostId, ...pence) =>
  new billbridge.InvoiceDraft({
    payer,
    hostId,
    lines: pence.map((amount, index) => new billbridge.InvoiceLine({ description: `Line ${index + 1}`, unitAmount: gbp(amount) })),
  })

/** Makes `examples/node` resolve `billbridge` to this package, as npm would. */
export function linkExamples() {
  const modules = join(EXAMPLES, 'node_modules')
  const link = join(modules, 'billbridge')
  const target = relative(modules, PACKAGE)
  mkdirSync(modules, { recursive: true })
  try {
    if (readlinkSync(link) === target) return
  } catch {
    // Not linked yet.
  }
  symlinkSync(target, link, 'dir')
}

/** Asserts that `action` throws (or rejects with) an instance of `Class` with `code`. */
export function isError(Class, code) {
  return (error) => {
    if (!(error instanceof Class)) throw new Error(`expected ${Class.name}, got ${error?.constructor?.name}: ${error?.message}`)
    if (error.code !== code) throw new Error(`expected code ${code}, got ${error.code}: ${error.message}`)
    return true
  }
}

export { dirname }
