// A process that exits with billbridge work in flight exits cleanly: by process.exit,
// by an uncaught error, or naturally once the pending Promises settle.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'

import { PACKAGE } from './helpers.mjs'

const PRELUDE = `
const { Billbridge, MockStripe, Patient } = require(${JSON.stringify(PACKAGE)})
const stripe = new MockStripe()
const bridge = new Billbridge({ stripe, idempotencySecret: 'exit-test-secret-0123' })
stripe.setLatency(0.05)
let settled = 0
const work = Array.from({ length: 40 }, (_, index) =>
  bridge.upsertCustomer(new Patient({ id: 'P-' + index, givenName: 'A', familyName: 'B' })).then(() => (settled += 1)))
const server = stripe.serve()
`

function run(script) {
  const child = spawnSync(process.execPath, ['-e', PRELUDE + script], { encoding: 'utf8', timeout: 60_000 })
  return { code: child.status, signal: child.signal, out: child.stdout, err: child.stderr }
}

const crashed = (err) => /Abort|Segmentation|panicked|FATAL|core dumped/i.test(err)

test('process.exit with calls in flight exits with its code and nothing crashes', () => {
  for (let round = 0; round < 5; round += 1) {
    const { code, signal, err } = run(`setTimeout(() => process.exit(0), 20 + ${round} * 15)`)
    assert.deepEqual([code, signal], [0, null], err)
    assert.ok(!crashed(err), err)
  }
})

test('an uncaught error with calls in flight exits 1 cleanly', () => {
  const { code, signal, err } = run(`setTimeout(() => { throw new Error('host bug') }, 30)`)
  assert.deepEqual([code, signal], [1, null])
  assert.match(err, /host bug/)
  assert.ok(!crashed(err), err)
})

test('a natural exit waits for the pending Promises, which all settle', () => {
  const { code, signal, out, err } = run(`
    Promise.all(work).then(async () => {
      await (await server).close()
      console.log('settled ' + settled)
    })`)
  assert.deepEqual([code, signal], [0, null], err)
  assert.match(out, /settled 40/)
})
