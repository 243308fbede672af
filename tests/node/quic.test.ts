// QUIC as a node transport: the option's checks, and two real peers (one process, loopback UDP)
// that train a few rounds over QUIC and end with an exact merge. Skipped, with the reason, where
// the native QUIC module cannot be loaded (a platform without a prebuilt binary).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, describe, expect, it } from 'vitest';
import { createGossipflNode, loadQuicTransport } from '../../src/node/create-node.js';
import { resolveNodeOptions } from '../../src/node/options.js';
import { runPeer } from '../../src/node/run-peer.js';
import { parseConfig } from '../../src/peer/config.js';
import type { RoundMetrics, RunSummary } from '../../src/report/metrics.js';

const quicMissing = await loadQuicTransport().then(
  () => null,
  (err: Error) => err.message,
);
if (quicMissing) console.warn(`tests/node/quic.test.ts: QUIC tests skipped: ${quicMissing}`);

describe('node.transport option', () => {
  it('defaults to TCP and listens where each transport can', () => {
    expect(resolveNodeOptions({}).transport).toBe('tcp');
    expect(resolveNodeOptions({}).listen).toEqual(['/ip4/127.0.0.1/tcp/0']);
    expect(resolveNodeOptions({ transport: 'quic' }).listen).toEqual(['/ip4/127.0.0.1/udp/0/quic-v1']);
    expect(resolveNodeOptions({ transport: 'both' }).listen).toEqual(['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/udp/0/quic-v1']);
  });

  it('refuses an unknown transport, listen addresses of the other kind, and a PSK with QUIC', () => {
    expect(() => resolveNodeOptions({ transport: 'sctp' as never })).toThrow(/node\.transport: "sctp" is not one of tcp, quic, both/);
    expect(() => resolveNodeOptions({ transport: 'quic', listen: ['/ip4/0.0.0.0/tcp/4001'] })).toThrow(
      /node\.listen: "\/ip4\/0\.0\.0\.0\/tcp\/4001" is a TCP address but the transport is quic; listen on e\.g\. \/ip4\/0\.0\.0\.0\/udp\/4001\/quic-v1/,
    );
    expect(() => resolveNodeOptions({ listen: ['/ip4/0.0.0.0/udp/4001/quic-v1'] })).toThrow(/is a QUIC address but the transport is tcp/);
    expect(() => resolveNodeOptions({ transport: 'both', listen: ['/ip4/0.0.0.0/udp/4001'] })).toThrow(/neither a TCP .* nor a QUIC/);
    expect(() => resolveNodeOptions({ transport: 'quic', pskFile: 'swarm.key' })).toThrow(/node\.pskFile: a pre-shared key protects TCP connections only/);
    expect(resolveNodeOptions({ transport: 'both', listen: ['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/udp/4001/quic-v1'] }).transport).toBe('both');
  });
});

describe.skipIf(quicMissing !== null)('peers over QUIC', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('a node with transport both is reachable over QUIC and over TCP', async () => {
    const a = await createGossipflNode({ transport: 'both' });
    const b = await createGossipflNode({ transport: 'quic' });
    const c = await createGossipflNode({ transport: 'tcp' });
    try {
      const addrs = a.addresses();
      expect(addrs.some((x) => x.includes('/udp/') && x.includes('/quic-v1/p2p/'))).toBe(true);
      expect(addrs.some((x) => x.includes('/tcp/'))).toBe(true);
      const viaQuic = await b.libp2p.dial(addrs.filter((x) => x.includes('/quic-v1')).map((x) => multiaddr(x)));
      expect(viaQuic.remoteAddr.toString()).toContain('/quic-v1');
      expect(viaQuic.multiplexer).toBe('quic');
      const viaTcp = await c.libp2p.dial(addrs.filter((x) => x.includes('/tcp/')).map((x) => multiaddr(x)));
      expect(viaTcp.remoteAddr.toString()).toContain('/tcp/');
      expect(viaTcp.encryption).toBe('/tls/1.0.0');
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    }
  }, 30_000);

  it('two peers train 3 rounds over QUIC and merge to the same model', async () => {
    const config = parseConfig({
      name: 'quic-two-peers',
      peers: 2,
      rounds: 3,
      seed: 17,
      backend: 'cpu',
      data: { dataset: 'synthetic', train: 400, test: 200, features: 10, classes: 3, partition: { kind: 'iid' } },
      model: { kind: 'logreg' },
      mode: 'gossip',
      topology: { name: 'complete' },
      compression: { method: 'identity' },
      schedule: { localSteps: 2, merge: { final: true } },
    });
    const out = mkdtempSync(join(tmpdir(), 'gossipfl-quic-'));
    dirs.push(out);
    const common = { transport: 'quic' as const, mdns: false };
    let first!: (addr: string) => void;
    const firstAddr = new Promise<string>((r) => (first = r));
    const a = runPeer({ config, node: common, outDir: join(out, 'a'), startGraceMs: 500, log: () => {}, onListening: (_id, addrs) => first(addrs[0]) });
    const b = firstAddr.then((addr) => {
      expect(addr).toMatch(/^\/ip4\/127\.0\.0\.1\/udp\/\d+\/quic-v1\/p2p\//);
      return runPeer({ config, node: { ...common, bootstrap: [addr] }, outDir: join(out, 'b'), startGraceMs: 500, log: () => {} });
    });
    const [sa, sb]: RunSummary[] = await Promise.all([a, b]);
    for (const s of [sa, sb]) {
      expect(s.rounds).toBe(3);
      expect(s.peers).toBe(2);
      expect(s.bytesSent).toBeGreaterThan(0);
    }
    // After the exact final merge both hold the same model, so both evaluate it alike.
    expect(sa.mergedAccuracy).not.toBeNull();
    expect(sa.mergedAccuracy).toBe(sb.mergedAccuracy);
    // Each peer's metrics list its own row, whose bytes are the round's (a peer counts only its own traffic).
    for (const peer of ['a', 'b']) {
      const rounds = readFileSync(join(out, peer, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RoundMetrics);
      expect(rounds).toHaveLength(3);
      for (const m of rounds) {
        expect(m.perPeer!.peer).toHaveLength(1);
        expect(m.perPeer!.bytesSent).toEqual([m.bytesSent]);
        expect(m.perPeer!.bytesReceived).toEqual([m.bytesReceived]);
        expect(m.bytesSent).toBeGreaterThan(0);
      }
    }
  }, 90_000);
});
