// Pairwise Signal sessions between Herald (`cargo build -p wa-core --example signal_peer`, path
// in SIGNAL_PEER) and libsignal 6.0.0 from npm, both ways: set-up each way with and without a
// one-time prekey, 1,000 messages alternating and in bursts, out-of-order delivery, duplicates
// refused as duplicates on both sides, and a fresh session replacing the old one each way.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { HeraldPeer, LibsignalParty, signalLog, unhex } from './lib/signal-fixtures.mjs'

const peers = []
function herald() {
  const peer = new HeraldPeer()
  peers.push(peer)
  return peer
}
after(() => Promise.all(peers.map((p) => p.close())))

/** A deterministic generator, so a failure replays the same traffic. */
function random(seed) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const text = (n) => Buffer.from(`message ${n} ` + 'x'.repeat(n % 97))

async function heraldToLibsignal(h, ln, plaintext) {
  const message = await h.encrypt('ln', plaintext)
  assert.deepEqual(await ln.decrypt('herald', message), Buffer.from(plaintext))
  return message
}
async function libsignalToHerald(h, ln, plaintext) {
  const message = await ln.encrypt('herald', plaintext)
  const answer = await h.decrypt('ln', message)
  assert.equal(answer.error, undefined, answer.message)
  assert.deepEqual(unhex(answer.plaintext), Buffer.from(plaintext))
  return { message, answer }
}

/** A session Herald started (from libsignal's bundle) or libsignal started, answered once. */
async function established(heraldStarts, seed, preKeyId = 1) {
  const h = herald()
  const ln = new LibsignalParty()
  const bundle = await h.init(seed)
  if (heraldStarts) {
    await h.initiate('ln', ln.bundle(preKeyId))
    const first = await heraldToLibsignal(h, ln, 'hello libsignal')
    assert.equal(first.type, 'pkmsg')
    const { message } = await libsignalToHerald(h, ln, 'hello herald')
    assert.equal(message.type, 'msg')
  } else {
    await ln.initiate('herald', bundle, preKeyId)
    const { message, answer } = await libsignalToHerald(h, ln, 'hello herald')
    assert.equal(message.type, 'pkmsg')
    assert.equal(answer.consumedPreKey, preKeyId ?? null)
    const reply = await heraldToLibsignal(h, ln, 'hello libsignal')
    assert.equal(reply.type, 'msg')
  }
  return { h, ln, bundle }
}

for (const heraldStarts of [true, false]) {
  for (const preKeyId of [1, null]) {
    const who = heraldStarts ? 'Herald starts from libsignal' : 'libsignal starts from Herald'
    const pre = preKeyId ? 'with' : 'without'
    test(`${who}'s bundle, ${pre} a one-time prekey`, async () => {
      const { h, ln } = await established(heraldStarts, 11, preKeyId)
      if (heraldStarts) {
        assert.deepEqual(ln.store.removedPreKeys, preKeyId ? [preKeyId] : [])
      }
      // Both sides now send plain messages.
      assert.equal((await heraldToLibsignal(h, ln, 'second')).type, 'msg')
      assert.equal((await ln.encrypt('herald', 'x')).type, 'msg')
    })
  }
}

test('the initiator sends pkmsg until the first reply decrypts, in both roles', async () => {
  const h = herald()
  const ln = new LibsignalParty()
  const bundle = await h.init(12)
  await h.initiate('ln', ln.bundle(2))
  for (let i = 0; i < 3; i++) assert.equal((await heraldToLibsignal(h, ln, `p${i}`)).type, 'pkmsg')
  assert.deepEqual(ln.store.removedPreKeys, [2], 'the prekey is consumed once')
  await libsignalToHerald(h, ln, 'reply')
  assert.equal((await heraldToLibsignal(h, ln, 'now plain')).type, 'msg')

  const h2 = herald()
  const bundle2 = await h2.init(13)
  const ln2 = new LibsignalParty()
  await ln2.initiate('herald', bundle2, 3)
  const pk = []
  for (let i = 0; i < 3; i++) pk.push(await ln2.encrypt('herald', `q${i}`))
  assert.ok(pk.every((m) => m.type === 'pkmsg'))
  // Delivered out of order; only the first to arrive builds the session and uses the prekey.
  const answers = []
  for (const i of [2, 0, 1]) answers.push(await h2.decrypt('ln', pk[i]))
  assert.deepEqual(answers.map((a) => unhex(a.plaintext).toString()), ['q2', 'q0', 'q1'])
  assert.deepEqual(answers.map((a) => a.consumedPreKey), [3, null, null])
  assert.ok(bundle)
})

test('1,000 messages alternating and in bursts, with a reload in the middle', async () => {
  for (const heraldStarts of [true, false]) {
    const { h, ln } = await established(heraldStarts, 21)
    const rnd = random(heraldStarts ? 1 : 2)
    let sent = 0
    let fromHerald = true
    let reloaded = false
    while (sent < 1000) {
      // Alternate for the first 200, then bursts of 1–40 from one side.
      const burst = sent < 200 ? 1 : 1 + Math.floor(rnd() * 40)
      for (let i = 0; i < burst && sent < 1000; i++, sent++) {
        const plaintext = Buffer.concat([text(sent), Buffer.from([Math.floor(rnd() * 256)])])
        if (fromHerald) await heraldToLibsignal(h, ln, plaintext)
        else await libsignalToHerald(h, ln, plaintext)
      }
      fromHerald = !fromHerald
      if (sent >= 500 && !reloaded) {
        await h.ok({ op: 'reload' })
        reloaded = true
      }
    }
    assert.equal(sent, 1000)
    assert.ok(reloaded)
  }
})

test('out-of-order delivery within a window, across ratchet steps, both ways', async () => {
  const { h, ln } = await established(true, 31)
  const rnd = random(3)
  const shuffle = (list) => {
    const a = [...list]
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1))
      ;[a[i], a[j]] = [a[j], a[i]]
    }
    return a
  }
  for (let round = 0; round < 3; round++) {
    // libsignal → Herald: an old chain's messages arrive after a newer chain's.
    const older = []
    for (let i = 0; i < 20; i++) older.push([`a${round}.${i}`, await ln.encrypt('herald', `a${round}.${i}`)])
    await heraldToLibsignal(h, ln, `turn ${round}`)
    const newer = []
    for (let i = 0; i < 20; i++) newer.push([`b${round}.${i}`, await ln.encrypt('herald', `b${round}.${i}`)])
    for (const [plain, message] of [...shuffle(newer), ...shuffle(older)]) {
      const answer = await h.decrypt('ln', message)
      assert.equal(answer.error, undefined, `${plain}: ${answer.message}`)
      assert.equal(unhex(answer.plaintext).toString(), plain)
    }
    // Herald → libsignal, the same shape.
    const ours = []
    for (let i = 0; i < 20; i++) ours.push([`c${round}.${i}`, await h.encrypt('ln', Buffer.from(`c${round}.${i}`))])
    await libsignalToHerald(h, ln, `back ${round}`)
    const ours2 = []
    for (let i = 0; i < 20; i++) ours2.push([`d${round}.${i}`, await h.encrypt('ln', Buffer.from(`d${round}.${i}`))])
    for (const [plain, message] of [...shuffle(ours2), ...shuffle(ours)]) {
      assert.equal((await ln.decrypt('herald', message)).toString(), plain)
    }
  }
})

test('a jump past the limit is refused and changes nothing', async () => {
  const { h, ln } = await established(false, 35)
  const skipped = []
  for (let i = 0; i <= 2001; i++) skipped.push(await ln.encrypt('herald', `f${i}`))
  assert.equal((await h.decrypt('ln', skipped[2001])).error, 'too_far')
  const within = await h.decrypt('ln', skipped[2000])
  assert.equal(unhex(within.plaintext).toString(), 'f2000')
  assert.equal(unhex((await h.decrypt('ln', skipped[0])).plaintext).toString(), 'f0')
})

test('a duplicate is refused as a duplicate on both sides', async () => {
  // pkmsg duplicates, before the session is answered.
  const h = herald()
  const ln = new LibsignalParty()
  const bundle = await h.init(41)
  await ln.initiate('herald', bundle, 1)
  const pk = await ln.encrypt('herald', 'once')
  assert.equal(unhex((await h.decrypt('ln', pk)).plaintext).toString(), 'once')
  const again = await h.decrypt('ln', pk)
  assert.equal(again.error, 'duplicate', again.message)

  const ln2 = new LibsignalParty()
  const h2 = herald()
  await h2.init(42)
  await h2.initiate('ln', ln2.bundle(1))
  const ours = await h2.encrypt('ln', Buffer.from('once'))
  assert.equal((await ln2.decrypt('herald', ours)).toString(), 'once')
  await assert.rejects(ln2.decrypt('herald', ours), { name: 'MessageCounterError' })

  // msg duplicates in an established session.
  const { h: h3, ln: ln3 } = await established(true, 43)
  const theirs = await ln3.encrypt('herald', 'one msg')
  assert.equal(unhex((await h3.decrypt('ln', theirs)).plaintext).toString(), 'one msg')
  assert.equal((await h3.decrypt('ln', theirs)).error, 'duplicate')
  const mine = await h3.encrypt('ln', Buffer.from('my msg'))
  assert.equal((await ln3.decrypt('herald', mine)).toString(), 'my msg')
  signalLog.length = 0
  // libsignal-node folds the counter error of a msg into "No matching sessions"; its log says
  // which one it was.
  await assert.rejects(ln3.decrypt('herald', mine), { name: 'SessionError' })
  assert.ok(signalLog.some(([, line]) => line.includes('MessageCounterError')), 'libsignal saw a used key')
  // Neither side's session was harmed.
  await heraldToLibsignal(h3, ln3, 'still fine')
  await libsignalToHerald(h3, ln3, 'still fine too')
})

test('a fresh session replaces the old one, in each direction', async () => {
  // libsignal starts over from a new Herald bundle; Herald archives and follows.
  const { h, ln, bundle } = await established(false, 51)
  const late = await ln.encrypt('herald', 'late on the old session')
  await ln.initiate('herald', bundle, 2)
  const { message, answer } = await libsignalToHerald(h, ln, 'new session')
  assert.equal(message.type, 'pkmsg')
  assert.equal(answer.consumedPreKey, 2)
  let info = await h.ok({ op: 'info', peer: 'ln' })
  assert.equal(info.archived, 1)
  const old = await h.decrypt('ln', late)
  assert.equal(unhex(old.plaintext).toString(), 'late on the old session')
  await heraldToLibsignal(h, ln, 'answer on the new one')
  await libsignalToHerald(h, ln, 'and on')

  // Herald starts over from a new libsignal bundle; libsignal closes its old session.
  const mineLate = await h.encrypt('ln', Buffer.from('my late one'))
  await h.initiate('ln', ln.bundle(4))
  const fresh = await heraldToLibsignal(h, ln, 'my new session')
  assert.equal(fresh.type, 'pkmsg')
  assert.ok(signalLog.some(([, line]) => line.includes('Closing open session in favor of incoming prekey bundle')))
  info = await h.ok({ op: 'info', peer: 'ln' })
  assert.equal(info.archived, 2)
  await libsignalToHerald(h, ln, 'reply on your new one')
  assert.equal((await heraldToLibsignal(h, ln, 'plain now')).type, 'msg')
  // libsignal still reads the old session's late message (it keeps closed sessions).
  assert.equal((await ln.decrypt('herald', mineLate)).toString(), 'my late one')
})
