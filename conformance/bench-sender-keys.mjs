// Baileys' GroupCipher on the same work as crates/wa-core/benches/sender_keys.rs: encrypt and
// decrypt of a 100-byte padded plaintext; prints CPU and wall ns/op.
//   node conformance/bench-sender-keys.mjs
// The sender-key store keeps record objects in memory (no JSON), so the figures are the cipher
// alone. Baileys' encrypt advances its chain as it goes and its decrypt consumes one message
// each, so decrypt runs over a stream of messages made beforehand.
import { baileysGroup, SenderKeyDistributionMessage } from './lib/group-fixtures.mjs'

const GROUP = '120363012345678901@g.us'
const plaintext = Buffer.alloc(100, 0x61)

function cpuNs() {
  const u = process.cpuUsage()
  return (u.user + u.system) * 1000
}

async function nsPerOp(fn, count) {
  for (let i = 0; i < Math.min(50, count / 10); i++) await fn() // warm up the JIT
  const wall0 = process.hrtime.bigint()
  const cpu0 = cpuNs()
  for (let i = 0; i < count; i++) await fn()
  return { cpu: (cpuNs() - cpu0) / count, wall: Number(process.hrtime.bigint() - wall0) / count }
}

const sender = baileysGroup(GROUP, { id: '15557654321', deviceId: 0 }, { json: false })
const skdm = await sender.createSkdm()
const COUNT = 400
const encrypt = await nsPerOp(() => sender.encrypt(plaintext), COUNT)

const stream = []
const source = baileysGroup(GROUP, { id: '15550000000', deviceId: 1 }, { json: false })
const sourceSkdm = await source.createSkdm()
for (let i = 0; i < COUNT + 50; i++) stream.push(await source.encrypt(plaintext))
const receiver = baileysGroup(GROUP, { id: '15550000000', deviceId: 1 }, { json: false })
await receiver.processSkdm(sourceSkdm)
let next = 0
const decrypt = await nsPerOp(() => receiver.decrypt(stream[next++]), COUNT)
const parse = await nsPerOp(() => new SenderKeyDistributionMessage(null, null, null, null, skdm), 20000)

console.log('operation\tcpu_ns\twall_ns')
for (const [name, r] of [['group_encrypt_100B', encrypt], ['group_decrypt_100B', decrypt], ['skdm_parse', parse]]) {
  console.log([name, Math.round(r.cpu), Math.round(r.wall)].join('\t'))
}
