// A real client approves the simulator's messaging: two Baileys (npm, pinned) clients, linked
// through wa-sim to two accounts (the linked account, and a contact whose simulated phone
// scans the second QR), exchange 1:1 and group texts both ways and decrypt them; a contact's
// simulated phone decrypts what Baileys sends; Baileys decrypts what a simulated phone sends.
// Needs WA_SIM = path of the built wa-sim binary (cargo build -p wa-sim).
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { STEP_MS, admin, quietLogger, scratch, startSim as startWaSim, withTimeout } from './lib/sim-harness.mjs'
import { startBaileys as startClient } from './lib/baileys-client.mjs'

const WA_SIM = process.env.WA_SIM
assert.ok(WA_SIM, 'set WA_SIM to the wa-sim binary (cargo build -p wa-sim)')

const { work, running } = scratch('sim-messaging')
const { logger, logs } = quietLogger()
// Two contacts: B (a second Baileys links to it) and C (simulated devices only).
const startSim = () => startWaSim(WA_SIM, join(work, 'sim'), running, ['--contacts', '2'])

const startBaileys = (sim, name) => startClient(sim, { dir: join(work, name), name, logger })

/** Pairs a Baileys client through the phone of `account` (the linked one if absent). */
async function link(sim, name, account) {
  const first = await startBaileys(sim, name)
  const { qr } = await first.qr()
  const path = account ? `/scan?account=${account}` : '/scan'
  const scan = await admin(sim, path, qr)
  assert.ok(scan.body.ok, JSON.stringify(scan.body))
  await first.closed()
  await first.saved()
  const client = await startBaileys(sim, name)
  await client.open()
  return client
}

async function shownOn(sim, device, id) {
  const deadline = Date.now() + STEP_MS
  for (;;) {
    const { body } = await admin(sim, '/messages')
    const d = body.devices.find((x) => x.device === device)
    const seen = d?.received.find((r) => r.id === id)
    if (seen?.shown > 0) return seen
    assert.ok(Date.now() < deadline, `${device} never showed ${id}: ${JSON.stringify(body.refused)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

test('two Baileys clients message each other through wa-sim, 1:1 and in a group', { timeout: 180_000 }, async (t) => {
  const sim = await startSim()
  try {
    const { body: world } = await admin(sim, '/contacts')
    const linked = world.contacts.find((c) => c.linked).pn
    const [b, c] = world.contacts.filter((x) => !x.linked).map((x) => x.pn)
    const alice = await link(sim, 'alice', undefined)
    const bob = await link(sim, 'bob', b)
    const jid = (pn) => `${pn}@s.whatsapp.net`

    // 1:1 both ways; each side's simulated phone shows it too.
    const one = await alice.sock.sendMessage(jid(b), { text: 'hello Bob' })
    await bob.text('hello Bob')
    await shownOn(sim, jid(b), one.key.id)
    await bob.sock.sendMessage(jid(linked), { text: 'hello Alice' })
    await alice.text('hello Alice')

    // A contact's simulated phone decrypts what Baileys sends.
    const toC = await alice.sock.sendMessage(jid(c), { text: 'hi C' })
    const seen = await shownOn(sim, jid(c), toC.key.id)
    assert.deepEqual(seen.texts, ['hi C'])

    // A simulated phone that fails to decrypt sends a retry receipt; Baileys resends, and the
    // relay takes the resend.
    const failed = await admin(sim, '/fail-decrypt', { pn: c })
    assert.ok(failed.body.ok, JSON.stringify(failed.body))
    const retried = await alice.sock.sendMessage(jid(c), { text: 'again C' })
    const again = await shownOn(sim, jid(c), retried.key.id)
    assert.deepEqual([again.shown, again.failed], [1, 1])

    // Baileys decrypts what a simulated phone sends.
    const sent = await admin(sim, '/contact-send', { from: c, text: 'from C' })
    assert.ok(sent.body.ok, JSON.stringify(sent.body))
    await alice.text('from C')

    // A group of the three accounts: Baileys to Baileys both ways, and to C's phone.
    const group = await admin(sim, '/groups', { subject: 'Trio', participants: [linked, b, c] })
    assert.ok(group.body.ok, JSON.stringify(group.body))
    const gid = `${group.body.id}@g.us`
    const g1 = await alice.sock.sendMessage(gid, { text: 'hi group' })
    await bob.text('hi group')
    await shownOn(sim, jid(c), g1.key.id)
    await bob.sock.sendMessage(gid, { text: 'hi from Bob' })
    await alice.text('hi from Bob')
    const g3 = await admin(sim, '/contact-send', { from: c, group: group.body.id, text: 'C in the group' })
    assert.ok(g3.body.ok, JSON.stringify(g3.body))
    await alice.text('C in the group')
    await bob.text('C in the group')

    const { body } = await admin(sim, '/messages')
    assert.deepEqual(body.refused, [], 'the relay refused nothing Baileys sent')
    alice.end()
    bob.end()
  } catch (e) {
    t.diagnostic(`Baileys logs: ${JSON.stringify(logs.slice(-30))}`)
    throw e
  } finally {
    sim.child.kill('SIGTERM')
  }
})
