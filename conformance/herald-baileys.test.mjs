// A real client approves Herald's messaging: Baileys 7.0.0-rc14 (npm, pinned), linked through
// wa-sim as a contact's companion device, decrypts Herald's 1:1 and group texts; Herald
// decrypts what Baileys sends, 1:1 and in the group; Baileys' receipts reach Herald.
// Herald runs as real `herald-cli` processes (`send`, `connect --json`).
// Needs WA_SIM and HERALD_CLI = paths of the built binaries.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { test } from 'node:test'
import { admin, quietLogger, scratch, startSim as startWaSim, waiter, withTimeout } from './lib/sim-harness.mjs'
import { startBaileys as startClient } from './lib/baileys-client.mjs'

const WA_SIM = process.env.WA_SIM
const HERALD_CLI = process.env.HERALD_CLI
assert.ok(WA_SIM, 'set WA_SIM to the wa-sim binary')
assert.ok(HERALD_CLI, 'set HERALD_CLI to the herald-cli binary')

const { work, running } = scratch('herald-baileys')
const { logger, logs } = quietLogger()
const startSim = () => startWaSim(WA_SIM, join(work, 'sim'), running, ['--contacts', '1'])

function heraldArgs(sim, args) {
  return [...args, '--data-dir', join(work, 'herald'), '--server', sim.url, '--trust-root', sim.root_pub_hex]
}

/** `herald-cli connect --json`, its events collected as they come. */
function connect(sim) {
  const child = spawn(HERALD_CLI, heraldArgs(sim, ['connect', '--json']), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HERALD_KEYCHAIN: 'off', RUST_LOG: 'warn' },
  })
  running.add(child)
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  const events = []
  const { wake, until: waitFor } = waiter()
  createInterface({ input: child.stdout }).on('line', (line) => {
    events.push(JSON.parse(line))
    wake()
  })
  const until = (pred, what) => waitFor(() => events.find(pred), `herald: ${what} (stderr: ${stderr.slice(-500)})`)
  const stop = () =>
    new Promise((resolve) => {
      child.once('exit', (code) => { running.delete(child); resolve(code) })
      child.kill('SIGTERM')
    })
  return { until, stop }
}

/** One `herald-cli send --json`: its parsed line and exit code. */
function send(sim, to, text) {
  return withTimeout(
    new Promise((resolve) => {
      const child = spawn(HERALD_CLI, heraldArgs(sim, ['send', to, text, '--json']), {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, HERALD_KEYCHAIN: 'off', RUST_LOG: 'warn' },
      })
      let out = ''
      let err = ''
      child.stdout.on('data', (d) => { out += d })
      child.stderr.on('data', (d) => { err += d })
      child.once('exit', (code) => resolve({ code, out, err }))
    }),
    `herald-cli send ${to}`,
    40_000,
  )
}

const startBaileys = (sim, name) => startClient(sim, { dir: join(work, name), name, logger })

test('Baileys decrypts what Herald sends and Herald what Baileys sends, 1:1 and in a group', { timeout: 240_000 }, async (t) => {
  const sim = await startSim()
  try {
    const { body: world } = await admin(sim, '/contacts')
    const linked = world.contacts.find((c) => c.linked).pn
    const b = world.contacts.find((c) => !c.linked).pn
    const jid = (pn) => `${pn}@s.whatsapp.net`

    // Herald links as the account's companion, through the simulated phone.
    const first = connect(sim)
    const { qr } = await first.until((e) => e.event === 'qr', 'a QR code')
    const scan = await admin(sim, '/scan', qr)
    assert.ok(scan.body.ok, JSON.stringify(scan.body))
    const paired = await first.until((e) => e.event === 'paired', 'paired')
    await first.until((e) => e.event === 'state' && e.state === 'online', 'online')
    assert.equal(await first.stop(), 0)

    // Baileys links as the contact's companion.
    const pairing = await startBaileys(sim, 'bob')
    const { qr: bobQr } = await pairing.qr()
    const bobScan = await admin(sim, `/scan?account=${b}`, bobQr)
    assert.ok(bobScan.body.ok, JSON.stringify(bobScan.body))
    await pairing.closed()
    await pairing.saved()
    const bob = await startBaileys(sim, 'bob')
    await bob.open()

    // Herald → Baileys, 1:1.
    const one = await send(sim, jid(b), 'hello from Herald')
    assert.equal(one.code, 0, one.err)
    const sent = JSON.parse(one.out)
    assert.equal(sent.event, 'sent')
    const got = await bob.text('hello from Herald')
    assert.equal(got.id, sent.id)

    // Herald → Baileys, in a group of the two accounts.
    const group = await admin(sim, '/groups', { subject: 'Herald and Bob', participants: [linked, b] })
    assert.ok(group.body.ok, JSON.stringify(group.body))
    const gid = `${group.body.id}@g.us`
    const two = await send(sim, gid, 'hello group')
    assert.equal(two.code, 0, two.err)
    const inGroup = await bob.text('hello group')
    assert.equal(inGroup.chat, gid)

    // Back online: Baileys reads Herald's text and its read receipt reaches Herald; then
    // Baileys' own messages decrypt, 1:1 and in the group.
    const herald = connect(sim)
    await herald.until((e) => e.event === 'state' && e.state === 'online', 'online again')
    // To Herald's device, which sent it (readMessages would first ask for privacy settings,
    // which the simulator does not serve).
    await bob.sock.sendReceipt(paired.jid, undefined, [got.id], 'read')
    const receipt = await herald.until(
      (e) => e.event === 'receipt' && e.kind === 'read' && e.ids.includes(sent.id),
      "Baileys' read receipt",
    )
    assert.ok(receipt.device.startsWith(b), receipt.device)
    await bob.sock.sendMessage(jid(linked), { text: 'hi Herald' })
    const dm = await herald.until((e) => e.event === 'message' && e.text === 'hi Herald', "Baileys' 1:1 text")
    assert.equal(dm.chat, jid(b))
    await bob.sock.sendMessage(gid, { text: 'hi group, from Bob' })
    const gm = await herald.until((e) => e.event === 'message' && e.text === 'hi group, from Bob', "Baileys' group text")
    assert.equal(gm.chat, gid)
    assert.equal(await herald.stop(), 0)

    const { body } = await admin(sim, '/messages')
    assert.deepEqual(body.refused, [], 'the relay refused nothing')
    bob.end()
  } catch (e) {
    t.diagnostic(`Baileys logs: ${JSON.stringify(logs.slice(-30))}`)
    throw e
  } finally {
    sim.child.kill('SIGTERM')
  }
})
