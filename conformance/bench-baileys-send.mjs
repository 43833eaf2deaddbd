// A Baileys sending client for the messaging benchmark next to `herald-cli send --batch` (see
// crates/herald-cli/examples/send_vs_baileys.rs). It links to a wa-sim server as a companion of
// the account, then runs the phases the driver writes on stdin, one JSON object per line:
//   {"phase":"contact","to":["…@s.whatsapp.net"],"count":200}
// sends `count` texts one after the other, the i-th to to[i % to.length], each awaited until
// the server's ack for its id (Baileys resolves sendMessage once the stanza is written; the
// ack is the `<ack class="message" id=…>` frame that follows), and answers with one line:
//   {"event":"phase","phase":…,"count":…,"wallMs":…,"cpuUserMs":…,"cpuSystemMs":…,"rssKb":…,"pssKb":…}
// CPU is this process's own (process.cpuUsage over the phase), memory from /proc/self after it.
// Other lines on stdout: {"event":"qr","qr":…}, {"event":"open"}, {"event":"error",…}.
// The end of stdin ends the process. Environment: SIM_URL (ws://…/ws/chat), SIM_ROOT (hex
// root key), AUTH_DIR (auth state folder); BAILEYS_LOG=1 shows Baileys' errors on stderr.
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import makeWASocket, {
  DisconnectReason,
  WA_CERT_DETAILS,
  makeCacheableSignalKeyStore,
  useMultiFileAuthState,
} from '@whiskeysockets/baileys'

const { SIM_URL, SIM_ROOT, AUTH_DIR } = process.env
if (!SIM_URL || !SIM_ROOT || !AUTH_DIR) {
  process.stderr.write('set SIM_URL, SIM_ROOT and AUTH_DIR\n')
  process.exit(2)
}
WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(SIM_ROOT, 'hex')

/** A send whose ack does not come within this is a failure, not a slow result. */
const ACK_WAIT_MS = 20_000

const quiet = () => {}
const shout = (level) => (obj, msg) =>
  process.stderr.write(`baileys ${level}: ${msg ?? ''} ${JSON.stringify(obj)?.slice(0, 300)}\n`)
const verbose = process.env.BAILEYS_LOG === '1'
const logger = {
  level: verbose ? 'error' : 'fatal',
  child() { return logger },
  trace: quiet, debug: quiet, info: quiet, warn: quiet,
  error: verbose ? shout('error') : quiet,
  fatal: shout('fatal'),
}

const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

/** kB values of /proc/self/status and /proc/self/smaps_rollup (Linux). */
function memoryKb() {
  const field = (text, name) => Number(text.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm'))?.[1] ?? NaN)
  return {
    rssKb: field(readFileSync('/proc/self/status', 'utf8'), 'VmRSS'),
    pssKb: field(readFileSync('/proc/self/smaps_rollup', 'utf8'), 'Pss'),
  }
}

// Group metadata cached as Baileys' README advises for bots that send to groups; without it
// every group send would first query the group's metadata.
const groups = new Map()
// Acks awaited, by message id.
const pending = new Map()
let sock
let open
let saving = Promise.resolve()

function onAck(node) {
  const waiter = pending.get(node.attrs.id)
  if (!waiter) return
  pending.delete(node.attrs.id)
  if (node.attrs.error) waiter.reject(new Error(`ack error ${node.attrs.error} for ${node.attrs.id}`))
  else waiter.resolve(node.attrs.t)
}

async function start() {
  // A restart reads the credentials back from AUTH_DIR: the last save must be on disk.
  await saving
  const { state, saveCreds } = await useMultiFileAuthState(AUTH_DIR)
  sock = makeWASocket({
    // The in-memory key cache in front of the files, as Baileys' own example sets it up.
    auth: { creds: state.creds, keys: makeCacheableSignalKeyStore(state.keys, logger) },
    waWebSocketUrl: SIM_URL,
    logger,
    markOnlineOnConnect: false,
    syncFullHistory: false,
    // The simulator serves no app state or history.
    fireInitQueries: false,
    shouldSyncHistoryMessage: () => false,
    cachedGroupMetadata: async (jid) => groups.get(jid),
  })
  sock.ev.on('creds.update', () => { saving = saving.then(saveCreds) })
  sock.ws.on('CB:ack,class:message', onAck)
  sock.ev.on('connection.update', (u) => {
    if (u.qr) say({ event: 'qr', qr: u.qr })
    if (u.connection === 'open') {
      open = true
      say({ event: 'open' })
    }
    if (u.connection === 'close') {
      open = false
      const code = u.lastDisconnect?.error?.output?.statusCode
      // Pairing ends with a 515 restart; anything else during a phase fails the run.
      if (code === DisconnectReason.restartRequired) start()
      else say({ event: 'close', code })
    }
  })
}

let counter = 0
/** One text, resolved with the ack's `t` once the server acked it. */
async function sendOne(to, text) {
  const messageId = `3EB0B${process.pid.toString(16).toUpperCase()}${(counter++).toString(16).toUpperCase().padStart(10, '0')}`
  let timer
  const acked = new Promise((resolve, reject) => {
    pending.set(messageId, { resolve, reject })
    timer = setTimeout(() => reject(new Error(`no ack for ${messageId} to ${to} within ${ACK_WAIT_MS} ms`)), ACK_WAIT_MS)
  })
  // Awaited below; until then a timeout must not count as an unhandled rejection.
  acked.catch(() => {})
  try {
    await Promise.race([sock.sendMessage(to, { text }, { messageId }), acked])
    return await acked
  } finally {
    clearTimeout(timer)
    pending.delete(messageId)
  }
}

async function phase({ phase, to, count }) {
  if (!open) throw new Error('not connected')
  for (const jid of to) {
    if (jid.endsWith('@g.us') && !groups.has(jid)) groups.set(jid, await sock.groupMetadata(jid))
  }
  const cpu = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < count; i++) await sendOne(to[i % to.length], `${phase} ${i}`)
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
  const used = process.cpuUsage(cpu)
  say({
    event: 'phase',
    phase,
    count,
    wallMs,
    cpuUserMs: used.user / 1000,
    cpuSystemMs: used.system / 1000,
    ...memoryKb(),
  })
}

process.on('SIGTERM', () => process.exit(0))
await start()
// Phases run one at a time, in the order written.
let queue = Promise.resolve()
createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (!line.trim()) return
    queue = queue
      .then(() => phase(JSON.parse(line)))
      .catch((e) => {
        say({ event: 'error', error: String(e?.stack ?? e) })
        process.exit(1)
      })
  })
  .on('close', () => queue.then(() => process.exit(0)))
