// Cross-checks the ClientPayload builders, the ADV pairing checks and the protobuf messages they
// use against Baileys (WAProto, its own registration/login builders, configureSuccessfulPairing)
// and libsignal's XEdDSA, both ways:
//   ours → Baileys' proto decodes the expected field values, and Baileys' pairing code accepts
//          our phone's identity; ours verifies Baileys' answer;
//   Baileys → `herald-cli debug proto …` decodes and validates the same values, and our
//          companion accepts a phone identity built with Baileys' primitives.
// Needs HERALD_CLI = path of the built herald-cli binary.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { configureSuccessfulPairing } from '@whiskeysockets/baileys'
import {
  APP_VERSION,
  Curve,
  baileysLogin,
  baileysRegistration,
  encodeBigEndian,
  keyPair,
  md5,
  phoneIssue,
  proto,
} from './lib/payload-fixtures.mjs'

const cli = process.env.HERALD_CLI
assert.ok(cli, 'set HERALD_CLI to the herald-cli binary (cargo build -p herald-cli)')

/** One herald-cli process over all lines; one answer per line. */
function runCli(args, lines) {
  const res = spawnSync(cli, ['debug', 'proto', ...args], {
    input: lines.join('\n') + '\n',
    maxBuffer: 1 << 28,
    encoding: 'utf8',
  })
  assert.equal(res.status, 0, `herald-cli debug proto ${args.join(' ')} failed: ${res.stderr}`)
  const out = res.stdout.split('\n')
  assert.equal(out.pop(), '', 'output ends with a newline')
  assert.equal(out.length, lines.length, 'one answer per line')
  return out
}
const cliOne = (args, value) => runCli(args, [typeof value === 'string' ? value : JSON.stringify(value)])[0]
const cliJson = (args, value) => JSON.parse(cliOne(args, value))
const hex = (b) => Buffer.from(b).toString('hex')
const unhex = (s) => Buffer.from(s, 'hex')

/** protobufjs object → the JSON form of `debug proto` (bytes as base64, longs and enums as numbers). */
const toCliJson = (type, message) => proto[type].toObject(message, { longs: Number, enums: Number, bytes: String })

const IDENTITY_PRIV = '41'.repeat(32)
const SPK_PRIV = '42'.repeat(32)
const identity = keyPair(IDENTITY_PRIV)
const signedPreKey = keyPair(SPK_PRIV)
const ourVersion = APP_VERSION.join('.')

test('Baileys decodes our registration payload to the expected values', () => {
  const bytes = unhex(
    cliOne(['build-payload'], {
      registration: {
        registrationId: 0x01020304,
        identityPrivate: IDENTITY_PRIV,
        signedPreKeyId: 0x0a0b0c,
        signedPreKeyPrivate: SPK_PRIV,
        appVersion: ourVersion,
        pushName: 'Herald test',
      },
    }),
  )
  const p = proto.ClientPayload.decode(bytes)
  assert.equal(p.passive, false)
  assert.equal(p.pull, false)
  assert.equal(p.username, null)
  assert.equal(p.pushName, 'Herald test')
  assert.equal(p.userAgent.platform, proto.ClientPayload.UserAgent.Platform.WEB)
  assert.deepEqual(
    [p.userAgent.appVersion.primary, p.userAgent.appVersion.secondary, p.userAgent.appVersion.tertiary],
    APP_VERSION,
  )
  assert.equal(p.userAgent.releaseChannel, proto.ClientPayload.UserAgent.ReleaseChannel.RELEASE)
  assert.equal(p.userAgent.device, 'Desktop')
  assert.equal(p.userAgent.localeCountryIso31661Alpha2, 'US')
  assert.equal(p.webInfo.webSubPlatform, proto.ClientPayload.WebInfo.WebSubPlatform.WEB_BROWSER)
  assert.equal(p.connectType, proto.ClientPayload.ConnectType.WIFI_UNKNOWN)
  assert.equal(p.connectReason, proto.ClientPayload.ConnectReason.USER_ACTIVATED)
  const d = p.devicePairingData
  assert.equal(hex(d.eRegid), hex(encodeBigEndian(0x01020304)))
  assert.equal(hex(d.eKeytype), '05')
  assert.equal(hex(d.eIdent), hex(identity.public))
  assert.equal(hex(d.eSkeyId), hex(encodeBigEndian(0x0a0b0c, 3)))
  assert.equal(hex(d.eSkeyVal), hex(signedPreKey.public))
  assert.ok(
    Curve.verify(identity.public, Buffer.concat([Buffer.from([5]), signedPreKey.public]), Buffer.from(d.eSkeySig)),
    'libsignal verifies our signed prekey signature',
  )
  assert.equal(hex(d.buildHash), hex(md5(ourVersion)))
  const props = proto.DeviceProps.decode(d.deviceProps)
  assert.equal(props.os, 'Herald')
  assert.equal(props.requireFullSync, false)
  assert.equal(props.platformType, proto.DeviceProps.PlatformType.UNKNOWN)
  assert.equal(props.historySyncConfig.storageQuotaMb, 10240)
})

test('Baileys decodes our login payload to the expected values', () => {
  const bytes = unhex(cliOne(['build-payload'], { login: { username: 15551234567, device: 7 } }))
  const p = proto.ClientPayload.decode(bytes)
  assert.equal(Number(p.username), 15551234567)
  assert.equal(p.device, 7)
  assert.equal(p.passive, true)
  assert.equal(p.pull, true)
  assert.equal(p.devicePairingData, null)
  assert.equal(p.userAgent.platform, proto.ClientPayload.UserAgent.Platform.WEB)
})

test("Baileys' own registration and login payloads pass our strict validator", () => {
  const registrationIds = [0, 1, 0x3fff, 0x7fffffff]
  const regs = registrationIds.map((registrationId, i) =>
    baileysRegistration({ registrationId, identity, signedPreKey, signedPreKeyId: i + 1 }),
  )
  const logins = ['15551234567:3@s.whatsapp.net', '447700900123:12@s.whatsapp.net'].map(baileysLogin)
  const out = runCli(['validate'], [...regs, ...logins].map(hex)).map((l) => JSON.parse(l))
  registrationIds.forEach((registrationId, i) => {
    assert.equal(out[i].error, undefined, out[i].error)
    assert.equal(out[i].kind, 'registration')
    assert.equal(out[i].registrationId, registrationId)
    assert.equal(out[i].signedPreKeyId, i + 1)
    assert.equal(out[i].identity, hex(identity.public))
    assert.equal(out[i].signedPreKey, hex(signedPreKey.public))
    assert.equal(out[i].appVersion, ourVersion)
    assert.equal(out[i].os, 'Mac OS')
  })
  assert.deepEqual(out[4], { kind: 'login', appVersion: ourVersion, username: 15551234567, device: 3 })
  assert.deepEqual(out[5], { kind: 'login', appVersion: ourVersion, username: 447700900123, device: 12 })

  // And a Baileys payload with a broken signature or a stale build hash is refused.
  const broken = proto.ClientPayload.decode(regs[1])
  // Decoded bytes are views into the input: copy before flipping a bit.
  const sig = Buffer.from(broken.devicePairingData.eSkeySig)
  sig[3] ^= 1
  broken.devicePairingData.eSkeySig = sig
  const stale = proto.ClientPayload.decode(regs[1])
  stale.devicePairingData.buildHash = md5('2.3000.1')
  const refused = runCli(['validate'], [broken, stale].map((m) => hex(proto.ClientPayload.encode(m).finish())))
  assert.match(JSON.parse(refused[0]).error, /signed prekey signature/)
  assert.match(JSON.parse(refused[1]).error, /buildHash/)
})

test('ClientPayload, DeviceProps and ADV messages decode to the same values both ways', () => {
  const reg = proto.ClientPayload.decode(baileysRegistration({ registrationId: 9, identity, signedPreKey, signedPreKeyId: 1 }))
  const login = proto.ClientPayload.decode(baileysLogin('15551234567:3@s.whatsapp.net'))
  const props = proto.DeviceProps.decode(reg.devicePairingData.deviceProps)
  // Only the DeviceProps fields our subset declares take part; Baileys sends a few more.
  const ourProps = proto.DeviceProps.decode(proto.DeviceProps.encode({
    os: props.os, version: props.version, platformType: props.platformType,
    requireFullSync: props.requireFullSync,
    historySyncConfig: { storageQuotaMb: 10240, inlineInitialPayloadInE2EeMsg: true, supportCallLogHistory: false },
  }).finish())
  const device = proto.ADVDeviceIdentity.fromObject({ rawId: 123456789, timestamp: 1764000000, keyIndex: 42, accountType: 1, deviceType: 1 })
  const signed = proto.ADVSignedDeviceIdentity.fromObject({
    details: proto.ADVDeviceIdentity.encode(device).finish(),
    accountSignatureKey: Buffer.alloc(32, 7),
    accountSignature: Buffer.alloc(64, 8),
    deviceSignature: Buffer.alloc(64, 9),
  })
  const container = proto.ADVSignedDeviceIdentityHMAC.fromObject({
    details: proto.ADVSignedDeviceIdentity.encode(signed).finish(),
    hmac: Buffer.alloc(32, 1),
    accountType: 1,
  })
  const cases = [
    ['ClientPayload', reg],
    ['ClientPayload', login],
    ['DeviceProps', ourProps],
    ['ADVDeviceIdentity', device],
    ['ADVSignedDeviceIdentity', signed],
    ['ADVSignedDeviceIdentityHMAC', container],
  ]
  for (const [type, message] of cases) {
    const bytes = Buffer.from(proto[type].encode(message).finish())
    const expected = toCliJson(type, message)
    // Baileys → ours: our decoder sees every field with Baileys' value.
    const ours = cliJson(['decode', type], hex(bytes))
    if (type === 'ClientPayload' && ours.devicePairingData) {
      // Baileys' extra DeviceProps fields stay inside the opaque deviceProps bytes.
      assert.equal(ours.devicePairingData.deviceProps, expected.devicePairingData.deviceProps)
    }
    assert.deepEqual(ours, expected, `${type} decoded by us`)
    // Ours → Baileys: what we encode from that JSON decodes to the same message, byte for byte.
    const back = unhex(cliOne(['encode', type], expected))
    assert.deepEqual(toCliJson(type, proto[type].decode(back)), expected, `${type} encoded by us`)
    assert.equal(hex(back), hex(bytes), `${type} bytes`)
  }
})

const ACCOUNT_PRIV = '51'.repeat(32)
const ADV_SECRET = Buffer.alloc(32, 0x33)
const account = keyPair(ACCOUNT_PRIV)

function pairSuccessStanza(deviceIdentity) {
  return {
    tag: 'iq',
    attrs: { from: 's.whatsapp.net', type: 'result', id: 'pair-1' },
    content: [{
      tag: 'pair-success',
      attrs: {},
      content: [
        { tag: 'device-identity', attrs: {}, content: deviceIdentity },
        { tag: 'device', attrs: { jid: '15551234567:9@s.whatsapp.net', lid: '123456789012345:9@lid' } },
        { tag: 'platform', attrs: { name: 'android' } },
      ],
    }],
  }
}

test("our phone's identity passes Baileys' pairing, and we accept Baileys' pair-device-sign", () => {
  for (const deviceType of [0, 1]) {
    const issued = cliJson(['adv-issue'], {
      accountPrivate: ACCOUNT_PRIV,
      companionIdentityPub: hex(identity.public),
      advSecret: hex(ADV_SECRET),
      device: { rawId: 77, timestamp: 1764000000, keyIndex: 5, accountType: deviceType, deviceType },
    })
    const wire = proto.ADVSignedDeviceIdentityHMAC.decode(unhex(issued.deviceIdentity))
    assert.equal(wire.accountType ?? 0, deviceType)
    const { creds, reply } = configureSuccessfulPairing(pairSuccessStanza(unhex(issued.deviceIdentity)), {
      advSecretKey: ADV_SECRET.toString('base64'),
      signedIdentityKey: identity,
      signalIdentities: [],
    })
    assert.equal(hex(creds.account.accountSignatureKey), hex(account.public))
    const sign = reply.content[0].content[0]
    assert.equal(sign.attrs['key-index'], '5')
    const verdict = cliJson(['adv-phone-check'], {
      issuedDeviceIdentity: issued.deviceIdentity,
      companionIdentityPub: hex(identity.public),
      keyIndex: Number(sign.attrs['key-index']),
      deviceIdentity: hex(sign.content),
    })
    assert.equal(verdict.ok, true, verdict.error)

    // A wrong ADV secret makes Baileys refuse it too.
    assert.throws(() => configureSuccessfulPairing(pairSuccessStanza(unhex(issued.deviceIdentity)), {
      advSecretKey: Buffer.alloc(32, 0x34).toString('base64'),
      signedIdentityKey: identity,
      signalIdentities: [],
    }))
  }
})

test("we accept a phone identity built with Baileys' primitives, and libsignal verifies our signature", () => {
  for (const hosted of [false, true]) {
    const device = { rawId: 77, timestamp: 1764000000, keyIndex: 11, accountType: hosted ? 1 : 0, deviceType: hosted ? 1 : 0 }
    const deviceIdentity = phoneIssue({ account, companionIdentityPub: identity.public, advSecret: ADV_SECRET, device, hosted })
    const out = cliJson(['adv-companion'], {
      deviceIdentity: hex(deviceIdentity),
      advSecret: hex(ADV_SECRET),
      identityPrivate: IDENTITY_PRIV,
    })
    assert.equal(out.error, undefined, out.error)
    assert.equal(out.keyIndex, 11)
    assert.equal(out.accountSignatureKey, hex(account.public))
    const reply = proto.ADVSignedDeviceIdentity.decode(unhex(out.reply))
    assert.equal(reply.accountSignatureKey?.length ?? 0, 0, 'reply carries no accountSignatureKey')
    const kept = proto.ADVSignedDeviceIdentity.decode(unhex(out.account))
    assert.equal(hex(kept.accountSignatureKey), hex(account.public))
    const deviceMsg = Buffer.concat([Buffer.from([6, 1]), reply.details, identity.public, account.public])
    assert.ok(Curve.verify(identity.public, deviceMsg, Buffer.from(reply.deviceSignature)), 'device signature')

    // Wrong secret → 401 hmac-mismatch; wrong account signature → 401 signature-mismatch.
    const badHmac = cliJson(['adv-companion'], {
      deviceIdentity: hex(deviceIdentity), advSecret: hex(Buffer.alloc(32, 1)), identityPrivate: IDENTITY_PRIV,
    })
    assert.deepEqual([badHmac.code, badHmac.text], [401, 'hmac-mismatch'])
    const forOther = phoneIssue({ account, companionIdentityPub: keyPair('61'.repeat(32)).public, advSecret: ADV_SECRET, device, hosted })
    const badSig = cliJson(['adv-companion'], {
      deviceIdentity: hex(forOther), advSecret: hex(ADV_SECRET), identityPrivate: IDENTITY_PRIV,
    })
    assert.deepEqual([badSig.code, badSig.text], [401, 'signature-mismatch'])
  }
})
