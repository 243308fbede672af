// perPeer.bytesSent / bytesReceived: each peer's share of the round's bytes, in the per-peer
// engine (gossip with a compressor and an exact merge, FedAvg server rounds) and in the batched
// engine on the cpu backend. The shares (with the server's, in server mode) add up to the
// round's totals exactly.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/compute/backend.js';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import type { RoundMetrics } from '../../src/report/metrics.js';
import { simulate } from '../../src/sim/simulator.js';
import { smallRun } from './small-run.js';

const base = smallRun();

const sum = (values: readonly number[] | undefined) => (values ?? []).reduce((a, b) => a + b, 0);

/** Every round's per-peer bytes (plus the server's) add up to its totals. */
function expectSums(metrics: readonly RoundMetrics[]): void {
  for (const m of metrics) {
    const pp = m.perPeer!;
    expect(pp.bytesSent).toHaveLength(pp.peer.length);
    expect(pp.bytesReceived).toHaveLength(pp.peer.length);
    expect(sum(pp.bytesSent) + (pp.server?.bytesSent ?? 0), `round ${m.round} sent`).toBe(m.bytesSent);
    expect(sum(pp.bytesReceived) + (pp.server?.bytesReceived ?? 0), `round ${m.round} received`).toBe(m.bytesReceived);
  }
}

describe('per-peer bytes', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('gossip with a compressor (CHOCO top-k), some peers sitting out, a final exact merge: the shares add up to the totals', async () => {
    const r = await simulate(
      parseConfig({
        ...base,
        aggregation: { name: 'choco-gossip', stepSize: 0.5 },
        compression: { method: 'top-k', ratio: 0.25 },
        heterogeneity: { participation: 0.6 },
        schedule: { localSteps: 1, gossipSteps: 2, merge: { final: true } },
        eval: { every: 1, localPeers: 1 },
      }),
    );
    expectSums(r.metrics);
    const gossip = r.metrics.slice(0, -1);
    expect(gossip.every((m) => m.bytesSent > 0 && m.perPeer!.server === undefined)).toBe(true);
    // Only some peers exchange in a gossip round: the others are not listed, or listed with 0 bytes (peer 0, evaluated).
    expect(gossip.some((m) => m.activePeers < base.peers!)).toBe(true);
    for (const m of gossip) {
      const pp = m.perPeer!;
      pp.peer.forEach((p, k) => {
        if (p === 0 && pp.bytesSent![k] === 0) expect(pp.bytesReceived![k]).toBe(0);
        else expect(pp.bytesSent![k], `round ${m.round} peer ${p}`).toBeGreaterThan(0);
      });
    }
    // The merge round: every peer sends its model to the 5 others and receives theirs, all the same size.
    const last = r.metrics.at(-1)!;
    expect(last.globalMerge).toBe(true);
    // Not every peer trained this round: those that only merged are listed for their bytes.
    expect(last.activePeers).toBeLessThan(6);
    expect(last.perPeer!.peer).toEqual([0, 1, 2, 3, 4, 5]);
    expect(last.perPeer!.bytesSent).toEqual(Array(6).fill(last.bytesSent / 6));
    expect(last.perPeer!.bytesReceived).toEqual(Array(6).fill(last.bytesSent / 6));
  });

  it('FedAvg server rounds: the sampled clients upload, the server sends the model down; clients plus server are the totals', async () => {
    const r = await simulate(parseConfig({ ...base, mode: 'federated', federated: { participation: 0.5 }, eval: { every: 1, localPeers: 1 } }));
    expectSums(r.metrics);
    for (const m of r.metrics) {
      const pp = m.perPeer!;
      const server = pp.server!;
      // No loss: the server receives every upload and every client the model it sent.
      expect(server.bytesReceived).toBe(sum(pp.bytesSent));
      expect(server.bytesSent).toBe(sum(pp.bytesReceived));
      // Three of six clients take part, each uploading one whole change of the same size.
      const uploads = pp.bytesSent!.filter((b) => b > 0);
      expect(uploads).toHaveLength(3);
      expect(new Set(uploads).size).toBe(1);
      expect(server.bytesSent).toBe(3 * pp.bytesReceived!.find((b) => b > 0)!);
    }
  });

  it.each([
    ['ring gossip with a final merge', { schedule: { localSteps: 1, gossipSteps: 2, merge: { final: true } } }],
    ['fp16 gossip', { compression: { method: 'fp16' } }],
    ['FedAvg server rounds', { mode: 'federated' }],
  ] as const)('batched engine (cpu), %s: the same shares as the per-peer engine, adding up to the totals', async (_name, over) => {
    const input = { ...base, ...over } as RunConfigInput;
    const perPeer = await simulate(parseConfig({ ...input, engine: 'per-peer' }));
    const batched = await simulate(parseConfig({ ...input, engine: 'batched' }));
    expectSums(batched.metrics);
    batched.metrics.forEach((b, r) => {
      const m = perPeer.metrics[r];
      expect(b.perPeer!.peer).toEqual(m.perPeer!.peer);
      expect(b.perPeer!.bytesSent).toEqual(m.perPeer!.bytesSent);
      expect(b.perPeer!.bytesReceived).toEqual(m.perPeer!.bytesReceived);
      expect(b.perPeer!.server).toEqual(m.perPeer!.server);
    });
    // A ring: each peer sends to and hears from its two neighbours; FedAvg: every client uploads.
    const first = batched.metrics[0].perPeer!;
    expect(new Set(first.bytesSent).size).toBe(1);
    expect(first.bytesSent![0]).toBeGreaterThan(0);
  });
});
