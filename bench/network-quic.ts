// Suite `network-quic`: one 50 MB update over loopback through raw node:net TCP (the baseline,
// also with the bytes copied into one buffer), libp2p TCP + noise + yamux, TCP + TLS + yamux and
// QUIC (@chainsafe/libp2p-quic: TLS 1.3 and streams inside QUIC, native code), each libp2p case
// through gossipfl's direct update protocol (frame, ack). The same method as the `network`
// suite (network-bulk.ts): one connection kept open, 1 MiB writes with backpressure, the clock
// stopped by the receiver's answer, a warm-up, then the cases take turns transfer by transfer.
// Two layouts: both ends in this process, and the receiving ends in a child process (this file,
// run with `receive <bytes>`).
import '../src/util/polyfills.js';
import { fileURLToPath } from 'node:url';
import type { BenchRow, BenchSuite } from './lib.js';
import { median } from './lib.js';
import type { EncryptionChoice, NodeOptions } from '../src/node/options.js';
import { libp2pSender, rawSender, startLibp2pReceiver, startRawReceiver, takeTurns, withReceiverProcess, type BulkReceiver, type BulkSender } from './network-bulk.js';

const MB = 1e6;
const CASES = ['raw', 'rawAssembled', 'noise', 'tls', 'quic'] as const;
type Case = (typeof CASES)[number];

/** The libp2p cases: the node options of both ends, and the row's name. */
const LIBP2P: Record<Exclude<Case, 'raw' | 'rawAssembled'>, { encryption: EncryptionChoice; node: NodeOptions; label: string }> = {
  noise: { encryption: 'noise', node: {}, label: 'libp2p TCP+noise+yamux' },
  tls: { encryption: 'tls', node: {}, label: 'libp2p TCP+TLS+yamux' },
  quic: { encryption: 'tls', node: { transport: 'quic' }, label: 'libp2p QUIC (TLS 1.3 inside)' },
};

export const networkQuic: BenchSuite = {
  name: 'network-quic',
  async run({ quick }) {
    const bytes = 50 * MB;
    const repeats = quick ? 1 : 5;
    const payload = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i += 4096) payload[i] = i & 0xff;
    const rows: BenchRow[] = [];
    for (const layout of ['one process', 'two processes'] as const) {
      const ms = layout === 'one process' ? await inOneProcess(payload, repeats) : await inTwoProcesses(payload, repeats);
      const rate = (c: Case): number => bytes / MB / (median(ms[c]) / 1000);
      const spread = (c: Case): string => `${median(ms[c]).toFixed(0)} ms, median of ${repeats} (${Math.min(...ms[c]).toFixed(0)}-${Math.max(...ms[c]).toFixed(0)})`;
      const baseline = `raw node:net TCP, 50 MB, ${layout}`;
      rows.push({ suite: 'network-quic', name: baseline, value: rate('raw'), unit: 'MB/s', note: `${spread('raw')}; bytes counted, not kept` });
      for (const c of ['rawAssembled', 'noise', 'tls', 'quic'] as const) {
        const name = c === 'rawAssembled' ? `raw node:net TCP, 50 MB into one buffer, ${layout}` : `${LIBP2P[c].label}, 50 MB update, ${layout}`;
        const vsAssembled = c === 'rawAssembled' ? 'bytes copied into a fresh 50 MB buffer' : `direct protocol with ack; ${(rate(c) / rate('rawAssembled')).toFixed(2)}× raw into one buffer, ${(rate(c) / rate('tls')).toFixed(2)}× TLS`;
        rows.push({ suite: 'network-quic', name, value: rate(c), unit: 'MB/s', baseline, ratio: rate(c) / rate('raw'), note: `${spread(c)}; ${vsAssembled}` });
      }
    }
    return rows;
  },
};

async function startReceivers(bytes: number): Promise<Record<Case, BulkReceiver>> {
  const out = { raw: await startRawReceiver(bytes, false), rawAssembled: await startRawReceiver(bytes, true) } as Record<Case, BulkReceiver>;
  for (const [c, o] of Object.entries(LIBP2P)) out[c as Case] = await startLibp2pReceiver(o.encryption, bytes, o.node);
  return out;
}

async function senders(payload: Uint8Array, address: (c: Case) => string): Promise<Record<Case, BulkSender>> {
  const out = { raw: await rawSender(address('raw'), payload), rawAssembled: await rawSender(address('rawAssembled'), payload) } as Record<Case, BulkSender>;
  for (const [c, o] of Object.entries(LIBP2P)) out[c as Case] = await libp2pSender(o.encryption, address(c as Case), payload, o.node);
  return out;
}

async function inOneProcess(payload: Uint8Array, repeats: number): Promise<Record<Case, number[]>> {
  const receivers = await startReceivers(payload.byteLength);
  try {
    return await takeTurns(CASES, await senders(payload, (c) => receivers[c].address), repeats);
  } finally {
    await Promise.all(CASES.map((c) => receivers[c].stop()));
  }
}

async function inTwoProcesses(payload: Uint8Array, repeats: number): Promise<Record<Case, number[]>> {
  const script = fileURLToPath(import.meta.url);
  return withReceiverProcess([script, 'receive', String(payload.byteLength)], async (addresses: Record<Case, string>) =>
    takeTurns(CASES, await senders(payload, (c) => addresses[c]), repeats),
  );
}

// The child process of the two-process layout: its receivers' addresses as one JSON line, then wait for stdin to close.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'receive') {
  const bytes = Number(process.argv[3]);
  if (!Number.isInteger(bytes) || bytes <= 0) {
    process.stderr.write(`network-quic: payload bytes "${process.argv[3]}" is not a positive integer\n`);
    process.exit(2);
  }
  const receivers = await startReceivers(bytes);
  process.stdout.write(JSON.stringify(Object.fromEntries(CASES.map((c) => [c, receivers[c].address]))) + '\n');
  process.stdin.resume();
  process.stdin.on('end', () => void Promise.all(CASES.map((c) => receivers[c].stop())).finally(() => process.exit(0)));
}
