// Suite `network`: moving one large update over loopback and disseminating a small one.
// Rows: raw node:net TCP (the baseline), libp2p TCP + noise + yamux and TCP + TLS + yamux
// through gossipfl's direct update protocol (frame, receiver validation hook, ack), and
// gossipsub dissemination of a 1 MB message to 8 and 32 local peers.
import '../src/util/polyfills.js';
import { createServer, connect, type Socket } from 'node:net';
import type { BenchRow, BenchSuite } from './lib.js';
import { median } from './lib.js';
import { createGossipflNode, type GossipflNode } from '../src/node/create-node.js';
import { handleUpdateProtocol, sendUpdate } from '../src/node/direct.js';
import type { EncryptionChoice } from '../src/node/options.js';
import { Libp2pTransport } from '../src/node/transport.js';

const MB = 1e6;

export const network: BenchSuite = {
  name: 'network',
  async run({ quick }) {
    const bytes = 50 * MB;
    const repeats = quick ? 1 : 3;
    const payload = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i += 4096) payload[i] = i & 0xff;
    const rows: BenchRow[] = [];

    const rawMs = median(await repeat(repeats, () => rawTcpTransfer(payload)));
    const rawRate = bytes / MB / (rawMs / 1000);
    rows.push({ suite: 'network', name: 'raw node:net TCP, 50 MB', value: rawRate, unit: 'MB/s', note: `${rawMs.toFixed(0)} ms` });
    for (const enc of ['noise', 'tls'] as const) {
      const ms = median(await libp2pTransfer(enc, payload, repeats));
      const rate = bytes / MB / (ms / 1000);
      rows.push({
        suite: 'network',
        name: `libp2p TCP+${enc}+yamux, 50 MB update`,
        value: rate,
        unit: 'MB/s',
        baseline: 'raw node:net TCP, 50 MB',
        ratio: rate / rawRate,
        note: `${ms.toFixed(0)} ms, direct protocol with ack`,
      });
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

async function repeat(n: number, fn: () => Promise<number>): Promise<number[]> {
  await fn(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return out;
}

/** Milliseconds to write `payload` over one loopback TCP connection until the receiver's 1-byte ack. */
function rawTcpTransfer(payload: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer((sock: Socket) => {
      let got = 0;
      sock.on('data', (chunk: Buffer) => {
        got += chunk.byteLength;
        if (got === payload.byteLength) sock.end(Buffer.from([1]));
      });
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('no TCP port'));
      const client = connect(addr.port, '127.0.0.1', () => {
        const t0 = performance.now();
        client.on('data', () => {
          const ms = performance.now() - t0;
          client.destroy();
          server.close();
          resolve(ms);
        });
        void (async () => {
          for (let at = 0; at < payload.byteLength; at += 1 << 20) {
            if (!client.write(payload.subarray(at, at + (1 << 20)))) await new Promise((r) => client.once('drain', r));
          }
        })();
      });
      client.on('error', reject);
    });
  });
}

/** Milliseconds per 50 MB update over gossipfl's direct protocol (after one warm-up transfer). */
async function libp2pTransfer(encryption: EncryptionChoice, payload: Uint8Array, repeats: number): Promise<number[]> {
  const maxFrameBytes = payload.byteLength + 1024;
  const a = await createGossipflNode({ encryption });
  const b = await createGossipflNode({ encryption });
  try {
    await handleUpdateProtocol(b.libp2p, { maxFrameBytes, log: () => undefined, onUpdate: () => ({ kind: 'ack', status: 'accepted', reason: '' }) });
    await a.libp2p.dial(b.libp2p.getMultiaddrs()[0]);
    const msg = { kind: 'update' as const, runId: 'bench', round: 0, phase: 0, to: [], payload };
    const once = async (): Promise<number> => {
      const t0 = performance.now();
      const ack = await sendUpdate(a.libp2p, b.libp2p.peerId, msg, { maxFrameBytes });
      if (ack.status !== 'accepted') throw new Error(`bench: update not accepted: ${ack.reason}`);
      return performance.now() - t0;
    };
    return await repeat(repeats, once);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
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
