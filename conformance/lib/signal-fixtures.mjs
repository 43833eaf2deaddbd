// libsignal-node parties and a driver for Herald's `signal_peer`, shared by the pairwise
// conformance test, the vector generator and the benchmark. The libsignal side is the npm
// package's own SessionBuilder/SessionCipher over an in-memory store that keeps records
// serialized, as Baileys' store does, so a failed decrypt leaves nothing behind.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import libsignal from 'libsignal'

const { ProtocolAddress, SessionBuilder, SessionCipher, SessionRecord, keyhelper, curve } = libsignal

export const hex = (b) => Buffer.from(b).toString('hex')
export const unhex = (s) => Buffer.from(s, 'hex')

/** libsignal logs every session it opens or closes; keep what it says for the assertions. */
export const signalLog = []
for (const level of ['info', 'warn', 'error']) {
  console[level] = (...args) => signalLog.push([level, args.map(String).join(' ')])
}

class MemoryStore {
  constructor(identity, registrationId) {
    this.identity = identity
    this.registrationId = registrationId
    this.sessions = new Map()
    this.preKeys = new Map()
    this.signedPreKeys = new Map()
    this.removedPreKeys = []
  }
  async getOurIdentity() { return this.identity }
  async getOurRegistrationId() { return this.registrationId }
  async isTrustedIdentity() { return true }
  async loadSession(addr) {
    const data = this.sessions.get(addr)
    return data ? SessionRecord.deserialize(data) : undefined
  }
  async storeSession(addr, record) { this.sessions.set(addr, record.serialize()) }
  async loadPreKey(id) { return this.preKeys.get(id) }
  async removePreKey(id) {
    this.preKeys.delete(id)
    this.removedPreKeys.push(id)
  }
  async loadSignedPreKey(id) { return this.signedPreKeys.get(id) }
}

/** A libsignal-node party with identity, signed prekey 1 and one-time prekeys 1..preKeys. */
export class LibsignalParty {
  constructor(preKeys = 5) {
    const identity = curve.generateKeyPair()
    this.store = new MemoryStore(identity, keyhelper.generateRegistrationId())
    this.signed = keyhelper.generateSignedPreKey(identity, 1)
    this.store.signedPreKeys.set(1, this.signed.keyPair)
    this.preKeys = new Map()
    for (let id = 1; id <= preKeys; id++) {
      const key = keyhelper.generatePreKey(id)
      this.preKeys.set(id, key)
      this.store.preKeys.set(id, key.keyPair)
    }
  }
  address(name) { return new ProtocolAddress(name, 1) }
  /** Its bundle in the JSON form `signal_peer` reads (public keys 33-byte hex). */
  bundle(preKeyId) {
    const pre = preKeyId == null ? null : this.preKeys.get(preKeyId)
    return {
      registrationId: this.store.registrationId,
      identityKey: hex(this.store.identity.pubKey),
      signedPreKey: {
        keyId: this.signed.keyId,
        publicKey: hex(this.signed.keyPair.pubKey),
        signature: hex(this.signed.signature),
      },
      preKey: pre ? { keyId: pre.keyId, publicKey: hex(pre.keyPair.pubKey) } : null,
    }
  }
  /** Starts a session from a bundle in `signal_peer`'s JSON form. */
  async initiate(name, bundle, preKeyId) {
    const pre = preKeyId == null ? undefined : bundle.preKeys.find((k) => k.keyId === preKeyId)
    await new SessionBuilder(this.store, this.address(name)).initOutgoing({
      registrationId: bundle.registrationId,
      identityKey: unhex(bundle.identityKey),
      signedPreKey: {
        keyId: bundle.signedPreKey.keyId,
        publicKey: unhex(bundle.signedPreKey.publicKey),
        signature: unhex(bundle.signedPreKey.signature),
      },
      preKey: pre && { keyId: pre.keyId, publicKey: unhex(pre.publicKey) },
    })
  }
  /** → `{type: 'pkmsg'|'msg', body: hex}` */
  async encrypt(name, plaintext) {
    const out = await new SessionCipher(this.store, this.address(name)).encrypt(Buffer.from(plaintext))
    return { type: out.type === 3 ? 'pkmsg' : 'msg', body: hex(out.body) }
  }
  /** → the plaintext as a Buffer; throws libsignal's own errors. */
  async decrypt(name, message) {
    const cipher = new SessionCipher(this.store, this.address(name))
    const body = unhex(message.body)
    return message.type === 'pkmsg'
      ? cipher.decryptPreKeyWhisperMessage(body)
      : cipher.decryptWhisperMessage(body)
  }
}

/** Herald's `signal_peer` example as a child process; one request at a time. */
export class HeraldPeer {
  constructor(binary = process.env.SIGNAL_PEER) {
    if (!binary) throw new Error('set SIGNAL_PEER (cargo build -p wa-core --example signal_peer)')
    this.child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'inherit'] })
    this.lines = createInterface({ input: this.child.stdout })
    this.waiting = []
    this.lines.on('line', (line) => this.waiting.shift()(JSON.parse(line)))
  }
  request(value) {
    return new Promise((resolve) => {
      this.waiting.push(resolve)
      this.child.stdin.write(JSON.stringify(value) + '\n')
    })
  }
  /** Like `request`, but a `{error}` answer throws. */
  async ok(value) {
    const answer = await this.request(value)
    if (answer.error) throw new Error(`signal_peer ${value.op}: ${answer.error}: ${answer.message}`)
    return answer
  }
  init(seed, preKeys = 5) { return this.ok({ op: 'init', seed, preKeys }) }
  initiate(peer, bundle) { return this.ok({ op: 'initiate', peer, bundle }) }
  encrypt(peer, plaintext) { return this.ok({ op: 'encrypt', peer, plaintext: hex(plaintext) }) }
  decrypt(peer, message) { return this.request({ op: 'decrypt', peer, ...message }) }
  close() {
    this.child.stdin.end()
    return new Promise((resolve) => this.child.on('close', resolve))
  }
}
