// Random Baileys BinaryNode trees with a fixed seed, and the helpers both the cross-check test
// and the vector generator need to compare Baileys' trees with the JSON of `herald-cli debug node`.
import { DOUBLE_BYTE_TOKENS, SINGLE_BYTE_TOKENS } from '@whiskeysockets/baileys/lib/WABinary/constants.js'

/** mulberry32: small, fast, and the same sequence on every machine for a given seed. */
export function rng(seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1))
  const pick = (xs) => xs[int(0, xs.length - 1)]
  const chars = (alphabet, lo, hi) => {
    const n = int(lo, hi)
    let s = ''
    for (let i = 0; i < n; i++) s += alphabet[int(0, alphabet.length - 1)]
    return s
  }
  const bytes = (n) => {
    const b = Buffer.alloc(n)
    // Past 64 bytes the values matter less than the length: repeat a random block, cheaply.
    const block = Math.min(n, 64)
    for (let i = 0; i < block; i++) b[i] = int(0, 255)
    for (let i = block; i < n; i++) b[i] = b[i % block] ^ (i & 0xff)
    return b
  }
  return { next, int, pick, chars, bytes }
}

const SINGLE = SINGLE_BYTE_TOKENS.slice(1)
const DOUBLE = DOUBLE_BYTE_TOKENS.flat()
// JS objects put integer-like keys first whatever the insertion order, so keys must not be.
const isIndexLike = (s) => /^(0|[1-9][0-9]*)$/.test(s)
const KEY_TOKENS = [...SINGLE, ...DOUBLE].filter((t) => !isIndexLike(t))
const DIGITS = '0123456789'
const NIBBLE = '0123456789-.'
const HEX_UPPER = '0123456789ABCDEF'
const HEX_LOWER = '0123456789abcdef'
const WORD = 'abcdefghijklmnopqrstuvwxyz_-:.'
const UNICODE = ['a', 'Z', ' ', 'é', 'ß', '日本', '😀', '\u0000', '\n', '"', '\\', '+', '/', '=']

/** A JID in Baileys' text form, one of every kind Baileys can encode. */
export function randomJid(r) {
  const phone = () => '1' + r.chars(DIGITS, 9, 14)
  const lid = () => r.chars(DIGITS, 12, 15)
  const device = () => r.int(1, 99)
  switch (r.int(0, 15)) {
    case 0: return `${phone()}@s.whatsapp.net`
    case 1: return `${phone()}:${device()}@s.whatsapp.net`
    case 2: return `${phone()}:0@s.whatsapp.net` // Baileys writes AD_JID with device 0
    case 3: return `${phone()}_${r.int(2, 127)}:${device()}@s.whatsapp.net` // raw agent
    case 4: return `${lid()}@lid`
    case 5: return `${lid()}:${device()}@lid`
    case 6: return `${phone()}@hosted`
    case 7: return `${phone()}:${device()}@hosted`
    case 8: return `${lid()}@hosted.lid`
    case 9: return `${lid()}:${device()}@hosted.lid`
    case 10: return r.pick([`120363${r.chars(DIGITS, 12, 12)}@g.us`, `${phone()}-${r.chars(DIGITS, 10, 10)}@g.us`])
    case 11: return r.pick(['status@broadcast', `${r.chars(DIGITS, 10, 13)}@broadcast`])
    case 12: return r.pick([`120363${r.chars(DIGITS, 12, 12)}@newsletter`, `${r.chars(HEX_UPPER, 16, 32)}@call`])
    case 13: return r.pick(['@s.whatsapp.net', '@g.us', '@lid', '@broadcast', '@call', '@newsletter'])
    case 14: return r.pick(['server@c.us', '0@c.us', '13135550002@bot', `${r.chars('abcdefgh', 1, 8)}@example.net`])
    default: return `${phone()}@s.whatsapp.net`
  }
}

/** A string exercising one of the encoder's string forms. */
export function randomString(r) {
  switch (r.int(0, 9)) {
    case 0: return r.pick(SINGLE)
    case 1: return r.pick(DOUBLE)
    case 2: return r.chars(NIBBLE, 1, 127)
    case 3: return r.chars(HEX_UPPER, 1, 127)
    case 4: return r.chars(HEX_LOWER, 1, 40) // lowercase hex is not packed: raw bytes
    case 5: return r.chars(DIGITS, 128, 300) // too long to pack
    case 6: return ''
    case 7: {
      let s = ''
      const n = r.int(1, 12)
      for (let i = 0; i < n; i++) s += r.pick(UNICODE)
      return s
    }
    case 8: return r.chars(WORD, 1, 60)
    default: return r.chars(WORD, 256, 400) // BINARY_20 strings
  }
}

function randomName(r) {
  for (;;) {
    const s = r.int(0, 2) === 0 ? r.chars('abcdefghijklmnopqrstuvwxyz_-:', 1, 12) : r.pick(KEY_TOKENS)
    if (s !== '' && !isIndexLike(s)) return s
  }
}

function randomContent(r, depth) {
  const roll = r.int(0, 99)
  if (roll < 25) return undefined
  if (roll < 45) return r.bytes(r.int(0, 300))
  if (roll < 47) return r.bytes(r.int(256, 20000)) // BINARY_20
  if (roll < 56) return r.pick([r.pick(SINGLE), r.pick(DOUBLE), r.chars(NIBBLE, 1, 20), r.chars(WORD, 1, 30)])
  if (depth >= 5) return r.bytes(r.int(0, 16))
  const n = roll < 60 ? 0 : r.int(1, roll > 97 ? 300 : 6) // sometimes LIST_16
  const kids = []
  for (let i = 0; i < n; i++) kids.push(randomNode(r, depth + 1, n > 20))
  return kids
}

/**
 * A random node; `small` keeps wide lists from exploding in size, `large` gives the node about
 * 1 MiB of content (BINARY_32) or a 64–1000 KiB one (BINARY_20 near its limit).
 */
export function randomNode(r, depth = 0, small = false, large = false) {
  const attrs = {}
  const n = r.int(0, small ? 2 : 6)
  for (let i = 0; i < n; i++) {
    const key = randomName(r)
    attrs[key] = r.int(0, 3) === 0 ? randomJid(r) : randomString(r)
  }
  const node = { tag: randomName(r), attrs }
  const content = large
    ? r.bytes(r.int(0, 1) ? r.int(1 << 20, (1 << 20) + 4096) : r.int(65536, (1 << 20) - 1))
    : small ? (r.int(0, 1) ? undefined : r.bytes(r.int(0, 8))) : randomContent(r, depth)
  if (content !== undefined) node.content = content
  return node
}

/** Baileys tree → the JSON line `herald-cli debug node encode` reads. */
export function toCliJson(node) {
  const out = { tag: node.tag, attrs: node.attrs }
  if (typeof node.content === 'string') out.content = node.content
  else if (Array.isArray(node.content)) out.content = node.content.map(toCliJson)
  else if (node.content !== undefined) out.content = { b64: Buffer.from(node.content).toString('base64') }
  return out
}

/**
 * A tree in one comparable shape, from Baileys (string content = its UTF-8 bytes, Buffer
 * content = bytes) or from our JSON ({"b64"} = bytes). Our JSON prints a raw agent
 * (`user.agent:device@s.whatsapp.net`); Baileys drops it when decoding, so `dropAgent` maps ours
 * to Baileys' text and counts how often that happened.
 */
export function normalize(node, stats = { agents: 0 }) {
  const attrs = Object.entries(node.attrs || {}).map(([k, v]) => {
    const m = /^([^@]*)\.(\d+):(\d+)@s\.whatsapp\.net$/.exec(v)
    if (!m) return [k, v]
    stats.agents++
    return [k, m[3] === '0' ? `${m[1]}@s.whatsapp.net` : `${m[1]}:${m[3]}@s.whatsapp.net`]
  })
  let content
  if (typeof node.content === 'string') content = { hex: Buffer.from(node.content, 'utf8').toString('hex') }
  else if (Array.isArray(node.content)) content = node.content.map((c) => normalize(c, stats))
  else if (node.content && typeof node.content.b64 === 'string') content = { hex: Buffer.from(node.content.b64, 'base64').toString('hex') }
  else if (node.content !== undefined) content = { hex: Buffer.from(node.content).toString('hex') }
  return { tag: node.tag, attrs, content }
}

/**
 * Whether our encoder must reproduce Baileys' bytes for this (Baileys-decoded) tree exactly:
 * everywhere except string content (we send bytes as BINARY_n, Baileys packs or tokenizes
 * strings) and device-less hosted JIDs (we follow whatsmeow: hosted is always AD_JID).
 */
export function expectByteExact(node) {
  if (typeof node.content === 'string') return false
  for (const v of Object.values(node.attrs || {})) {
    if (/^[^:@]*@hosted(\.lid)?$/.test(v)) return false
  }
  return Array.isArray(node.content) ? node.content.every(expectByteExact) : true
}
