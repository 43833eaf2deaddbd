// Fixed keys and Baileys-side helpers shared by the ClientPayload/ADV cross-check and the
// vector generator: everything here is Baileys' or libsignal's own code, so what it produces is
// an independent witness for the Rust side.
import { createHash } from 'node:crypto'
import {
  Curve,
  encodeBigEndian,
  generateLoginNode,
  generateRegistrationNode,
  hmacSign,
  proto,
} from '@whiskeysockets/baileys'
import curve from 'libsignal/src/curve.js'

export const APP_VERSION = [2, 3000, 1035194821]
export const BAILEYS_CONFIG = {
  version: APP_VERSION,
  browser: ['Mac OS', 'Chrome', '14.4.1'],
  syncFullHistory: false,
  countryCode: 'US',
}

/** A key pair from a fixed private key, public without the 05 prefix, as Baileys stores it. */
export function keyPair(privateHex) {
  const priv = Buffer.from(privateHex, 'hex')
  const pub = Buffer.from(curve.getPublicFromPrivateKey(priv)).subarray(1)
  return { private: priv, public: Buffer.from(pub) }
}

export const md5 = (s) => createHash('md5').update(s).digest()

/** Baileys' registration ClientPayload for fixed keys, encoded. */
export function baileysRegistration({ registrationId, identity, signedPreKey, signedPreKeyId }) {
  const signature = Curve.sign(identity.private, Buffer.concat([Buffer.from([5]), signedPreKey.public]))
  const payload = generateRegistrationNode(
    {
      registrationId,
      signedIdentityKey: identity,
      signedPreKey: { keyPair: signedPreKey, signature, keyId: signedPreKeyId },
    },
    BAILEYS_CONFIG,
  )
  return Buffer.from(proto.ClientPayload.encode(payload).finish())
}

/** Baileys' login ClientPayload, encoded. */
export function baileysLogin(jid) {
  return Buffer.from(proto.ClientPayload.encode(generateLoginNode(jid, BAILEYS_CONFIG)).finish())
}

/**
 * The phone's side written with Baileys' primitives: the account key signs the device details
 * and our identity key, the ADV secret keys the HMAC.
 */
export function phoneIssue({ account, companionIdentityPub, advSecret, device, hosted = false }) {
  const details = Buffer.from(proto.ADVDeviceIdentity.encode(device).finish())
  const prefix = Buffer.from(device.deviceType === proto.ADVEncryptionType.HOSTED ? [6, 5] : [6, 0])
  const accountSignature = Curve.sign(account.private, Buffer.concat([prefix, details, companionIdentityPub]))
  const signed = Buffer.from(
    proto.ADVSignedDeviceIdentity.encode({
      details,
      accountSignatureKey: account.public,
      accountSignature,
    }).finish(),
  )
  const hmacPrefix = hosted ? Buffer.from([6, 5]) : Buffer.alloc(0)
  const hmac = hmacSign(Buffer.concat([hmacPrefix, signed]), advSecret)
  const container = { details: signed, hmac }
  if (hosted) container.accountType = proto.ADVEncryptionType.HOSTED
  return Buffer.from(proto.ADVSignedDeviceIdentityHMAC.encode(container).finish())
}

export { Curve, encodeBigEndian, proto }
