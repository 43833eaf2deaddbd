// A real client approves the simulator: Baileys (npm, pinned) pairs with wa-sim by QR through
// the simulated phone, reaches `open` after the 515 restart, gets its pings answered, reports
// 440 after `kick replaced` and 405 after `fail-next-login 405`, and logs in again from its
// saved auth without a QR, also after the simulator restarted on the same state.
// Needs WA_SIM = path of the built wa-sim binary (cargo build -p wa-sim).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, test } from 'node:test'
import makeWASocket, { WA_CERT_DETAILS, useMultiFileAuthState } from '@whiskeysockets/baileys'

const WA_SIM = process.env.WA_SIM
assert.ok(WA_SIM, 'set WA_SIM to the wa-sim binary (cargo build -p wa-sim)')

/** Every wait is bounded, so the test can never hang. */
const STEP_MS = 20_000

const work = mkdtempSync(join(tmpdir(), 'sim-baileys-'))
const stateDir = join(work, 'sim-state')
const authDir = join(work, 'baileys-auth')
const running = new Set()
after(() => {
  for (const p of running) p.kill('SIGKILL')
  rmSync(work, { recursive: true, force: true })
})

/** A logger that keeps Baileys quiet but lets us see warnings when a step fails. */
const logs = []
const logger = {
  level: 'warn',
  child() { return logger },
  trace() {}, debug() {}, info() {},
  warn(obj, msg) { logs.push(['warn', msg ?? obj]) },
  error(obj, msg) { logs.push(['error', msg ?? obj]) },
  fatal(obj, msg) { logs.push(['fatal', msg ?? obj]) },
}

function withTimeout(promise, what, ms = STEP_MS) {
  let timer
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

/** Starts `wa-sim serve --port 0` and reads its first stdout line. */
async function startSim() {
  const child = spawn(WA_SIM, ['serve', '--port', '0', '--state', stateDir, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  // WA_SIM_LOG=file keeps the simulator's log lines for a look at what Baileys sent.
  if (process.env.WA_SIM_LOG) child.stderr.pipe(createWriteStream(process.env.WA_SIM_LOG, { flags: 'a' }))
  else child.stderr.resume()
  const lines = createInterface({ input: child.stdout })
  const first = await withTimeout(
    new Promise((resolve, reject) => {
      lines.once('line', resolve)
      child.once('exit', (code) => reject(new Error(`wa-sim exited with ${code}`)))
    }),
    'the listening line',
  )
  lines.on('line', () => {})
  const info = JSON.parse(first)
  assert.equal(info.event, 'listening')
  assert.match(info.url, /^ws:\/\/127\.0\.0\.1:\d+\/ws\/chat$/)
  assert.match(info.root_pub_hex, /^[0-9a-f]{64}$/)
  return { child, ...info }
}

async function stopSim(sim) {
  const exited = new Promise((resolve) => sim.child.once('exit', resolve))
  sim.child.kill('SIGTERM')
  await withTimeout(exited, 'wa-sim to exit')
  running.delete(sim.child)
}

async function admin(sim, path, init = {}) {
  const res = await withTimeout(fetch(`${sim.admin}${path}`, init), `admin ${path}`)
  return { status: res.status, body: await res.json() }
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
  const waiters = []
  let saving = Promise.resolve()
  sock.ev.on('creds.update', () => {
    saving = saving.then(() => saveCreds())
  })
  sock.ev.on('connection.update', (u) => {
    updates.push(u)
    for (const w of [...waiters]) w()
  })
  const next = (pred, what) =>
    withTimeout(
      new Promise((resolve) => {
        const check = () => {
          const found = updates.find(pred)
          if (found) {
            waiters.splice(waiters.indexOf(check), 1)
            resolve(found)
          }
        }
        waiters.push(check)
        check()
      }),
      what,
    )
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
    const scan = await admin(sim, '/scan', { method: 'POST', body: qr })
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
    const kick = await admin(sim, '/kick?kind=replaced', { method: 'POST' })
    assert.equal(kick.body.kicked, 1)
    assert.equal(await second.closed(), 440)
    await second.saved()

    // The client is outdated: Baileys reports 405.
    await admin(sim, '/fail-next-login?reason=405', { method: 'POST' })
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
