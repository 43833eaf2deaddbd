// Baileys' group cipher (lib/Signal/Group) with an in-memory sender-key store, and a driver for
// the wa-core `group_peer` example. The store round-trips every record through JSON, as
// Baileys' own signal repository does (lib/Signal/libsignal.js loadSenderKey/storeSenderKey),
// so what a failed decrypt leaves behind is what Baileys would persist. It stringifies with
// BufferJSON.replacer: with the plain JSON.stringify that libsignal.js uses, skipped message
// key seeds come back as `{type, data}` objects and every late group message then fails in
// libsignal's deriveSecrets ("Expected Buffer") — a Baileys bug this suite steps around.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import {
  GroupCipher,
  GroupSessionBuilder,
  SenderKeyDistributionMessage,
  SenderKeyName,
  SenderKeyRecord,
} from '@whiskeysockets/baileys/lib/Signal/Group/index.js'
import { BufferJSON, proto } from '@whiskeysockets/baileys'
import { unpadRandomMax16, writeRandomPadMax16 } from '@whiskeysockets/baileys/lib/Utils/generics.js'

export { proto, unpadRandomMax16, writeRandomPadMax16, SenderKeyDistributionMessage, SenderKeyRecord }

export const hex = (b) => Buffer.from(b).toString('hex')
export const unhex = (s) => Buffer.from(s, 'hex')

/** Baileys' SenderKeyStore contract, persisted as JSON as Baileys persists it; with
 * `{ json: false }` the record object itself is kept (faster, for a sender whose own state
 * Baileys fills with up to 2000 keys it skips over itself). */
export function memoryStore({ json = true } = {}) {
  const rows = new Map()
  return {
    rows,
    async loadSenderKey(name) {
      const row = rows.get(name.toString())
      if (!row) return new SenderKeyRecord()
      return json ? SenderKeyRecord.deserialize(row) : row
    },
    async storeSenderKey(name, record) {
      const row = json ? Buffer.from(JSON.stringify(record.serialize(), BufferJSON.replacer), 'utf-8') : record
      rows.set(name.toString(), row)
    },
  }
}

/** A Baileys group member for one (group, sender) name. */
export function baileysGroup(groupId, sender = { id: '15551234567', deviceId: 3 }, storeOptions = {}) {
  const store = memoryStore(storeOptions)
  const name = new SenderKeyName(groupId, { ...sender, toString: () => `${sender.id}.${sender.deviceId}` })
  return {
    store,
    name,
    /** Our own key's distribution message (creating the key), serialized. */
    async createSkdm() {
      const skdm = await new GroupSessionBuilder(store).create(name)
      return Buffer.from(skdm.serialize())
    },
    async processSkdm(bytes) {
      await new GroupSessionBuilder(store).process(name, new SenderKeyDistributionMessage(null, null, null, null, bytes))
    },
    async encrypt(padded) {
      return Buffer.from(await new GroupCipher(store, name).encrypt(padded))
    },
    async decrypt(bytes) {
      return Buffer.from(await new GroupCipher(store, name).decrypt(bytes))
    },
    /** Moves our own chain `steps` iterations on with Baileys' SenderChainKey, as if that
     * many messages had been sent to others. */
    async advance(steps) {
      const record = await store.loadSenderKey(name)
      const state = record.getSenderKeyState()
      let chain = state.getSenderChainKey()
      for (let i = 0; i < steps; i++) chain = chain.getNext()
      state.setSenderChainKey(chain)
      await store.storeSenderKey(name, record)
    },
  }
}

/** The `group_peer` example: one JSON request per line, one answer per line. */
export function groupPeer(binary) {
  const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  const waiting = []
  lines.on('line', (line) => waiting.shift()?.resolve(JSON.parse(line)))
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`group_peer exited with ${code}`))
  })
  return {
    request(obj) {
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject })
        child.stdin.write(JSON.stringify(obj) + '\n')
      })
    },
    close() {
      child.stdin.end()
      return new Promise((resolve) => child.on('close', resolve))
    },
  }
}

/** A text message, encoded and padded as Baileys sends it. */
export const paddedText = (text) => Buffer.from(writeRandomPadMax16(proto.Message.encode({ conversation: text }).finish()))

/** The order messages are delivered in: every 7th held back (gaps), then the held ones last,
 * newest first (late and out of order). Each index appears exactly once. */
export function gappyOrder(n) {
  const held = []
  const order = []
  for (let i = 0; i < n; i++) (i % 7 === 3 ? held : order).push(i)
  return order.concat(held.reverse())
}
