'use strict'
// The CommonJS entry of the `billbridge` package: the native classes and functions of
// the generated loader (`binding.js`), and the error classes every billbridge error is
// an instance of. `index.mjs` re-exports this same module, so ESM and CommonJS users
// share one native instance and `instanceof` works across both.

const native = require('./binding.js')

/**
 * Base class of every error billbridge throws or rejects with. `code` is the core's
 * stable machine code, `category` its coarse kind; Stripe's details are set where the
 * error came from Stripe's answer and `null` otherwise.
 */
class BillbridgeError extends Error {
  constructor(message, fields = {}) {
    super(message)
    const { stripeMessage = null, ...details } = fields
    this.name = new.target.name
    this.code = details.code ?? 'internal'
    this.category = details.category ?? 'internal'
    this.status = details.status ?? null
    this.type = details.type ?? null
    this.stripeCode = details.stripeCode ?? null
    this.declineCode = details.declineCode ?? null
    this.param = details.param ?? null
    this.requestId = details.requestId ?? null
    this.docUrl = details.docUrl ?? null
    // Stripe's own text can echo what was sent (a name, an email): it stays out of
    // `message` and off the enumerable properties that loggers print.
    Object.defineProperty(this, 'stripeMessage', {
      get: () => stripeMessage,
      enumerable: false,
      configurable: false,
    })
  }
}

/** The input was wrong; retrying the same call cannot succeed. */
class ValidationError extends BillbridgeError {}
/** The object is in the wrong state for the operation; nothing was sent. */
class InvalidStateError extends BillbridgeError {}
/** Stripe answered with an error (`status`, `type`, `stripeCode`, `declineCode`, `param`, `requestId`). */
class StripeApiError extends BillbridgeError {}
/** Stripe could not be reached, or the answer was lost on the way. */
class TransportError extends BillbridgeError {}
/** A webhook signature did not verify. */
class SignatureError extends BillbridgeError {}
/** The sync store failed. */
class StoreError extends BillbridgeError {}
/** A bug in billbridge (a panic included): an invariant that should hold did not. */
class InternalError extends BillbridgeError {}
/** A file or stream the host gave billbridge (a CSV destination) failed. */
class IoError extends BillbridgeError {}

const errors = {
  BillbridgeError,
  ValidationError,
  InvalidStateError,
  StripeApiError,
  TransportError,
  SignatureError,
  StoreError,
  InternalError,
  IoError,
}

native._registerErrorClasses({
  base: BillbridgeError,
  validation: ValidationError,
  invalid_state: InvalidStateError,
  stripe_api: StripeApiError,
  transport: TransportError,
  signature: SignatureError,
  store: StoreError,
  internal: InternalError,
  io: IoError,
})

// A method that returns a Promise rejects it, rather than throwing, when an argument
// is refused, so callers handle one failure path. The native methods check their
// arguments before starting any work; this turns that early throw into a rejection.
function rejecting(method) {
  return function (...args) {
    try {
      return method.apply(this, args)
    } catch (error) {
      return Promise.reject(error)
    }
  }
}

function rejectingMethods(Class, names) {
  for (const name of names) Class.prototype[name] = rejecting(Class.prototype[name])
}

const everyMethod = (Class) =>
  Object.entries(Object.getOwnPropertyDescriptors(Class.prototype))
    .filter(([name, descriptor]) => name !== 'constructor' && typeof descriptor.value === 'function')
    .map(([name]) => name)

rejectingMethods(native.Billbridge, everyMethod(native.Billbridge))
rejectingMethods(native.OfflineBilling, everyMethod(native.OfflineBilling))
rejectingMethods(native.MockStripe, ['payInvoice', 'serve'])
rejectingMethods(native.MockServer, ['close'])

// A writable stream becomes an async chunk writer, so that the export waits for
// 'drain' whenever the stream asks it to (constant memory however many rows).
function chunkWriter(destination) {
  if (typeof destination === 'string' || typeof destination === 'function') return destination
  if (destination instanceof URL) return require('node:url').fileURLToPath(destination)
  if (destination && typeof destination.write === 'function') {
    return async (chunk) => {
      if (!destination.write(chunk)) await require('node:events').once(destination, 'drain')
    }
  }
  return destination
}

const writeCsv = rejecting((records, columns, destination) =>
  native.writeCsv(records, columns, chunkWriter(destination)),
)

const writePaymentsCsv = rejecting((payments, columns, destination) =>
  native.writePaymentsCsv(payments, columns, chunkWriter(destination)),
)

module.exports = { ...native, ...errors, writeCsv, writePaymentsCsv }
