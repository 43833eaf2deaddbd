// Sender keys (group messages) against Baileys' GroupCipher / GroupSessionBuilder, both ways,
// and the plaintext Message subset with its padding against Baileys' WAProto:
//   Herald → Baileys: our distribution message installs in Baileys; 500 of our group messages,
//     delivered with gaps and late ones, decrypt there; a replay is refused;
//   Baileys → Herald: the same with Baileys' key and messages, plus a tampered message, a
//     replay and a jump past 2000 refused with typed errors, after which decryption goes on.
// Needs GROUP_PEER = path of the built wa-core example (cargo build -p wa-core --examples).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import {
  baileysGroup,
  gappyOrder,
  groupPeer,
  hex,
  paddedText,
  proto,
  SenderKeyDistributionMessage,
  unhex,
  unpadRandomMax16,
  writeRandomPadMax16,
} from './lib/group-fixtures.mjs'

const binary = process.env.GROUP_PEER
assert.ok(binary, 'set GROUP_PEER to the group_peer example (cargo build -p wa-core --examples)')

const GROUP = '120363012345678901@g.us'
const COUNT = 500
let peer
before(() => {
  peer = groupPeer(binary)
})
after(() => peer.close())

test('Herald distribution message and 500 group messages with gaps decrypt in Baileys', async () => {
  const { skdm } = await peer.request({ op: 'create' })
  const skdmBytes = unhex(skdm)
  assert.equal(skdmBytes[0], 0x33)
  const parsed = new SenderKeyDistributionMessage(null, null, null, null, skdmBytes)
  assert.equal(parsed.getIteration(), 0)
  assert.equal(Buffer.from(parsed.getChainKey()).length, 32)
  assert.equal(Buffer.from(parsed.getSignatureKey()).length, 33)
  assert.equal(Buffer.from(parsed.getSignatureKey())[0], 0x05)

  const member = baileysGroup(GROUP)
  await member.processSkdm(skdmBytes)

  const sent = []
  for (let i = 0; i < COUNT; i++) {
    const plaintext = paddedText(`Herald to the group, #${i}`)
    const out = await peer.request({ op: 'encrypt', plaintext: hex(plaintext) })
    assert.equal(out.iteration, i, 'our iterations are consecutive')
    sent.push({ plaintext, skmsg: unhex(out.skmsg) })
  }
  for (const i of gappyOrder(COUNT)) {
    const got = await member.decrypt(sent[i].skmsg)
    assert.deepEqual(got, sent[i].plaintext, `message ${i}`)
    assert.equal(proto.Message.decode(unpadRandomMax16(got)).conversation, `Herald to the group, #${i}`)
  }
  await assert.rejects(member.decrypt(sent[42].skmsg), /old counter|No sender message key/)
})

test('Baileys group messages with gaps decrypt in Herald; replay, tampering and far jumps are refused', async () => {
  const sender = baileysGroup(GROUP, { id: '15557654321', deviceId: 0 }, { json: false })
  const skdm = await sender.createSkdm()
  assert.deepEqual(await peer.request({ op: 'process', skdm: hex(skdm) }), { ok: true })

  const sent = []
  for (let i = 0; i < COUNT; i++) {
    const plaintext = paddedText(`Baileys to the group, #${i}`)
    sent.push({ plaintext, skmsg: await sender.encrypt(plaintext) })
  }
  const iterations = new Set()
  for (const i of gappyOrder(COUNT)) {
    const got = await peer.request({ op: 'decrypt', skmsg: hex(sent[i].skmsg) })
    assert.equal(got.plaintext, hex(sent[i].plaintext), `message ${i}: ${JSON.stringify(got)}`)
    iterations.add(got.iteration)
  }
  assert.equal(iterations.size, COUNT, 'every message had its own iteration')

  const replay = await peer.request({ op: 'decrypt', skmsg: hex(sent[7].skmsg) })
  assert.equal(replay.error, 'DuplicateOrOld')

  const next = paddedText('after the refusals')
  const nextMsg = await sender.encrypt(next)
  const tampered = Buffer.from(nextMsg)
  tampered[8] ^= 0x01
  assert.equal((await peer.request({ op: 'decrypt', skmsg: hex(tampered) })).error, 'BadSignature')
  const cut = nextMsg.subarray(0, 40)
  assert.equal((await peer.request({ op: 'decrypt', skmsg: hex(cut) })).error, 'Malformed')
  // The refusals changed nothing: the real message still decrypts.
  assert.equal((await peer.request({ op: 'decrypt', skmsg: hex(nextMsg) })).plaintext, hex(next))

  // A jump of 2000 is the most a receiver derives; 2001 is refused.
  await sender.advance(1999)
  const farthest = paddedText('2000 ahead')
  const farthestMsg = await sender.encrypt(farthest)
  assert.equal((await peer.request({ op: 'decrypt', skmsg: hex(farthestMsg) })).plaintext, hex(farthest))
  await sender.advance(2000)
  const far = await sender.encrypt(paddedText('2001 ahead'))
  const refused = await peer.request({ op: 'decrypt', skmsg: hex(far) })
  assert.equal(refused.error, 'TooFarInFuture', JSON.stringify(refused))
})

test('the Message subset and its padding agree with Baileys both ways', async () => {
  const message = {
    conversation: 'hello',
    senderKeyDistributionMessage: { groupId: GROUP, axolotlSenderKeyDistributionMessage: Buffer.from([0x33, 0x08, 0x01]) },
    extendedTextMessage: { text: 'extended text' },
    deviceSentMessage: { destinationJid: '15551234567@s.whatsapp.net', message: { conversation: 'inner' }, phash: '2:1rP1CxtP' },
    messageContextInfo: {
      deviceListMetadata: { senderKeyHash: Buffer.from([1, 2]), senderTimestamp: 1764000000, recipientKeyHash: Buffer.from([3]), recipientTimestamp: 1764000001 },
      deviceListMetadataVersion: 2,
      messageSecret: Buffer.alloc(32, 7),
    },
  }
  const encoded = proto.Message.encode(message).finish()
  const asObject = (bytes) => proto.Message.toObject(proto.Message.decode(bytes), { longs: Number })
  for (let i = 0; i < 20; i++) {
    const padded = writeRandomPadMax16(encoded)
    const { proto: again } = await peer.request({ op: 'unpad_message', padded: hex(padded) })
    assert.deepEqual(asObject(unhex(again)), asObject(encoded))
  }
  const bad = Buffer.concat([encoded, Buffer.from([2, 3])])
  assert.equal((await peer.request({ op: 'unpad_message', padded: hex(bad) })).error, 'Plaintext')

  const { padded } = await peer.request({ op: 'message_sample' })
  const sample = proto.Message.decode(unpadRandomMax16(unhex(padded)))
  assert.equal(sample.conversation, 'hello from Herald')
  assert.equal(sample.extendedTextMessage.text, 'extended')
  assert.equal(sample.senderKeyDistributionMessage.groupId, GROUP)
  assert.equal(sample.deviceSentMessage.destinationJid, '15551234567@s.whatsapp.net')
  assert.equal(sample.deviceSentMessage.message.conversation, 'inner')
  assert.equal(sample.deviceSentMessage.phash, '2:1rP1CxtP')
  assert.equal(Number(sample.messageContextInfo.deviceListMetadata.senderTimestamp), 1764000000)
  assert.deepEqual(sample.messageContextInfo.deviceListMetadata.senderKeyIndexes, [0, 5])
  assert.equal(sample.messageContextInfo.deviceListMetadataVersion, 2)
  assert.deepEqual(Buffer.from(sample.messageContextInfo.messageSecret), Buffer.alloc(32, 0x5a))
})
