// Writes crates/wa-core/tests/vectors/signal-session.json and signal-long.json: conversations
// between two libsignal-node 6.0.0 parties, with every private key they drew, so the Rust tests
// can replay both sides without Node: each message Herald encrypts must equal libsignal's bytes
// exactly, and each of libsignal's messages must decrypt (or be refused) as it was there.
//
// Usage (from the repository root, after `npm ci` in conformance/):
//   node conformance/gen-signal-vectors.mjs
//
// Key generation is made deterministic (SHA-256 of a seed and a counter), so running the script
// again rewrites the same files. Each event:
//   {op: "initiate", party, bundle, draws}   party starts a session from the other's bundle
//   {op: "encrypt", party, plaintext, type, body}
//   {op: "decrypt", party, type, body, plaintext | error, consumedPreKey, draws}
// `draws` are the private keys libsignal generated during that event, in order. A decrypt that
// tried another session first may have drawn one more than the step that succeeded; that one is
// the last.
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import curve from 'libsignal/src/curve.js'
import { LibsignalParty, hex, signalLog } from './lib/signal-fixtures.mjs'

let drawSeed = ''
let drawCount = 0
let drawLog = null
curve.generateKeyPair = () => {
  const privKey = createHash('sha256').update(`${drawSeed}/${drawCount++}`).digest()
  if (drawLog) drawLog.push(hex(privKey))
  return { privKey, pubKey: Buffer.from(curve.getPublicFromPrivateKey(privKey)) }
}

function rng(seed) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function describe(party) {
  const out = {
    identityPrivate: hex(party.store.identity.privKey),
    identityPublic: hex(party.store.identity.pubKey),
    registrationId: party.store.registrationId,
  }
  out.signedPreKey = {
    id: party.signed.keyId,
    private: hex(party.signed.keyPair.privKey),
    public: hex(party.signed.keyPair.pubKey),
    signature: hex(party.signed.signature),
  }
  out.preKeys = [...party.preKeys.values()].map((k) => ({
    id: k.keyId,
    private: hex(k.keyPair.privKey),
    public: hex(k.keyPair.pubKey),
  }))
  return out
}

async function conversation(file, seed, script) {
  drawSeed = `herald signal vectors ${seed}`
  drawCount = 0
  const parties = { alice: new LibsignalParty(0), bob: new LibsignalParty(3) }
  parties.alice.store.registrationId = 1111
  parties.bob.store.registrationId = 2222
  const other = { alice: 'bob', bob: 'alice' }
  const events = []
  const run = {
    async initiate(party, preKeyId) {
      const bundle = parties[other[party]].bundle(preKeyId)
      drawLog = []
      await parties[party].initiate(other[party], { ...bundle, preKeys: bundle.preKey ? [bundle.preKey] : [] }, preKeyId)
      events.push({ op: 'initiate', party, bundle, draws: drawLog })
      drawLog = null
    },
    async encrypt(party, plaintext) {
      const message = await parties[party].encrypt(other[party], plaintext)
      events.push({ op: 'encrypt', party, plaintext: hex(Buffer.from(plaintext)), ...message })
      return message
    },
    async decrypt(party, message) {
      const removed = parties[party].store.removedPreKeys.length
      drawLog = []
      signalLog.length = 0
      const event = { op: 'decrypt', party, ...message }
      try {
        event.plaintext = hex(await parties[party].decrypt(other[party], message))
      } catch (e) {
        // libsignal-node reports a used key as MessageCounterError, directly for a pkmsg and
        // only in its log for a msg.
        const used = e.name === 'MessageCounterError' ||
          signalLog.some(([, line]) => line.includes('MessageCounterError'))
        event.error = used ? 'duplicate' : e.name
      }
      event.consumedPreKey = parties[party].store.removedPreKeys[removed] ?? null
      event.draws = drawLog
      drawLog = null
      events.push(event)
    },
  }
  await script(run, rng(seed))
  const vectors = {
    description: `libsignal-node 6.0.0 conversation, written by conformance/gen-signal-vectors.mjs (seed ${seed})`,
    alice: describe(parties.alice),
    bob: describe(parties.bob),
    events,
  }
  writeFileSync(new URL(`../crates/wa-core/tests/vectors/${file}`, import.meta.url), JSON.stringify(vectors, null, 1) + '\n')
  console.log(`${file}: ${events.length} events`)
}

await conversation('signal-session.json', 1, async (run) => {
  await run.initiate('alice', 1)
  const m0 = await run.encrypt('alice', 'm0')
  const m1 = await run.encrypt('alice', 'm1')
  await run.decrypt('bob', m1)
  await run.decrypt('bob', m0)
  await run.decrypt('bob', m0)
  await run.decrypt('bob', m1)
  const r = [await run.encrypt('bob', 'r0'), await run.encrypt('bob', 'r1'), await run.encrypt('bob', 'r2')]
  await run.decrypt('alice', r[2])
  await run.decrypt('alice', r[0])
  const a = [await run.encrypt('alice', 'a0'), await run.encrypt('alice', 'a1'), await run.encrypt('alice', 'a2')]
  await run.decrypt('bob', a[1])
  await run.decrypt('bob', a[0])
  await run.decrypt('bob', a[2])
  await run.decrypt('bob', a[2])
  // Six turns: Bob's chain of r0–r2 stays among the five receiving chains a state keeps
  // (libsignal-node keeps every chain; Herald, whatsmeow and libsignal keep five).
  for (let i = 0; i < 6; i++) {
    const from = i % 2 ? 'alice' : 'bob'
    await run.decrypt(from === 'alice' ? 'bob' : 'alice', await run.encrypt(from, `turn ${i}`))
  }
  // r1 was skipped on a chain Alice has since stepped past.
  await run.decrypt('alice', r[1])
  const late = await run.encrypt('alice', 'late on session 1')
  // A second session, without a one-time prekey, replaces the first.
  await run.initiate('alice', null)
  await run.decrypt('bob', await run.encrypt('alice', 'n0'))
  await run.decrypt('alice', await run.encrypt('bob', 's0'))
  await run.decrypt('bob', await run.encrypt('alice', 'n1'))
  // Last: libsignal-node's failed try of the new session changes that session in its record.
  await run.decrypt('bob', late)
})

await conversation('signal-long.json', 2, async (run, rnd) => {
  await run.initiate('bob', null)
  await run.decrypt('alice', await run.encrypt('bob', 'hello'))
  let sent = 0
  let held = []
  let from = 'alice'
  while (sent < 300) {
    const burst = []
    const size = 1 + Math.floor(rnd() * 30)
    for (let i = 0; i < size && sent < 300; i++, sent++) {
      const len = Math.floor(rnd() * 120)
      burst.push(await run.encrypt(from, Buffer.from(Array.from({ length: len }, () => Math.floor(rnd() * 256)))))
    }
    for (let i = burst.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1))
      ;[burst[i], burst[j]] = [burst[j], burst[i]]
    }
    const to = from === 'alice' ? 'bob' : 'alice'
    // One message of each burst arrives only after the next burst, from a chain since replaced.
    const late = burst.length > 1 ? burst.pop() : null
    for (const m of burst) await run.decrypt(to, m)
    for (const [party, m] of held) await run.decrypt(party, m)
    held = late ? [[to, late]] : []
    from = to
  }
  for (const [party, m] of held) await run.decrypt(party, m)
})
