// Writes crates/wa-core/tests/vectors/baileys-nodes.json: random nodes encoded and decoded by
// Baileys, so the Rust tests can check our codec against Baileys without Node.
//
// Usage (from the repository root, after `npm ci` in conformance/):
//   node conformance/gen-baileys-vectors.mjs > crates/wa-core/tests/vectors/baileys-nodes.json
//
// Each vector:
//   hex           Baileys' encodeBinaryNode of a random tree (flags byte 00 included)
//   tree          Baileys' decodeBinaryNode of `hex`: attrs as [key, value] pairs (order kept),
//                 content null | [nodes] | {"b64": bytes} | {"text": string}
//   reencoded_hex Baileys' encoding of `tree`
//   byte_exact    whether our encoder must produce `reencoded_hex` exactly (see expectByteExact)
import { decodeBinaryNode, encodeBinaryNode } from '@whiskeysockets/baileys/lib/WABinary/index.js'
import { expectByteExact, randomNode, rng } from './lib/binary-node-gen.mjs'

const SEED = 20250704
const COUNT = 300
const MAX_BYTES = 1024

const toVectorTree = (n) => ({
  tag: n.tag,
  attrs: Object.entries(n.attrs),
  content:
    n.content === undefined ? null
      : typeof n.content === 'string' ? { text: n.content }
        : Array.isArray(n.content) ? n.content.map(toVectorTree)
          : { b64: Buffer.from(n.content).toString('base64') },
})

const r = rng(SEED)
const vectors = []
while (vectors.length < COUNT) {
  const bytes = encodeBinaryNode(randomNode(r))
  if (bytes.length > MAX_BYTES) continue
  const tree = await decodeBinaryNode(bytes)
  vectors.push({
    hex: bytes.toString('hex'),
    tree: toVectorTree(tree),
    reencoded_hex: encodeBinaryNode(tree).toString('hex'),
    byte_exact: expectByteExact(tree),
  })
}

const out = {
  description: 'Random WABinary nodes encoded and decoded by @whiskeysockets/baileys 7.0.0-rc14; regenerate with conformance/gen-baileys-vectors.mjs',
  seed: SEED,
  vectors,
}
process.stdout.write(JSON.stringify(out, null, 0).replace(/\{"hex"/g, '\n{"hex"') + '\n')
