// A minimal long-running Baileys client for whole-process comparisons with `herald-cli
// connect --json` (see crates/herald-cli/examples/vs_baileys.rs): it links to a wa-sim server,
// stays connected, reconnects at once after every close except a logout (as Baileys' own
// example does), and reports on stdout one JSON object per line:
//   {"event":"qr","qr":…}  {"event":"open"}  {"event":"close","code":…}
// Environment: SIM_URL (ws://…/ws/chat), SIM_ROOT (hex root key), AUTH_DIR (auth state folder);
// BAILEYS_LOG=1 shows Baileys' own errors on stderr (each 515 is logged there as one).
import makeWASocket, { DisconnectReason, WA_CERT_DETAILS, useMultiFileAuthState } from '@whiskeysockets/baileys'

const { SIM_URL, SIM_ROOT, AUTH_DIR } = process.env
if (!SIM_URL || !SIM_ROOT || !AUTH_DIR) {
  process.stderr.write('set SIM_URL, SIM_ROOT and AUTH_DIR\n')
  process.exit(2)
}
WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(SIM_ROOT, 'hex')

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

async function start() {
  const { state, saveCreds } = await useMultiFileAuthState(AUTH_DIR)
  const sock = makeWASocket({
    auth: state,
    waWebSocketUrl: SIM_URL,
    logger,
    markOnlineOnConnect: false,
    syncFullHistory: false,
  })
  sock.ev.on('creds.update', saveCreds)
  sock.ev.on('connection.update', (u) => {
    if (u.qr) say({ event: 'qr', qr: u.qr })
    if (u.connection === 'open') say({ event: 'open' })
    if (u.connection === 'close') {
      const code = u.lastDisconnect?.error?.output?.statusCode
      say({ event: 'close', code })
      if (code !== DisconnectReason.loggedOut) start()
    }
  })
}

process.on('SIGTERM', () => process.exit(0))
start()
