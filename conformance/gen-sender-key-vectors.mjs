// Writes crates/wa-core/tests/vectors/sender-key-baileys.json: sender-key material made by
// Baileys' group cipher (lib/Signal/Group) and Message protobufs encoded by Baileys' WAProto, so
// `cargo test -p wa-core` checks our sender keys and plaintexts against Baileys without Node.
//
// Usage (from the repository root, after `npm ci` in conformance/):
//   node conformance/gen-sender-key-vectors.mjs > crates/wa-core/tests/vectors/sender-key-baileys.json
//
// The key id, chain key and signing key are fixed, so the distribution message, the chain
// derivations and every message's proto part are the same on each run; the XEdDSA signatures
// and the random padding differ between runs, and every check on them holds.
import curve from 'libsignal/src/curve.js'
import { SenderChainKey } from '@whiskeysockets/baileys/lib/Signal/Group/index.js'
import { baileysGroup, hex, paddedText, proto } from './lib/group-fixtures.mjs'

const GROUP = '120363012345678901@g.us'
const KEY_ID = 0x1234567
const CHAIN_KEY = Buffer.alloc(32, 0x5a)
const SIGNING_PRIVATE = Buffer.alloc(32, 0x61)
const signingPublic = Buffer.from(curve.getPublicFromPrivateKey(SIGNING_PRIVATE))

const sender = baileysGroup(GROUP, { id: '15557654321', deviceId: 0 }, { json: false })
const record = await sender.store.loadSenderKey(sender.name)
record.setSenderKeyState(KEY_ID, 0, CHAIN_KEY, { public: signingPublic, private: SIGNING_PRIVATE })
await sender.store.storeSenderKey(sender.name, record)
const skdm = await sender.createSkdm()

const messages = []
for (let i = 0; i < 30; i++) {
  const plaintext = paddedText(`Baileys vector message ${i}`)
  const skmsg = await sender.encrypt(plaintext)
  const iteration = proto.SenderKeyMessage.decode(skmsg.subarray(1, skmsg.length - 64)).iteration
  messages.push({ iteration, plaintext: hex(plaintext), skmsg: hex(skmsg) })
}

const chain = []
let ck = new SenderChainKey(0, CHAIN_KEY)
for (let i = 0; i <= 2000; i++) {
  if ([0, 1, 2, 100, 2000].includes(i)) {
    const mk = ck.getSenderMessageKey()
    chain.push({ iteration: i, chain_key: hex(ck.getSeed()), message_seed: hex(mk.getSeed()), iv: hex(mk.getIv()), cipher_key: hex(mk.getCipherKey()) })
  }
  ck = ck.getNext()
}

const plaintexts = [
  { conversation: 'hello' },
  { extendedTextMessage: { text: 'extended text' } },
  { senderKeyDistributionMessage: { groupId: GROUP, axolotlSenderKeyDistributionMessage: skdm } },
  { deviceSentMessage: { destinationJid: '15551234567@s.whatsapp.net', message: { conversation: 'to myself' } } },
  {
    conversation: 'with context',
    messageContextInfo: {
      deviceListMetadata: { senderKeyHash: Buffer.from('0102', 'hex'), senderTimestamp: 1764000000, recipientKeyHash: Buffer.from('03', 'hex'), recipientTimestamp: 1764000001 },
      deviceListMetadataVersion: 2,
      messageSecret: Buffer.alloc(32, 7),
    },
  },
].map((m) => ({ proto: hex(proto.Message.encode(m).finish()) }))

const out = {
  source: 'Baileys 7.0.0-rc14 lib/Signal/Group and WAProto (conformance/gen-sender-key-vectors.mjs)',
  group: GROUP,
  key_id: KEY_ID,
  chain_key: hex(CHAIN_KEY),
  signing_private: hex(SIGNING_PRIVATE),
  signing_public: hex(signingPublic),
  skdm: hex(skdm),
  messages,
  chain,
  plaintexts,
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n')
