// Suite `network`: moving one large update over loopback and disseminating a small one.
// Bulk rows: a 50 MB update over raw node:net TCP (the baseline; also with the bytes copied into
// one buffer, as any receiver that keeps them must), libp2p TCP + noise + yamux and
// TCP + TLS + yamux through gossipfl's direct update protocol (frame, receiver validation hook,
// ack), in two layouts: both ends in this process (they share one event loop), and the
// receiving end in a child process (each end has its own core, as peers on two machines
// would). The cases of a layout take turns transfer by transfer, so load from elsewhere on the
// machine hits them alike. Then all-to-all exchanges and gossipsub dissemination of 1 MB to 8
// and 32 local peers.
import '../src/util/polyfills.js';
import { fileURLToPath } from 'node:url';
import type { BenchRow, BenchSuite } from './lib.js';
import { median } from './lib.js';
import { createGossipflNode, type GossipflNode } from '../src/node/create-node.js';
import { Libp2pTransport } from '../src/node/transport.js';
import { libp2pSender, rawSender, startLibp2pReceiver, startRawReceiver, takeTurns, withReceiverProcess, type BulkReceiver, type BulkSender } from './network-bulk.js';

const MB = 1e6;
const BULK_CASES = ['raw', 'rawAssembled', 'noise', 'tls'] as const;
type BulkCase = (typeof BULK_CASES)[number];

export const network: BenchSuite = {
  name: 'network',
  async run({ quick }) {
    const bytes = 50 * MB;
    const repeats = quick ? 1 : 5;
    const payload = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i += 4096) payload[i] = i & 0xff;
    const rows: BenchRow[] = [];

    for (const layout of ['one process', 'two processes'] as const) {
      const ms = layout === 'one process' ? await bulkInOneProcess(payload, repeats) : await bulkInTwoProcesses(payload, repeats);
      const rate = (c: BulkCase): number => bytes / MB / (median(ms[c]) / 1000);
      const baseline = `raw node:net TCP, 50 MB, ${layout}`;
      const assembled = `raw node:net TCP, 50 MB into one buffer, ${layout}`;
      const took = (c: BulkCase): string => `${median(ms[c]).toFixed(0)} ms, median of ${repeats}`;
      rows.push({ suite: 'network', name: baseline, value: rate('raw'), unit: 'MB/s', note: `${took('raw')}; bytes counted, not kept` });
      rows.push({
        suite: 'network',
        name: assembled,
        value: rate('rawAssembled'),
        unit: 'MB/s',
        baseline,
        ratio: rate('rawAssembled') / rate('raw'),
        note: `${took('rawAssembled')}; bytes copied into a fresh 50 MB buffer, as the direct protocol does`,
      });
      for (const enc of ['noise', 'tls'] as const) {
        rows.push({
          suite: 'network',
          name: `libp2p TCP+${enc}+yamux, 50 MB update, ${layout}`,
          value: rate(enc),
          unit: 'MB/s',
          baseline,
          ratio: rate(enc) / rate('raw'),
          note: `${took(enc)}; direct protocol with ack; ${(rate(enc) / rate('rawAssembled')).toFixed(2)}× raw into one buffer`,
        });
      }
    }
    for (const size of [16 * 1024, 256 * 1024]) {
      const viaStream = await allToAllExchange(4, size, 'stream', quick ? 3 : 6);
      const viaGossip = await allToAllExchange(4, size, 'gossipsub', quick ? 3 : 6);
      const base = `exchange all-to-all, 4 peers, ${size / 1024} KiB, direct stream`;
      rows.push({ suite: 'network', name: base, value: viaStream, unit: 'ms/round' });
      rows.push({
        suite: 'network',
        name: `exchange all-to-all, 4 peers, ${size / 1024} KiB, gossipsub`,
        value: viaGossip,
        unit: 'ms/round',
        baseline: base,
        ratio: viaGossip / viaStream,
        note: 'ratio > 1: gossipsub slower (sets the default gossip threshold)',
      });
    }
    for (const n of quick ? [8] : [8, 32]) {
      const d = await gossipDissemination(n, 1 * MB, quick ? 2 : 5);
      rows.push({
        suite: 'network',
        name: `gossipsub 1 MB to ${n - 1} peers (of ${n})`,
        value: d.last,
        unit: 'ms (last)',
        note: `first/median/last ${d.first.toFixed(0)}/${d.median.toFixed(0)}/${d.last.toFixed(0)} ms, medians of ${d.publishes} publishes; ${d.encryption}`,
      });
    }
    return rows;
  },
};

/** Milliseconds per transfer of each case, both ends in this process. */
async function bulkInOneProcess(payload: Uint8Array, repeats: number): Promise<Record<BulkCase, number[]>> {
  const receivers: Record<BulkCase, BulkReceiver> = {
    raw: await startRawReceiver(payload.byteLength, false),
    rawAssembled: await startRawReceiver(payload.byteLength, true),
    noise: await startLibp2pReceiver('noise', payload.byteLength),
    tls: await startLibp2pReceiver('tls', payload.byteLength),
  };
  try {
    return await takeTurns(BULK_CASES, await senders(payload, (c) => receivers[c].address), repeats);
  } finally {
    await Promise.all(BULK_CASES.map((c) => receivers[c].stop()));
  }
}

/** Milliseconds per transfer of each case, the receiving ends in a child process. */
async function bulkInTwoProcesses(payload: Uint8Array, repeats: number): Promise<Record<BulkCase, number[]>> {
  const script = fileURLToPath(new URL('./network-receiver.ts', import.meta.url));
  return withReceiverProcess([script, String(payload.byteLength)], async (addresses: Record<BulkCase, string>) =>
    takeTurns(BULK_CASES, await senders(payload, (c) => addresses[c]), repeats),
  );
}

async function senders(payload: Uint8Array, address: (c: BulkCase) => string): Promise<Record<BulkCase, BulkSender>> {
  return {
    raw: await rawSender(address('raw'), payload),
    rawAssembled: await rawSender(address('rawAssembled'), payload),
    noise: await libp2pSender('noise', address('noise'), payload),
    tls: await libp2pSender('tls', address('tls'), payload),
  };
}

/** Median ms of one exchange round where each of n peers sends `bytes` to all others, forced over one path. */
async function allToAllExchange(n: number, bytes: number, path: 'stream' | 'gossipsub', rounds: number): Promise<number> {
  const members: Array<{ node: GossipflNode; transport: Libp2pTransport }> = [];
  try {
    for (let i = 0; i < n; i++) {
      const node = await createGossipflNode({ bootstrap: i ? [members[0].node.addresses()[0]] : [] });
      const transport = await Libp2pTransport.start(node, {
        identity: { runId: 'bench', modelFingerprint: 'f', configHash: 'c' },
        validate: () => ({ ok: true }),
        gossipThresholdBytes: path === 'gossipsub' ? 4 * 1024 * 1024 : 1,
        log: () => undefined,
      });
      members.push({ node, transport });
    }
    await Promise.all(members.map((m) => m.transport.waitForMembers(n, 20_000)));
    const ids = members.map((m) => m.node.peerId);
    const times: number[] = [];
    for (let round = 0; round <= rounds; round++) {
      const t0 = performance.now();
      await Promise.all(
        members.map((m, i) => {
          const others = ids.filter((_, j) => j !== i);
          return m.transport.exchange({ round, phase: 0, payload: new Uint8Array(bytes).fill(round + i), sendTo: others, expectFrom: others, deadlineMs: 20_000 });
        }),
      );
      if (round > 0) times.push(performance.now() - t0); // round 0 warms up connections and streams
    }
    return median(times);
  } finally {
    await Promise.all(members.map((m) => m.transport.close()));
    await Promise.all(members.map((m) => m.node.stop()));
  }
}

interface Dissemination {
  first: number;
  median: number;
  last: number;
  publishes: number;
  encryption: string;
}

/** n nodes on loopback, each dialling its next 3 in a ring; node 0 publishes `bytes`; per-receiver arrival times. */
async function gossipDissemination(n: number, bytes: number, publishes: number): Promise<Dissemination> {
  const topic = 'bench-dissemination';
  const nodes: GossipflNode[] = [];
  try {
    for (let i = 0; i < n; i++) nodes.push(await createGossipflNode({}));
    const mesh = nodes.map(() => new Set<string>());
    nodes.forEach((node, i) => {
      const ps = node.libp2p.services.pubsub;
      ps.addEventListener('gossipsub:graft', (e) => mesh[i].add(e.detail.peerId));
      ps.addEventListener('gossipsub:prune', (e) => mesh[i].delete(e.detail.peerId));
      ps.subscribe(topic);
    });
    for (let i = 0; i < n; i++) {
      for (let k = 1; k <= Math.min(3, n - 1); k++) {
        await nodes[i].libp2p.dial(nodes[(i + k) % n].libp2p.getMultiaddrs()[0]);
      }
    }
    await waitUntil(() => mesh.every((m) => m.size >= Math.min(4, n - 1)), 15_000);
    const firsts: number[] = [];
    const medians: number[] = [];
    const lasts: number[] = [];
    for (let p = 0; p < publishes; p++) {
      const data = new Uint8Array(bytes);
      data[0] = p;
      const arrivals: number[] = [];
      let t0 = 0;
      const all = new Promise<void>((resolve) => {
        for (const node of nodes.slice(1)) {
          const onMessage = (): void => {
            node.libp2p.services.pubsub.removeEventListener('message', onMessage);
            arrivals.push(performance.now() - t0);
            if (arrivals.length === n - 1) resolve();
          };
          node.libp2p.services.pubsub.addEventListener('message', onMessage);
        }
      });
      t0 = performance.now();
      await nodes[0].libp2p.services.pubsub.publish(topic, data);
      await Promise.race([all, sleep(20_000)]);
      if (arrivals.length < n - 1) throw new Error(`bench: only ${arrivals.length} of ${n - 1} peers received publish ${p}`);
      arrivals.sort((x, y) => x - y);
      firsts.push(arrivals[0]);
      medians.push(median(arrivals));
      lasts.push(arrivals[arrivals.length - 1]);
      await sleep(200);
    }
    return { first: median(firsts), median: median(medians), last: median(lasts), publishes, encryption: nodes[0].options.encryption };
  } finally {
    await Promise.all(nodes.map((x) => x.stop()));
  }
}

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`bench: mesh did not form within ${timeoutMs} ms`);
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
