// Writes crates/wa-core/tests/vectors/baileys-payloads.json: ClientPayloads built by Baileys and a
// pairing done with Baileys' primitives, so the Rust tests can check the payload validator and
// both sides of the ADV checks against Baileys without Node.
//
// Usage (from the repository root, after `npm ci` in conformance/):
//   node conformance/gen-payload-vectors.mjs > crates/wa-core/tests/vectors/baileys-payloads.json
//
// The pairing-code section is fully determined (fixed keys, salts, nonces): the phone is the
// account key, the companion the identity key. Private keys are fixed; XEdDSA signatures use fresh randomness, so signatures (and the bytes
// that contain them) differ between runs while every check on them holds.
import {
  aesEncryptCTR,
  aesEncryptGCM,
  bytesToCrockford,
  configureSuccessfulPairing,
  Curve,
  derivePairingCodeKey,
  hkdf,
} from '@whiskeysockets/baileys'
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

// Linking by phone number, every step with Baileys' own functions and fixed randomness.
const codeBytes = Buffer.from([0x5a, 0x13, 0xc7, 0x00, 0xff])
const code = bytesToCrockford(codeBytes)
const companionEphemeral = keyPair('71'.repeat(32))
const primaryEphemeral = keyPair('72'.repeat(32))
const wrap = async (pub, salt, iv) =>
  Buffer.concat([salt, iv, aesEncryptCTR(pub, await derivePairingCodeKey(code, salt), iv)])
const wrappedCompanion = await wrap(companionEphemeral.public, Buffer.alloc(32, 1), Buffer.alloc(16, 2))
const wrappedPrimary = await wrap(primaryEphemeral.public, Buffer.alloc(32, 3), Buffer.alloc(16, 4))
const ephemeralShared = Curve.sharedKey(companionEphemeral.private, primaryEphemeral.public)
const bundleSalt = Buffer.alloc(32, 5)
const bundleNonce = Buffer.alloc(12, 6)
const advRandom = Buffer.alloc(32, 7)
const bundleKey = Buffer.from(hkdf(ephemeralShared, 32, { salt: bundleSalt, info: 'link_code_pairing_key_bundle_encryption_key' }))
const wrappedBundle = Buffer.concat([
  bundleSalt,
  bundleNonce,
  aesEncryptGCM(Buffer.concat([identity.public, account.public, advRandom]), bundleKey, bundleNonce, Buffer.alloc(0)),
])
const identityShared = Curve.sharedKey(identity.private, account.public)
const pairingCode = {
  code_bytes_hex: hex(codeBytes),
  code,
  companion_ephemeral_private_hex: '71'.repeat(32),
  primary_ephemeral_private_hex: '72'.repeat(32),
  wrapped_companion_ephemeral_hex: hex(wrappedCompanion),
  wrapped_primary_ephemeral_hex: hex(wrappedPrimary),
  ephemeral_shared_hex: hex(ephemeralShared),
  adv_random_hex: hex(advRandom),
  wrapped_key_bundle_hex: hex(wrappedBundle),
  adv_secret_hex: hex(hkdf(Buffer.concat([ephemeralShared, identityShared, advRandom]), 32, { info: 'adv_secret' })),
}

const out = {
  description:
    'Built by conformance/gen-payload-vectors.mjs with @whiskeysockets/baileys 7.0.0-rc14 and libsignal 6.0.0. ' +
    'registrations/logins: Baileys generateRegistrationNode/generateLoginNode, encoded by WAProto. ' +
    'pairings: the phone side with Baileys primitives (Curve.sign, hmacSign, WAProto), and Baileys ' +
    'configureSuccessfulPairing as the companion (its pair-device-sign content and key-index). ' +
    'pairing_code: Baileys bytesToCrockford, derivePairingCodeKey, aesEncryptCTR, hkdf, aesEncryptGCM, Curve.sharedKey.',
  app_version: APP_VERSION.join('.'),
  identity_private_hex: identityPrivate,
  identity_public_hex: hex(identity.public),
  signed_pre_key_public_hex: hex(signedPreKey.public),
  account_public_hex: hex(account.public),
  adv_secret_hex: hex(advSecret),
  registrations,
  logins,
  pairings,
  pairing_code: pairingCode,
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n')
