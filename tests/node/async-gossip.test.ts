// Asynchronous gossip: the weights over the present neighbours, one step over real latest-per-sender
// inboxes, and the equivalence with synchronous gossip when everyone is present and on time.
import { describe, expect, it } from 'vitest';
import { makeLayout, paramsFrom, type Params } from '../../src/params/index.js';
import { buildCodec, gossipWire } from '../../src/peer/codec.js';
import { buildAggregation } from '../../src/aggregation/build.js';
import { buildTopology } from '../../src/topology/spec.js';
import type { MixingRow } from '../../src/topology/mixing.js';
import { asyncConfigProblem, asyncGossipStep, mixLatest, presentRow, publishModel, type AsyncGossipPlan, type AsyncTransport } from '../../src/peer/async-gossip.js';
import { gossipExchange } from '../../src/peer/gossip.js';
import { parseConfig } from '../../src/peer/config.js';
import { STATIC_GRAPH_NAMES } from '../../src/topology/spec.js';
import { LatestInbox } from '../../src/node/latest-inbox.js';
import { SimNetwork } from '../../src/sim/memory-transport.js';
import { IDEAL_NETWORK } from '../../src/sim/network.js';
import { Rng } from '../../src/util/rng.js';
import { ConfigError } from '../../src/util/errors.js';

const layout = makeLayout([
  { name: 'w', shape: [2, 3] },
  { name: 'b', shape: [3] },
]);
const codec = buildCodec({ method: 'identity', errorFeedback: 'none' }, layout, 1);
const filled = (v: number): Params => paramsFrom(layout, new Float32Array(layout.size).fill(v));
const ids = ['p0', 'p1', 'p2', 'p3'];
const ring = buildTopology({ name: 'ring', peers: 4 }).at(0);

/** Peers that publish straight into each other's real LatestInbox (the network left out). */
function loopback(maxStaleness: number): { transport(i: number): AsyncTransport; inbox(i: number): LatestInbox } {
  const inboxes = ids.map((_, i) => {
    const inbox = new LatestInbox(maxStaleness);
    inbox.setSenders(Array.from(ring.row(i).peers, (j) => ids[j]));
    return inbox;
  });
  return {
    inbox: (i) => inboxes[i],
    transport: (i) => ({
      self: ids[i],
      publish: (m) => {
        for (const to of m.sendTo) inboxes[ids.indexOf(to)].offer({ from: ids[i], round: m.round, phase: m.phase, bytes: m.payload });
      },
      latest: (from, round) => {
        inboxes[i].advanceTo(round);
        return inboxes[i].latest(from);
      },
    }),
  };
}

const plan = (i: number, round: number, maxStaleness: number): AsyncGossipPlan => ({
  round,
  phase: 0,
  members: ids,
  selfIndex: i,
  row: ring.row(i),
  sendTo: ring.outNeighbours(i),
  maxStaleness,
});

function gossipRule() {
  const agg = buildAggregation({ name: 'gossip' });
  return (own: Params, got: Parameters<typeof agg.aggregate>[2], ctx: Parameters<typeof agg.aggregate>[3]) => agg.aggregate(null, own, got, ctx).params;
}

describe('async mixing weights over the present neighbours', () => {
  const row: MixingRow = { self: 0.5, peers: Uint32Array.from([1, 2, 3]), weights: Float64Array.from([0.25, 0.125, 0.125]) };

  it('keeps W_ij of the present neighbours and moves the absent ones\' weight onto self (exact values)', () => {
    const some = presentRow(row, new Set([1, 3]));
    expect(some.self).toBe(0.625);
    expect([...some.peers]).toEqual([1, 3]);
    expect([...some.weights]).toEqual([0.25, 0.125]);
    const none = presentRow(row, new Set());
    expect(none.self).toBe(1);
    expect(none.peers.length).toBe(0);
    expect(presentRow(row, new Set([1, 2, 3]))).toEqual(row);
  });

  it('every row sums to 1 for every present set (exactly for dyadic weights; to rounding on a ring)', () => {
    for (let mask = 0; mask < 8; mask++) {
      const present = new Set([1, 2, 3].filter((_, k) => mask & (1 << k)));
      const r = presentRow(row, present);
      expect(r.self + r.weights.reduce((a, b) => a + b, 0)).toBe(1);
    }
    for (let i = 0; i < 4; i++) {
      const peers = [...ring.row(i).peers];
      for (let mask = 0; mask < 4; mask++) {
        const r = presentRow(ring.row(i), new Set(peers.filter((_, k) => mask & (1 << k))));
        expect(Math.abs(r.self + r.weights.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-15);
        expect(r.self).toBeGreaterThan(0);
      }
    }
  });
});

describe('an asynchronous gossip step', () => {
  it('mixes the freshest model of each neighbour, leaves out the too-stale and the never-heard, and never waits', () => {
    const net = loopback(2);
    const models = [0, 1, 2, 3].map((i) => filled(3 * i));
    const step = (i: number, round: number) => {
      const o = asyncGossipStep(models[i], plan(i, round, 2), net.transport(i), gossipWire(codec, models[i], null), gossipRule());
      models[i] = o.params;
      return o;
    };
    // The slow peer 3 is at round 1: it publishes to 0 and 2 and has heard nobody yet.
    const s3 = step(3, 1);
    expect(s3.absent).toEqual(['p0', 'p2']);
    expect(s3.params.data[0]).toBe(9);
    expect(s3.bytesQueued).toBeGreaterThan(2 * layout.size * 4);
    // Peer 1 at round 5 publishes to 0 and 2; peer 0 at round 5 holds p1@5 and p3@1 (5 − 1 > 2: stale).
    step(1, 5);
    const s0 = step(0, 5);
    expect(s0.absent).toEqual(['p3']);
    expect(s0.staleness).toEqual([0]);
    expect([...s0.used.peers]).toEqual([1]);
    expect([...ring.row(0).peers]).toEqual([1, 3]);
    expect(s0.used.self).toBe(ring.row(0).self + ring.row(0).weights[1]); // W_00 + W_03
    // x0 ← x0 + W01·(x1 − x0) = 0 + (1/3)·3 = 1
    expect([...s0.params.data]).toEqual(new Array(layout.size).fill(1));
    // The slow peer, next round, mixes with peer 0's model of round 5 (ahead of it: staleness −3), not with p2 (never heard).
    const s3b = step(3, 2);
    expect(s3b.staleness).toEqual([-3]);
    expect(s3b.absent).toEqual(['p2']);
    // x3 ← 9 + (1/3)·(0 − 9) = 6 (peer 0 published its model before mixing: 0)
    expect([...s3b.params.data]).toEqual(new Array(layout.size).fill(6));
  });

  it('a held update that fails to decode is refused and its weight stays on self; robust rules keep working', () => {
    const net = loopback(2);
    net.inbox(0).offer({ from: 'p1', round: 4, phase: 0, bytes: new Uint8Array([1, 2, 3]) });
    publishModel(plan(3, 4, 2), net.transport(3), gossipWire(codec, filled(6), null));
    const o = mixLatest(filled(0), plan(0, 4, 2), net.transport(0), gossipWire(codec, filled(0), null), gossipRule());
    expect(o.rejected.map((r) => r.from)).toEqual(['p1']);
    expect([...o.used.peers]).toEqual([3]);
    expect([...o.params.data]).toEqual(new Array(layout.size).fill(2));
    // Median with f = 1 needs 3 values: own + one valid neighbour is too few, so the peer keeps its model (and says why).
    const median = buildAggregation({ name: 'median', f: 1 });
    const m = mixLatest(filled(0), plan(0, 4, 2), net.transport(0), gossipWire(codec, filled(0), null), (own, got, ctx) => median.aggregate(null, own, got, ctx).params);
    expect(m.rejected.map((r) => r.from)).toEqual(['p1', '(aggregation)']);
    expect([...m.params.data]).toEqual(new Array(layout.size).fill(0));
  });

  it('with everyone present and maxStaleness 0 it is synchronous gossip, bit for bit', async () => {
    const rng = Rng.derive(5, 'models');
    const models = ids.map(() => paramsFrom(layout, Float32Array.from({ length: layout.size }, () => rng.normal())));
    // Synchronous: one exchange of all four over the simulator's in-memory transport.
    const sim = new SimNetwork(IDEAL_NETWORK, 1);
    sim.setMembers(ids);
    sim.setParticipants(ids);
    const sync = await Promise.all(
      ids.map((id, i) =>
        gossipExchange(models[i], { ...plan(i, 3, 0), deadlineMs: Number.POSITIVE_INFINITY }, sim.transportFor(id), gossipWire(codec, models[i], null), gossipRule()),
      ),
    );
    // Asynchronous: everyone publishes round 3, then everyone mixes the latest it holds.
    const net = loopback(0);
    ids.forEach((_, i) => publishModel(plan(i, 3, 0), net.transport(i), gossipWire(codec, models[i], null)));
    const asyncOut = ids.map((_, i) => mixLatest(models[i], plan(i, 3, 0), net.transport(i), gossipWire(codec, models[i], null), gossipRule()));
    ids.forEach((_, i) => {
      expect(asyncOut[i].absent).toEqual([]);
      expect(Buffer.from(asyncOut[i].params.data.buffer).equals(Buffer.from(sync[i].params.data.buffer))).toBe(true);
    });
  });
});

describe('timing.mode async config', () => {
  const base = { peers: 4, topology: { name: 'ring' as const }, timing: { mode: 'async' as const } };

  it('is accepted for gossip with whole models on a static topology; defaults to sync', () => {
    expect(parseConfig({}).timing).toEqual({ mode: 'sync', maxStaleness: 2, slowPeers: [] });
    expect(parseConfig({ ...base, compression: { method: 'int8' }, aggregation: { name: 'median', f: 1 } }).timing.mode).toBe('async');
  });

  it('refuses stateful codecs, lockstep modes and time-varying topologies with a line naming what works', () => {
    const refuse = (extra: object, pattern: RegExp) => {
      expect(() => parseConfig({ ...base, ...extra })).toThrow(ConfigError);
      expect(() => parseConfig({ ...base, ...extra })).toThrow(pattern);
    };
    refuse({ compression: { method: 'top-k', ratio: 0.1 }, aggregation: { name: 'choco-gossip' } }, /method identity, fp16, int8 with errorFeedback none \(got top-k/);
    refuse({ mode: 'federated', compression: { method: 'powersgd', rank: 2 } }, /runs gossip only/);
    refuse({ topology: { name: 'one-peer-exponential' } }, /needs a static topology.*ring/);
    refuse({ engine: 'batched' }, /engine batched/);
    refuse({ timing: { mode: 'async', slowPeers: [{ peer: 4, delayMs: 10 }] } }, /timing.slowPeers: peer 4 is not in \[0, 4\)/);
    expect(asyncConfigProblem(parseConfig({ ...base, timing: { mode: 'sync' } }), STATIC_GRAPH_NAMES)).toBeNull();
  });
});
