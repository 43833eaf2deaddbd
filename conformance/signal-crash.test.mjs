// `kill -9` at random moments while a store-backed Herald session (wa-client's `store_peer`
// example, path in STORE_PEER: `cargo build -p wa-client --example store_peer`) sends to and
// receives from libsignal 6.0.0: after every restart the session still talks to libsignal,
// nothing is decrypted twice and nothing sent is lost. The libsignal side lives in this
// process and outlives every kill; it acknowledges each message it read, as the server acks a
// message, and sends its own unacknowledged messages again after a restart, byte for byte.
// Herald prints its unacknowledged outbox again on start, the same bytes; whichever side had
// already read a copy refuses it as a duplicate. The Rust twin is
// crates/wa-client/tests/signal_crash.rs, with a wa-core peer.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, test } from 'node:test'
import { LibsignalParty, signalLog, unhex } from './lib/signal-fixtures.mjs'

const ROUNDS = 50
const dir = mkdtempSync(join(tmpdir(), 'herald-signal-crash-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** One life of `store_peer` on `dir`: its lines in order, `null` once it is gone. */
class StorePeer {
  constructor(binary = process.env.STORE_PEER) {
    if (!binary) throw new Error('set STORE_PEER (cargo build -p wa-client --example store_peer)')
    this.child = spawn(binary, [dir], { stdio: ['pipe', 'pipe', 'inherit'] })
    // Writing to a process that was just killed fails; the missing answer says so.
    this.child.stdin.on('error', () => {})
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })))
    this.queue = []
    this.waiting = []
    this.closed = false
    const lines = createInterface({ input: this.child.stdout })
    lines.on('line', (line) => (this.waiting.length ? this.waiting.shift()(line) : this.queue.push(line)))
    lines.on('close', () => {
      this.closed = true
      for (const resolve of this.waiting.splice(0)) resolve(null)
    })
  }
  line() {
    if (this.queue.length) return Promise.resolve(this.queue.shift())
    if (this.closed) return Promise.resolve(null)
    return new Promise((resolve) => this.waiting.push(resolve))
  }
  send(line) {
    if (!this.child.stdin.writable) return
    this.child.stdin.write(line + '\n')
  }
  async ask(line) {
    this.send(line)
    return this.line()
  }
}

/** The libsignal side and what it has seen. */
const peer = {
  ln: new LibsignalParty(),
  started: false,
  /** Messages Herald has not acknowledged yet, with their exact bytes. */
  unacked: [],
  nextText: 0,
  /** Texts Herald acknowledged with `ok` or `dup`, each once. */
  delivered: new Set(),
  /** Herald's outbox messages libsignal decrypted, by number. */
  received: new Map(),
  /** libsignal messages Herald had committed but died before acknowledging (answered `dup`). */
  refusedByHerald: 0,
  /** Herald's in-doubt messages printed again after a restart that libsignal had read. */
  refusedByLibsignal: 0,
  duplicateErrors: new Set(),
}

function startSession(line) {
  const b = JSON.parse(line.slice('bundle '.length))
  return peer.ln.initiate('herald', {
    registrationId: b.registration_id,
    identityKey: b.identity,
    signedPreKey: { keyId: b.signed_pre_key_id, publicKey: b.signed_pre_key, signature: b.signature },
    preKeys: [{ keyId: b.pre_key_id, publicKey: b.pre_key }],
  }, b.pre_key_id)
}

/** Reads one of Herald's `msg <n> <hex>` lines; returns `n` for the ack. */
async function onHeraldMessage(line) {
  const [, number, body] = line.split(' ')
  const n = Number(number)
  signalLog.length = 0
  try {
    const plaintext = await peer.ln.decrypt('herald', { type: 'msg', body })
    assert.ok(!peer.received.has(n), `outbox message ${n} decrypted twice`)
    peer.received.set(n, plaintext.toString())
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e
    assert.ok(peer.received.has(n), `libsignal cannot read outbox message ${n}: ${e}`)
    // What libsignal 6.0.0 raises for a copy of a message it already read: the counter error
    // of the one session it tried, folded into a SessionError; its log names the cause.
    assert.equal(e.name, 'SessionError')
    assert.equal(e.message, 'No matching sessions found for message')
    const cause = signalLog.find(([level, text]) => level === 'error' && text.startsWith('Session error:'))
    assert.ok(cause, 'libsignal logs why no session matched')
    const logged = /^Session error:(MessageCounterError: Key used already or never filled)/.exec(cause[1])
    assert.ok(logged, cause[1])
    peer.duplicateErrors.add(`${e.name}: ${e.message} (logged: ${logged[1]})`)
    peer.refusedByLibsignal++
  }
  return n
}

async function ack(h, n) {
  const answer = await h.ask(`ack ${n}`)
  if (answer === null) return false
  assert.equal(answer, 'acked')
  return true
}

/** One life: start, replay, then sends both ways until the kill (if any) or `steps` are done. */
async function round(killAfter, steps) {
  const h = new StorePeer()
  const killer = killAfter == null ? null : setTimeout(() => h.child.kill('SIGKILL'), killAfter)
  let alive = true
  const toAck = []
  for (;;) {
    const line = await h.line()
    if (line === null) {
      alive = false
      break
    }
    if (line.startsWith('bundle ')) {
      if (!peer.started) {
        await startSession(line)
        peer.started = true
      }
    } else if (line.startsWith('msg ')) {
      toAck.push(await onHeraldMessage(line))
    } else if (line === 'ready') {
      break
    } else {
      assert.fail(`unexpected line ${line}`)
    }
  }
  for (const n of toAck) if (alive) alive = await ack(h, n)
  for (let step = 1; alive && step <= steps; step++) {
    if (peer.delivered.size === 0 || step % 3 !== 0) {
      // Unacknowledged messages go again first, byte for byte.
      if (peer.unacked.length === 0) {
        const text = `peer message ${peer.nextText++}`
        peer.unacked.push({ text, ...(await peer.ln.encrypt('herald', text)) })
      }
      const { text, type, body } = peer.unacked[0]
      const answer = await h.ask(`recv ${type} ${body}`)
      if (answer === null) {
        alive = false
      } else if (answer === 'dup') {
        // Decrypted and committed by a Herald killed before it could say so.
        assert.ok(!peer.delivered.has(text), `${text} acknowledged twice`)
        peer.delivered.add(text)
        peer.refusedByHerald++
        peer.unacked.shift()
      } else {
        assert.equal(answer, `ok ${text}`)
        assert.ok(!peer.delivered.has(text), `${text} decrypted twice`)
        peer.delivered.add(text)
        peer.unacked.shift()
      }
    } else {
      const answer = await h.ask(`send herald message ${step}`)
      if (answer === null) alive = false
      else if (answer.startsWith('msg ')) alive = await ack(h, await onHeraldMessage(answer))
      else assert.fail(`unexpected answer ${answer}`)
    }
  }
  if (killer) clearTimeout(killer)
  h.child.stdin.end()
  const exit = await h.exited
  if (alive) assert.equal(exit.code, 0, 'store_peer exits cleanly when its input ends')
  else assert.equal(exit.signal, 'SIGKILL', 'store_peer only ever stops by the kill')
  return alive
}

test(`${ROUNDS} kill -9s while Herald's store-backed session and libsignal talk both ways`, { timeout: 60_000 }, async (t) => {
  const started = Date.now()
  let killedMidRound = 0
  for (let i = 0; i < ROUNDS; i++) {
    if (!(await round(5 + Math.floor(Math.random() * 245), 10_000))) killedMidRound++
  }
  assert.ok(killedMidRound > ROUNDS / 2, 'the kills must land while work is going on')
  assert.ok(peer.refusedByHerald + peer.refusedByLibsignal > 0, 'some kills leave a message in doubt')

  // A last life without a kill: the session still works both ways.
  const deliveredBefore = peer.delivered.size
  const receivedBefore = peer.received.size
  assert.ok(await round(null, 30))
  assert.ok(peer.delivered.size >= deliveredBefore + 10)
  assert.ok(peer.received.size >= receivedBefore + 5)
  // Nothing libsignal sent was lost: every text was acknowledged, each once.
  assert.equal(peer.unacked.length, 0)
  assert.equal(peer.delivered.size, peer.nextText)
  // Nothing Herald sent was lost: its outbox numbers 1..n were all read, and a fresh start has
  // nothing left in doubt to print again.
  const numbers = [...peer.received.keys()].sort((a, b) => a - b)
  assert.deepEqual(numbers, numbers.map((_, i) => i + 1))
  const last = new StorePeer()
  assert.ok((await last.line()).startsWith('bundle '))
  assert.equal(await last.line(), 'ready')
  last.child.stdin.end()
  assert.equal((await last.exited).code, 0)

  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  t.diagnostic(
    `${ROUNDS} kill -9s (${killedMidRound} mid-work) in ${seconds} s: libsignal sent ${peer.nextText}, ` +
      `Herald sent ${peer.received.size}; ${peer.refusedByHerald} libsignal resends refused by Herald as ` +
      `duplicates, ${peer.refusedByLibsignal} Herald resends refused by libsignal as duplicates`,
  )
  for (const e of peer.duplicateErrors) t.diagnostic(`libsignal's duplicate error: ${e}`)
})
