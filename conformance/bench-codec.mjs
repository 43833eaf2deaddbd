// Baileys' binary node codec on the same nodes as crates/wa-core/benches/codec.rs; prints ns/op.
//   node conformance/bench-codec.mjs
// Decoding calls decodeDecompressedBinaryNode directly (synchronous, no flags byte), so the
// figure is the codec alone, not the promise machinery of decodeBinaryNode.
import * as constants from '@whiskeysockets/baileys/lib/WABinary/constants.js'
import { decodeDecompressedBinaryNode, encodeBinaryNode } from '@whiskeysockets/baileys/lib/WABinary/index.js'

const MSG_ID = '3EB0ABCDEF0123456789AB'
const message = (size) => {
  const ciphertext = Buffer.alloc(size)
  for (let i = 0; i < size; i++) ciphertext[i] = (i * 31) % 251
  return {
    tag: 'message',
    attrs: { id: MSG_ID, to: '15551234567@s.whatsapp.net', type: 'text', t: '1752021890' },
    content: [
      { tag: 'enc', attrs: { v: '2', type: 'msg' }, content: ciphertext },
      { tag: 'device-identity', attrs: {}, content: Buffer.alloc(180, 7) },
    ],
  }
}
const corpus = [
  ['ping', { tag: 'iq', attrs: { id: '1234.5678-9', xmlns: 'w:p', type: 'get', to: '@s.whatsapp.net' }, content: [{ tag: 'ping', attrs: {} }] }],
  ['receipt', { tag: 'receipt', attrs: { from: '15551234567:3@s.whatsapp.net', id: MSG_ID, t: '1752021890', type: 'read' } }],
  ['ack', { tag: 'ack', attrs: { class: 'receipt', id: MSG_ID, to: '15551234567:3@s.whatsapp.net', type: 'read' } }],
  ['message_1k', message(1024)],
  ['message_64k', message(64 * 1024)],
]

// CPU time (user + system of this process), like the Rust bench, so a busy machine does not
// distort the ratio; wall time is printed as well.
function nsPerOp(fn, minCpuMs = 1500) {
  for (let i = 0; i < 2000; i++) fn() // warm up the JIT
  let iters = 0
  const wall0 = process.hrtime.bigint()
  const cpu0 = process.cpuUsage()
  let cpuUs = 0
  while (cpuUs < minCpuMs * 1000) {
    for (let i = 0; i < 50; i++) fn()
    iters += 50
    const d = process.cpuUsage(cpu0)
    cpuUs = d.user + d.system
  }
  const wallNs = Number(process.hrtime.bigint() - wall0)
  return { cpu: (cpuUs * 1000) / iters, wall: wallNs / iters }
}

console.log('shape\tbytes\tencode_cpu_ns\tdecode_cpu_ns\tencode_wall_ns\tdecode_wall_ns')
for (const [name, node] of corpus) {
  const bytes = encodeBinaryNode(node)
  const body = bytes.subarray(1)
  const enc = nsPerOp(() => encodeBinaryNode(node))
  const dec = nsPerOp(() => decodeDecompressedBinaryNode(body, constants))
  console.log([name, bytes.length, enc.cpu, dec.cpu, enc.wall, dec.wall].map((v) => (typeof v === 'number' ? Math.round(v) : v)).join('\t'))
}
