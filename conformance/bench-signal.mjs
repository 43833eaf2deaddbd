// Pairwise Signal work in libsignal-node 6.0.0, for comparison with `cargo bench -p wa-core
// --bench signal`: X3DH on each side (initOutgoing from a bundle; the responder decrypting the
// first pkmsg), and a 100-byte message encrypted and decrypted in an established session, along
// one chain and alternating (a DH ratchet step per message).
//
// The store keeps live SessionRecord objects (no serialization), libsignal's cheapest case;
// Baileys' own store serializes every record. Note that initOutgoing does not check the
// signed-prekey signature (its verifySignature returns early), which the Rust side does.
// Prints CPU ns/op (process CPU time, as bench-codec.mjs) and wall ns/op.
//
// Usage (after `npm ci` in conformance/): node conformance/bench-signal.mjs
import libsignal from 'libsignal'
import './lib/signal-fixtures.mjs'

const { ProtocolAddress, SessionBuilder, SessionCipher, keyhelper, curve } = libsignal
for (const level of ['info', 'warn', 'error', 'debug']) console[level] = () => {}

class LiveStore {
  constructor() {
    this.identity = curve.generateKeyPair()
    this.registrationId = keyhelper.generateRegistrationId()
    this.sessions = new Map()
    this.preKeys = new Map()
    this.signedPreKeys = new Map()
  }
  async getOurIdentity() { return this.identity }
  async getOurRegistrationId() { return this.registrationId }
  async isTrustedIdentity() { return true }
  async loadSession(addr) { return this.sessions.get(addr) }
  async storeSession(addr, record) { this.sessions.set(addr, record) }
  async loadPreKey(id) { return this.preKeys.get(id) }
  async removePreKey(id) { this.preKeys.delete(id) }
  async loadSignedPreKey(id) { return this.signedPreKeys.get(id) }
}

const MESSAGE = Buffer.alloc(100, 0x42)
const alice = new LiveStore()
const bob = new LiveStore()
const signed = keyhelper.generateSignedPreKey(bob.identity, 1)
bob.signedPreKeys.set(1, signed.keyPair)
const preKey = keyhelper.generatePreKey(7)
const toBob = new ProtocolAddress('bob', 1)
const toAlice = new ProtocolAddress('alice', 1)
const device = {
  registrationId: bob.registrationId,
  identityKey: bob.identity.pubKey,
  signedPreKey: { keyId: 1, publicKey: signed.keyPair.pubKey, signature: signed.signature },
  preKey: { keyId: 7, publicKey: preKey.keyPair.pubKey },
}

async function bench(name, fn, minCpuMs = 2000) {
  for (let i = 0; i < 200; i++) await fn()
  let iters = 0
  const wall0 = process.hrtime.bigint()
  const cpu0 = process.cpuUsage()
  let cpuUs = 0
  while (cpuUs < minCpuMs * 1000) {
    for (let i = 0; i < 50; i++) await fn()
    iters += 50
    const d = process.cpuUsage(cpu0)
    cpuUs = d.user + d.system
  }
  const wallNs = Number(process.hrtime.bigint() - wall0)
  console.log(`${name}\t${Math.round((cpuUs * 1000) / iters)}\t${Math.round(wallNs / iters)}`)
}

console.log('work\tcpu_ns_per_op\twall_ns_per_op')
await bench('x3dh/initiator_from_bundle', async () => {
  alice.sessions.clear()
  await new SessionBuilder(alice, toBob).initOutgoing(device)
})

// The first pkmsg of a session, decrypted by a responder with no record each time.
alice.sessions.clear()
await new SessionBuilder(alice, toBob).initOutgoing(device)
const first = await new SessionCipher(alice, toBob).encrypt(MESSAGE)
await bench('x3dh/responder_first_pkmsg', async () => {
  bob.sessions.clear()
  bob.preKeys.set(7, preKey.keyPair)
  await new SessionCipher(bob, toAlice).decryptPreKeyWhisperMessage(first.body)
})

// Established: Bob answered and Alice read the answer.
const aliceCipher = new SessionCipher(alice, toBob)
const bobCipher = new SessionCipher(bob, toAlice)
const reply = await bobCipher.encrypt(Buffer.from('reply'))
await aliceCipher.decryptWhisperMessage(reply.body)
await bench('message_100B/encrypt_decrypt_same_chain', async () => {
  const out = await aliceCipher.encrypt(MESSAGE)
  await bobCipher.decryptWhisperMessage(out.body)
})
let aliceTurn = true
await bench('message_100B/encrypt_decrypt_alternating', async () => {
  const [from, to] = aliceTurn ? [aliceCipher, bobCipher] : [bobCipher, aliceCipher]
  aliceTurn = !aliceTurn
  const out = await from.encrypt(MESSAGE)
  await to.decryptWhisperMessage(out.body)
})
