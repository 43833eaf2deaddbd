// Writes crates/wa-core/tests/vectors/baileys-payloads.json: ClientPayloads built by Baileys and a
// pairing done with Baileys' primitives, so the Rust tests can check the payload validator and
// both sides of the ADV checks against Baileys without Node.
//
// Usage (from the repository root, after `npm ci` in conformance/):
//   node conformance/gen-payload-vectors.mjs > crates/wa-core/tests/vectors/baileys-payloads.json
//
// Private keys are fixed; XEdDSA signatures use fresh randomness, so signatures (and the bytes
// that contain them) differ between runs while every check on them holds.
import { configureSuccessfulPairing } from '@whiskeysockets/baileys'
import { APP_VERSION, baileysLogin, baileysRegistration, keyPair, phoneIssue } from './lib/payload-fixtures.mjs'

const hex = (b) => Buffer.from(b).toString('hex')
const identityPrivate = '41'.repeat(32)
const identity = keyPair(identityPrivate)
const signedPreKey = keyPair('42'.repeat(32))
const account = keyPair('51'.repeat(32))
const advSecret = Buffer.alloc(32, 0x33)

const registrations = [0, 4321, 0x7fffffff].map((registrationId, i) => ({
  hex: hex(baileysRegistration({ registrationId, identity, signedPreKey, signedPreKeyId: i + 1 })),
  registration_id: registrationId,
  signed_pre_key_id: i + 1,
}))

const logins = [
  ['15551234567:3@s.whatsapp.net', 15551234567, 3],
  ['447700900123:12@s.whatsapp.net', 447700900123, 12],
].map(([jid, username, device]) => ({ hex: hex(baileysLogin(jid)), username, device }))

const pairings = [false, true].map((hosted) => {
  const device = { rawId: 77, timestamp: 1764000000, keyIndex: hosted ? 12 : 11, accountType: +hosted, deviceType: +hosted }
  const deviceIdentity = phoneIssue({ account, companionIdentityPub: identity.public, advSecret, device, hosted })
  const { reply } = configureSuccessfulPairing(
    {
      tag: 'iq',
      attrs: { from: 's.whatsapp.net', type: 'result', id: 'p' },
      content: [{
        tag: 'pair-success',
        attrs: {},
        content: [
          { tag: 'device-identity', attrs: {}, content: deviceIdentity },
          { tag: 'device', attrs: { jid: '15551234567:9@s.whatsapp.net' } },
        ],
      }],
    },
    { advSecretKey: advSecret.toString('base64'), signedIdentityKey: identity, signalIdentities: [] },
  )
  const sign = reply.content[0].content[0]
  return {
    hosted,
    key_index: device.keyIndex,
    device_identity_hex: hex(deviceIdentity),
    baileys_reply_key_index: Number(sign.attrs['key-index']),
    baileys_reply_hex: hex(sign.content),
  }
})

const out = {
  description:
    'Built by conformance/gen-payload-vectors.mjs with @whiskeysockets/baileys 7.0.0-rc14 and libsignal 6.0.0. ' +
    'registrations/logins: Baileys generateRegistrationNode/generateLoginNode, encoded by WAProto. ' +
    'pairings: the phone side with Baileys primitives (Curve.sign, hmacSign, WAProto), and Baileys ' +
    'configureSuccessfulPairing as the companion (its pair-device-sign content and key-index).',
  app_version: APP_VERSION.join('.'),
  identity_private_hex: identityPrivate,
  identity_public_hex: hex(identity.public),
  signed_pre_key_public_hex: hex(signedPreKey.public),
  account_public_hex: hex(account.public),
  adv_secret_hex: hex(advSecret),
  registrations,
  logins,
  pairings,
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n')
