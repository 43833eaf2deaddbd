// Measures the binary node codec next to Baileys in one run and prints the README's table:
// Herald's CPU times from the criterion bench (crates/wa-core/benches/codec.rs), Baileys' from
// bench-codec.mjs on the same nodes, and Herald's instruction counts per operation under
// callgrind (crates/wa-core/examples/codec_row.rs), which do not move with the machine's load.
//
//   node conformance/codec-table.mjs            (from the repository root, after `npm ci` here)
//
// Needs cargo and valgrind on PATH. Takes a few minutes: criterion runs 4 groups × 5 rows.
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const ROWS = ['ping', 'receipt', 'ack', 'message_1k', 'message_64k']
const GROUPS = ['encode', 'view', 'view_route', 'decode_owned']
const CALLGRIND_OPS = { encode: 'encode', view: 'view', view_route: 'view_route', decode_owned: 'decode' }
const CALLGRIND_N = 1000

const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28, ...opts })
const log = (msg) => process.stderr.write(`codec-table: ${msg}\n`)

const targetDir = JSON.parse(run('cargo', ['metadata', '--format-version', '1', '--no-deps'])).target_directory

log('Baileys (node conformance/bench-codec.mjs)')
const baileys = {}
for (const line of run('node', [join(here, 'bench-codec.mjs')]).trim().split('\n').slice(1)) {
  const [shape, bytes, enc, dec] = line.split('\t')
  baileys[shape] = { bytes: Number(bytes), encode: Number(enc), decode: Number(dec) }
}

log('Herald (cargo bench -p wa-core --bench codec)')
run('cargo', ['bench', '-p', 'wa-core', '--bench', 'codec', '--', '--warm-up-time', '1', '--measurement-time', '3'], {
  stdio: ['ignore', 'ignore', 'inherit'],
})
const herald = {}
for (const g of GROUPS) {
  herald[g] = {}
  for (const r of ROWS) {
    const est = JSON.parse(readFileSync(join(targetDir, 'criterion', g, r, 'new', 'estimates.json'), 'utf8'))
    herald[g][r] = est.mean.point_estimate
  }
}

log('instruction counts (valgrind --tool=callgrind)')
run('cargo', ['build', '--release', '-p', 'wa-core', '--example', 'codec_row'], { stdio: ['ignore', 'ignore', 'inherit'] })
const bin = join(targetDir, 'release', 'examples', 'codec_row')
const instructions = (op, row, n) => {
  const res = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', bin, op, row, String(n)], { encoding: 'utf8' })
  const m = /Collected : (\d+)/.exec(res.stderr)
  if (res.status !== 0 || !m) throw new Error(`callgrind ${op} ${row}: ${res.stderr}`)
  return Number(m[1])
}
const ir = {}
for (const g of GROUPS) {
  ir[g] = {}
  for (const r of ROWS) {
    const op = CALLGRIND_OPS[g]
    // Subtracting a run with N = 0 leaves the operation alone, without start-up and set-up.
    ir[g][r] = Math.round((instructions(op, r, CALLGRIND_N) - instructions(op, r, 0)) / CALLGRIND_N)
  }
}

const ns = (v) => (v >= 10000 ? `${(v / 1000).toLocaleString('en-US', { maximumFractionDigits: 1 })} µs` : `${Math.round(v).toLocaleString('en-US')} ns`)
const ratio = (theirs, ours) => {
  const x = theirs / ours
  return x >= 100 ? `${Math.round(x).toLocaleString('en-US')}×` : `${x.toFixed(1)}×`
}
const names = { ping: 'ping', receipt: 'receipt', ack: 'ack', message_1k: 'message, 1 KiB content', message_64k: 'message, 64 KiB content' }

console.log('| node (bytes) | encode: Herald / Baileys | | decode (view): Herald / Baileys | | view + `id`, `type` | owned tree |')
console.log('|---|---:|---:|---:|---:|---:|---:|')
for (const r of ROWS) {
  const b = baileys[r]
  console.log(
    `| ${names[r]} (${b.bytes.toLocaleString('en-US')}) | ${ns(herald.encode[r])} / ${ns(b.encode)} | ${ratio(b.encode, herald.encode[r])} | ` +
      `${ns(herald.view[r])} / ${ns(b.decode)} | ${ratio(b.decode, herald.view[r])} | ${ns(herald.view_route[r])} | ${ns(herald.decode_owned[r])} |`,
  )
}
console.log('')
console.log('| instructions per operation (callgrind) | encode | view | view + `id`, `type` | owned tree |')
console.log('|---|---:|---:|---:|---:|')
for (const r of ROWS) {
  console.log(`| ${names[r]} | ${GROUPS.map((g) => ir[g][r].toLocaleString('en-US')).join(' | ')} |`)
}
