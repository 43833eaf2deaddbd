// What the suites that drive a real `wa-sim serve` process share: a scratch folder whose
// processes are killed when the suite ends, bounded waits, a quiet Baileys logger, starting
// the simulator and calling its control API.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after } from 'node:test'

/** Every wait is bounded, so a suite can never hang. */
export const STEP_MS = 20_000

export function withTimeout(promise, what, ms = STEP_MS) {
  let timer
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

/**
 * A scratch folder named after the suite, and the set of child processes to kill when the
 * suite ends (a failed step must not leave a simulator or a client behind).
 */
export function scratch(name) {
  const work = mkdtempSync(join(tmpdir(), `${name}-`))
  const running = new Set()
  after(() => {
    for (const p of running) p.kill('SIGKILL')
    rmSync(work, { recursive: true, force: true })
  })
  return { work, running }
}

/** A logger that keeps Baileys quiet but keeps its warnings for a failing step to show. */
export function quietLogger() {
  const logs = []
  const logger = {
    level: 'warn',
    child() { return logger },
    trace() {}, debug() {}, info() {},
    warn(obj, msg) { logs.push(['warn', msg ?? obj]) },
    error(obj, msg) { logs.push(['error', msg ?? obj]) },
    fatal(obj, msg) { logs.push(['fatal', msg ?? obj]) },
  }
  return { logger, logs }
}

/**
 * Starts `wa-sim serve --port 0` on `stateDir` with `extra` arguments and reads its first
 * stdout line (the listening address, the admin URL and the root key). WA_SIM_LOG=file keeps
 * the simulator's log lines for a look at what a client sent.
 */
export async function startSim(waSim, stateDir, running, extra = []) {
  const child = spawn(waSim, ['serve', '--port', '0', '--state', stateDir, '--json', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
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

/**
 * A control-API call: a GET without `body`, else a POST of `body` (JSON unless a string).
 */
export async function admin(sim, path, body) {
  const init = body === undefined ? {} : {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: typeof body === 'string' ? {} : { 'content-type': 'application/json' },
  }
  const res = await withTimeout(fetch(`${sim.admin}${path}`, init), `admin ${path}`)
  return { status: res.status, body: await res.json() }
}

/**
 * Bounded waits on something that grows (a client's events, a socket's updates): `until(find,
 * what)` resolves with the first non-empty `find()`, checked at once and again on every
 * `wake()`.
 */
export function waiter() {
  const waiters = []
  const wake = () => { for (const w of [...waiters]) w() }
  const until = (find, what) =>
    withTimeout(
      new Promise((resolve) => {
        const check = () => {
          const found = find()
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
  return { wake, until }
}
