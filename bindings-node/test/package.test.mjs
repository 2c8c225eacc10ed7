// The package as users get it: one native instance from ESM and CommonJS, type
// definitions that declare exactly what the module exports, every export guarded
// against panics, a strict TypeScript example that type-checks, and the README's Node
// quick tour, which must be the tested example file and must run.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { before, test } from 'node:test'

import * as esm from 'billbridge'
import { EXAMPLES, PACKAGE, REPOSITORY, linkExamples, temporaryFolder } from './helpers.mjs'

const require = createRequire(import.meta.url)
const cjs = require('billbridge')
const declarations = readFileSync(join(PACKAGE, 'index.d.ts'), 'utf8')

before(linkExamples)

test('ESM and CommonJS share one native instance and one set of error classes', () => {
  assert.equal(esm.Money, cjs.Money)
  assert.equal(esm.ValidationError, cjs.ValidationError)
  assert.equal(esm.default, cjs)
  try {
    new cjs.Money(1.5, 'gbp')
  } catch (error) {
    assert.ok(error instanceof esm.ValidationError)
  }
  const named = Object.keys(esm).filter((name) => name !== 'default').sort()
  const exported = Object.keys(cjs).filter((name) => name !== '_registerErrorClasses' && name !== '__napiBindingTarget').sort()
  assert.deepEqual(named, exported, 'index.mjs re-exports every export of index.js')
})

test('index.d.ts declares exactly what the module exports (it is not stale)', () => {
  const declared = new Set([...declarations.matchAll(/^export declare (?:class|function|const) (\w+)/gm)].map((match) => match[1]))
  const exported = new Set(Object.keys(cjs))
  assert.deepEqual([...exported].filter((name) => !declared.has(name)), [], 'exported but not declared')
  assert.deepEqual([...declared].filter((name) => !exported.has(name)), [], 'declared but not exported')
  // The header (error classes and argument types) comes from dts-header.d.ts as it stands.
  assert.ok(declarations.startsWith(readFileSync(join(PACKAGE, 'dts-header.d.ts'), 'utf8')))
  // Doc comments carry units, shapes and errors into editors.
  assert.match(declarations, /throws `ValidationError`\s*(\*\s*)?\(`not_a_safe_integer`\)/)
})

test('every native export catches panics', () => {
  const unguarded = []
  for (const file of readdirSync(join(PACKAGE, 'src'))) {
    const lines = readFileSync(join(PACKAGE, 'src', file), 'utf8').split('\n')
    lines.forEach((line, index) => {
      if (!/^\s*#\[napi(\(|\])/.test(line) || /object|module_init/.test(line)) return
      const next = lines.slice(index + 1, index + 4).join(' ')
      if (/\bfn\b/.test(next) && !next.includes('#[napi') && !line.includes('catch_unwind')) {
        unguarded.push(`${file}:${index + 1}`)
      }
    })
  }
  assert.deepEqual(unguarded, [])
})

test('the TypeScript example type-checks with --strict, and a wrong type does not', () => {
  const tsc = join(PACKAGE, 'node_modules', '.bin', 'tsc')
  const good = spawnSync(tsc, ['-p', join(EXAMPLES, 'tsconfig.json')], { encoding: 'utf8' })
  assert.equal(good.status, 0, good.stdout + good.stderr)
  const folder = temporaryFolder()
  const wrong = join(EXAMPLES, `.wrong-${process.pid}.ts`)
  writeFileSync(wrong, "import { Money } from 'billbridge'\nexport const fee: Money = new Money('12.50', 'gbp')\n")
  try {
    const config = join(folder, 'tsconfig.json')
    const base = JSON.parse(readFileSync(join(EXAMPLES, 'tsconfig.json'), 'utf8'))
    base.compilerOptions.typeRoots = [join(PACKAGE, 'node_modules', '@types')]
    writeFileSync(config, JSON.stringify({ ...base, files: [wrong] }))
    const bad = spawnSync(tsc, ['-p', config], { encoding: 'utf8' })
    assert.notEqual(bad.status, 0)
    assert.match(bad.stdout + bad.stderr, /not assignable to parameter of type 'number'/)
  } finally {
    spawnSync('rm', ['-f', wrong])
  }
})

test('the README Node quick tour is examples/node/quick_tour.mjs, and it runs', () => {
  const readme = readFileSync(join(REPOSITORY, 'README.md'), 'utf8')
  const section = readme.split('## Node quick tour')[1]
  assert.ok(section, 'README has a Node quick tour')
  const block = section.split('```js\n')[1].split('```')[0]
  assert.equal(block, readFileSync(join(EXAMPLES, 'quick_tour.mjs'), 'utf8'))
  const run = spawnSync(process.execPath, [join(EXAMPLES, 'quick_tour.mjs')], { encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  assert.match(run.stdout, /John Deer: 85\.00 gbp invoiced, 35\.00 gbp due after credit/)
})
