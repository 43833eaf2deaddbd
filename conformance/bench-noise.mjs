// Transport frame work in Baileys, for comparison with `cargo bench -p wa-core --bench noise`:
// 1 KiB payloads encrypted and framed by Baileys' own noise handler (makeNoiseHandler in
// transport mode: AES-256-GCM, empty AAD, counter IV, 3-byte length), then the length parsed
// as its decodeFrame does and the payload decrypted with its aesDecryptGCM helper.
// Baileys' decodeFrame also decodes a binary node after decrypting; that step is left out so
// both sides measure the same work. Prints ns/op.
import { aesDecryptGCM, hkdf, makeNoiseHandler } from '@whiskeysockets/baileys'

const PAYLOAD = Buffer.alloc(1024, 0x5a)
const NOISE_HEADER = Buffer.from([0x57, 0x41, 0x06, 0x03])
const PROTOCOL_NAME = Buffer.from('Noise_XX_25519_AESGCM_SHA256\0\0\0\0')
const silent = { level: 'silent', child () { return silent }, trace () {}, debug () {}, info () {} }

const handler = makeNoiseHandler({
  keyPair: { private: Buffer.alloc(32, 1), public: Buffer.alloc(32, 2) },
  NOISE_HEADER,
  logger: silent
})
// Without a handshake the salt is still the protocol name, so Split gives these keys.
await handler.finishInit()
const writeKey = Buffer.from(hkdf(new Uint8Array(0), 64, { salt: PROTOCOL_NAME, info: '' })).subarray(0, 32)
// The first frame carries the intro header; send it once so every measured frame is alike.
handler.encodeFrame(PAYLOAD)
let readCounter = 1

const iv = new Uint8Array(12)
const EMPTY = Buffer.alloc(0)
function decodeAndDecrypt (frame) {
  const size = (frame[0] << 16) | (frame[1] << 8) | frame[2]
  if (frame.length < size + 3) throw new Error('short frame')
  const c = readCounter++
  new DataView(iv.buffer).setUint32(8, c)
  return aesDecryptGCM(frame.subarray(3, size + 3), writeKey, iv, EMPTY)
}

function bench (name, iterations, op) {
  for (let i = 0; i < iterations / 10; i++) op()
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) op()
  const ns = Number(process.hrtime.bigint() - start) / iterations
  console.log(`${name}: ${ns.toFixed(0)} ns/op`)
  return ns
}

// Check the pipeline really round-trips before timing it.
const check = decodeAndDecrypt(handler.encodeFrame(PAYLOAD))
if (!check.equals(PAYLOAD)) throw new Error('round trip failed')

const n = Number(process.env.ITERATIONS ?? 200000)
bench('baileys transport_frame_1KiB/encrypt_frame_decode_decrypt', n, () => decodeAndDecrypt(handler.encodeFrame(PAYLOAD)))
bench('baileys transport_frame_1KiB/encrypt_frame', n, () => handler.encodeFrame(PAYLOAD))
