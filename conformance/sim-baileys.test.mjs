// A real client approves the simulator: Baileys (npm, pinned) pairs with wa-sim by QR through
// the simulated phone, reaches `open` after the 515 restart, gets its pings answered, reports
// 440 after `kick replaced` and 405 after `fail-next-login 405`, and logs in again from its
// saved auth without a QR, also after the simulator restarted on the same state.
// Needs WA_SIM = path of the built wa-sim binary (cargo build -p wa-sim).
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { STEP_MS, admin, quietLogger, scratch, startSim as startWaSim, waiter, withTimeout } from './lib/sim-harness.mjs'
import makeWASocket, { WA_CERT_DETAILS, useMultiFileAuthState } from '@whiskeysockets/baileys'

const WA_SIM = process.env.WA_SIM
assert.ok(WA_SIM, 'set WA_SIM to the wa-sim binary (cargo build -p wa-sim)')

const { work, running } = scratch('sim-baileys')
const { logger, logs } = quietLogger()
const startSim = () => startWaSim(WA_SIM, stateDir, running, [])
const stateDir = join(work, 'sim-state')
const authDir = join(work, 'baileys-auth')

async function stopSim(sim) {
  const exited = new Promise((resolve) => sim.child.once('exit', resolve))
  sim.child.kill('SIGTERM')
  await withTimeout(exited, 'wa-sim to exit')
  running.delete(sim.child)
}

/**
 * A Baileys socket against the simulator, with its connection updates queued so a test can
 * wait for the next one that matches.
 */
async function startBaileys(sim) {
  WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(sim.root_pub_hex, 'hex')
  const { state, saveCreds } = await useMultiFileAuthState(authDir)
  const sock = makeWASocket({
    auth: state,
    waWebSocketUrl: sim.url,
    logger,
    keepAliveIntervalMs: 1_000,
    connectTimeoutMs: 10_000,
    markOnlineOnConnect: false,
    syncFullHistory: false,
    qrTimeout: 60_000,
  })
  const updates = []
  const { wake, until } = waiter()
  let saving = Promise.resolve()
  sock.ev.on('creds.update', () => {
    saving = saving.then(() => saveCreds())
  })
  sock.ev.on('connection.update', (u) => {
    updates.push(u)
    wake()
  })
  const next = (pred, what) => until(() => updates.find(pred), what)
  const closeCode = (u) => u.lastDisconnect?.error?.output?.statusCode
  return {
    sock,
    updates,
    saved: () => saving,
    qr: () => next((u) => u.qr, 'a QR code'),
    open: () => next((u) => u.connection === 'open', 'connection open'),
    closed: () =>
      next((u) => u.connection === 'close', 'connection close').then((u) => closeCode(u)),
    end: () => sock.end(undefined),
  }
}

async function waitForPings(sim, count) {
  const deadline = Date.now() + STEP_MS
  for (;;) {
    const { body } = await admin(sim, '/state')
    const open = body.connections.filter((c) => c.phase === 'logged_in')
    if (open.length === 1 && open[0].pings >= count) return open[0]
    assert.ok(Date.now() < deadline, `no ${count} answered pings: ${JSON.stringify(body.connections)}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

test('Baileys pairs, stays open, and reacts to the simulator faults', { timeout: 120_000 }, async (t) => {
  let sim = await startSim()
  try {
    // Pairing: Baileys shows a QR, the simulated phone scans it through the control API.
    const first = await startBaileys(sim)
    const { qr } = await first.qr()
    assert.match(qr, /^https:\/\/wa\.me\/settings\/linked_devices#2@/)
    const scan = await admin(sim, '/scan', qr)
    assert.equal(scan.status, 200, JSON.stringify(scan.body))
    assert.ok(scan.body.ok, JSON.stringify(scan.body))
    assert.ok(scan.body.outcome.paired, JSON.stringify(scan.body))
    assert.ok(scan.body.report.checks.length >= 5)
    assert.equal(await first.closed(), 515, 'restart required after pairing')
    await first.saved()

    // The restart: a new socket with the saved auth reaches `open` without a QR.
    const second = await startBaileys(sim)
    await second.open()
    assert.ok(!second.updates.some((u) => u.qr), 'no QR after pairing')
    const conn = await waitForPings(sim, 2)
    assert.equal(conn.device, scan.body.outcome.paired)
    const { body: afterOpen } = await admin(sim, '/state')
    assert.equal(afterOpen.devices.length, 1)
    assert.ok(afterOpen.devices[0].pre_keys_available > 0, 'Baileys uploaded prekeys')

    // Another connection took over: Baileys reports 440.
    const kick = await admin(sim, '/kick?kind=replaced', '')
    assert.equal(kick.body.kicked, 1)
    assert.equal(await second.closed(), 440)
    await second.saved()

    // The client is outdated: Baileys reports 405.
    await admin(sim, '/fail-next-login?reason=405', '')
    const third = await startBaileys(sim)
    assert.equal(await third.closed(), 405)

    // A restarted simulator keeps its root and devices; Baileys logs in from its saved auth.
    await stopSim(sim)
    const rootBefore = sim.root_pub_hex
    sim = await startSim()
    assert.equal(sim.root_pub_hex, rootBefore, 'the root survives a restart')
    const fourth = await startBaileys(sim)
    await fourth.open()
    assert.ok(!fourth.updates.some((u) => u.qr), 'no QR with saved auth')
    await waitForPings(sim, 1)
    fourth.end()
  } catch (e) {
    t.diagnostic(`Baileys logs: ${JSON.stringify(logs.slice(-20))}`)
    throw e
  } finally {
    await stopSim(sim).catch(() => {})
  }
})
