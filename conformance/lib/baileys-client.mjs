// A Baileys socket linked through a `wa-sim serve`, whose text messages are collected as they
// arrive, with bounded waits for its QR code, its connection opening or closing, and a text.
import makeWASocket, { WA_CERT_DETAILS, useMultiFileAuthState } from '@whiskeysockets/baileys'
import { waiter } from './sim-harness.mjs'

/** Starts a client whose credentials live in `dir`; `name` labels its waits. */
export async function startBaileys(sim, { dir, name, logger }) {
  WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(sim.root_pub_hex, 'hex')
  const { state, saveCreds } = await useMultiFileAuthState(dir)
  const sock = makeWASocket({
    auth: state,
    waWebSocketUrl: sim.url,
    logger,
    connectTimeoutMs: 10_000,
    markOnlineOnConnect: false,
    syncFullHistory: false,
    // The simulator serves no app state or history.
    fireInitQueries: false,
    shouldSyncHistoryMessage: () => false,
  })
  const updates = []
  const texts = []
  const { wake, until } = waiter()
  let saving = Promise.resolve()
  sock.ev.on('creds.update', () => { saving = saving.then(() => saveCreds()) })
  sock.ev.on('connection.update', (u) => { updates.push(u); wake() })
  sock.ev.on('messages.upsert', ({ messages }) => {
    for (const m of messages) {
      const text = m.message?.conversation ?? m.message?.extendedTextMessage?.text
      if (text) texts.push({ text, chat: m.key.remoteJid, id: m.key.id, fromMe: m.key.fromMe })
    }
    wake()
  })
  return {
    sock,
    saved: () => saving,
    qr: () => until(() => updates.find((u) => u.qr), `${name}: a QR code`),
    open: () => until(() => updates.find((u) => u.connection === 'open'), `${name}: open`),
    closed: () => until(() => updates.find((u) => u.connection === 'close'), `${name}: close`),
    text: (t) => until(() => texts.find((m) => m.text === t && !m.fromMe), `${name}: the text ${JSON.stringify(t)}`),
    end: () => sock.end(undefined),
  }
}
