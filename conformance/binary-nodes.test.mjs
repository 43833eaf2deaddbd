// Cross-checks the binary node codec against Baileys, both ways, on 5,000 random trees:
//   Baileys encodeBinaryNode → `herald-cli debug node decode` → same tree as Baileys decodes;
//   `herald-cli debug node encode` → Baileys decodeBinaryNode → same tree again.
// Needs HERALD_CLI = path of the built herald-cli binary.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { decodeBinaryNode, encodeBinaryNode } from '@whiskeysockets/baileys/lib/WABinary/index.js'
import { expectByteExact, normalize, randomNode, rng, toCliJson } from './lib/binary-node-gen.mjs'

const SEED = 0x4e0de5
const COUNT = 5000

const cli = process.env.HERALD_CLI
assert.ok(cli, 'set HERALD_CLI to the herald-cli binary (cargo build -p herald-cli)')

/** Runs one herald-cli process over all lines; one answer line per input line. */
function runCli(args, lines) {
  const res = spawnSync(cli, args, { input: lines.join('\n') + '\n', maxBuffer: 1 << 30, encoding: 'utf8' })
  assert.equal(res.status, 0, `herald-cli ${args.join(' ')} failed: ${res.stderr}`)
  const out = res.stdout.split('\n')
  assert.equal(out.pop(), '', 'output ends with a newline')
  assert.equal(out.length, lines.length, 'one answer per line')
  return out
}

const r = rng(SEED)
const originals = []
for (let i = 0; i < COUNT; i++) originals.push(randomNode(r, 0, false, i % 500 === 499))
const baileysBytes = originals.map((n) => encodeBinaryNode(n))
const baileysTrees = await Promise.all(baileysBytes.map((b) => decodeBinaryNode(b)))

test('our decoder reads what Baileys encodes, to the tree Baileys reads', (t) => {
  const out = runCli(['debug', 'node', 'decode'], baileysBytes.map((b) => b.toString('hex')))
  const stats = { agents: 0 }
  for (let i = 0; i < COUNT; i++) {
    const ours = JSON.parse(out[i])
    assert.equal(ours.error, undefined, `node ${i}: ${ours.error}`)
    assert.deepEqual(normalize(ours, stats), normalize(baileysTrees[i]), `node ${i}`)
  }
  // Raw-agent JIDs were generated and came back with their agent, which Baileys drops.
  assert.ok(stats.agents > 50, `only ${stats.agents} agent JIDs seen`)
  t.diagnostic(`${stats.agents} raw-agent JIDs`)
})

test('Baileys reads what our encoder writes, to the same tree', async (t) => {
  const out = runCli(['debug', 'node', 'encode'], baileysTrees.map((t) => JSON.stringify(toCliJson(t))))
  let exact = 0
  let exactExpected = 0
  for (let i = 0; i < COUNT; i++) {
    assert.ok(/^00[0-9a-f]+$/.test(out[i]), `node ${i}: ${out[i].slice(0, 200)}`)
    const ours = Buffer.from(out[i], 'hex')
    const back = await decodeBinaryNode(ours)
    assert.deepEqual(normalize(back), normalize(baileysTrees[i]), `node ${i}`)
    if (expectByteExact(baileysTrees[i])) {
      exactExpected++
      assert.equal(out[i], encodeBinaryNode(baileysTrees[i]).toString('hex'), `bytes of node ${i}`)
      exact++
    }
  }
  assert.ok(exactExpected > COUNT / 2, `only ${exactExpected} nodes compared byte for byte`)
  assert.equal(exact, exactExpected)
  t.diagnostic(`${exact} of ${COUNT} nodes byte-identical to Baileys' encoding`)
})

test('the trees covered every form', (t) => {
  const seen = { list16: 0, bin20: 0, bin32: 0, adJid: 0, pairJid: 0, nibble: 0, hex: 0, empty: 0, stringContent: 0 }
  const visit = (n) => {
    for (const v of Object.values(n.attrs)) {
      if (/^[^@]*:\d+@/.test(v)) seen.adJid++
      else if (v.includes('@')) seen.pairJid++
      else if (/^[0-9.-]{1,127}$/.test(v)) seen.nibble++
      else if (/^[0-9A-F]{1,127}$/.test(v)) seen.hex++
      else if (v === '') seen.empty++
    }
    if (typeof n.content === 'string') seen.stringContent++
    else if (Array.isArray(n.content)) {
      if (n.content.length > 255) seen.list16++
      n.content.forEach(visit)
    } else if (n.content && n.content.length >= 1 << 20) seen.bin32++
    else if (n.content && n.content.length >= 256) seen.bin20++
  }
  baileysTrees.forEach(visit)
  t.diagnostic(JSON.stringify(seen))
  for (const [form, count] of Object.entries(seen)) assert.ok(count > 0, `no ${form} in the corpus`)
})
