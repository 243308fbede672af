// A plug-in compressor registered by name (tests/fixtures/seeded-rand-k.ts, public API only):
// its wire id comes from its name, its messages decode exactly, a peer with other parameters or
// without the plug-in refuses them without touching its state, a colliding name is refused at
// registration, and a config naming it runs the same in the simulator and between real peers.
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compression, ConfigError, makeLayout, paramsFrom } from '../../src/index.js';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { buildCodec } from '../../src/peer/codec.js';
import { simulate } from '../../src/sim/simulator.js';
import { crc32 } from '../../src/compression/crc32.js';
import { runRealPeers } from '../parity/real-peers.js';
import { seededPositions, seededRandK } from '../fixtures/seeded-rand-k.js';
import { denseMean } from '../fixtures/dense-mean.js';

const { compressorRegistry, buildCompressor, decodeMessage, pluginMethodId, runGroupRound, PLUGIN_METHOD_IDS, WireError } = compression;

let undo = compressorRegistry.register(seededRandK);
const undoGroup = compressorRegistry.register(denseMean);
afterAll(() => {
  undo();
  undoGroup();
});

const layout = makeLayout([
  { name: 'w', shape: [3, 4], role: 'weight' },
  { name: 'b', shape: [5], role: 'bias' },
]);
const update = paramsFrom(layout, Float32Array.from({ length: 17 }, (_, i) => (i + 1) * (i % 2 ? -0.5 : 0.25)));
const ctx = { seed: 7, round: 2, sender: 1 };
const spec = (k: number, errorFeedback: 'none' | 'ef21' = 'none') => ({ method: 'seeded-rand-k', k, errorFeedback }) as compression.CompressionSpec;
const pointwise = (k: number, ef: 'none' | 'ef21' = 'none') => buildCompressor(spec(k, ef), 7) as compression.PointwiseCompressor;

/** The message with its method byte replaced (and its CRC fixed, so only the id is wrong). */
function withMethodByte(bytes: Uint8Array, id: number): Uint8Array {
  const out = bytes.slice();
  out[6] = id;
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

describe('a registered plug-in compressor', () => {
  it('takes the wire id hashed from its name, in the plug-in range', () => {
    const id = pluginMethodId('seeded-rand-k');
    expect(id).toBeGreaterThanOrEqual(PLUGIN_METHOD_IDS.first);
    expect(id).toBeLessThan(PLUGIN_METHOD_IDS.first + PLUGIN_METHOD_IDS.count);
    expect(pointwise(3).encode(update, null, ctx).message[6]).toBe(id);
    // Built-in ids stay their positions.
    expect((buildCompressor({ method: 'top-k', ratio: 0.5 }, 7) as compression.PointwiseCompressor).encode(update, null, ctx).message[6]).toBe(4);
  });

  it('sends k values per layer and decodes them exactly at the seeded positions', () => {
    const c = pointwise(3);
    const { message, decoded } = c.encode(update, null, ctx);
    // 28 header + 2 params (seed, digest) × 9 + shapes (1 + 8) + (1 + 4) + 2 × 13 table = 86 → 88; 2 × 12 body; 4 CRC.
    expect(message.byteLength).toBe(88 + 24 + 4);
    const expected = new Float32Array(17);
    for (const t of layout.tensors) {
      const at = seededPositions(7, 2, 1, 0, layout.tensors.indexOf(t), t.size, 3);
      expect(new Set(at).size).toBe(3);
      for (const i of at) expected[t.offset + i] = update.data[t.offset + i];
    }
    expect(Array.from(decoded.data)).toEqual(Array.from(expected));
    expect(Array.from(c.decode(message, layout, ctx, null).update.data)).toEqual(Array.from(expected));
    // Another sender draws other positions from the same seed.
    const other = c.encode(update, null, { ...ctx, sender: 2 }).decoded.data;
    expect(Array.from(other)).not.toEqual(Array.from(expected));
  });

  it('refuses a message of the same plug-in with other parameters (digest mismatch)', () => {
    const { message } = pointwise(4).encode(update, null, ctx);
    expect(() => pointwise(3).decode(message, layout, ctx, null)).toThrow(WireError);
    expect(() => pointwise(3).decode(message, layout, ctx, null)).toThrow(/mismatch.*digest/);
  });

  it('refuses an unknown method id without touching the receiver state', () => {
    const codec = () => buildCodec(spec(3, 'ef21'), layout, 7).update;
    const sent = pointwise(3, 'ef21').encode(update, pointwise(3, 'ef21').initialState(layout), ctx).message;
    const fresh = Array.from(codec().decode(sent, { round: 2, phase: 0, sender: 1 }).data);
    const receiver = codec();
    const free = [...Array(PLUGIN_METHOD_IDS.count).keys()].map((i) => i + PLUGIN_METHOD_IDS.first).find((id) => id !== pluginMethodId('seeded-rand-k'))!;
    for (const id of [12, 127, free]) {
      expect(() => receiver.decode(withMethodByte(sent, id), { round: 2, phase: 0, sender: 1 })).toThrow(new RegExp(`\\(header\\): unknown method id ${id}`));
    }
    // The refused messages left its EF21 memory of sender 1 as it was: the real one decodes as on a fresh codec.
    expect(Array.from(receiver.decode(sent, { round: 2, phase: 0, sender: 1 }).data)).toEqual(fresh);
  });

  it('is refused by a peer that has not registered it', () => {
    const { message } = pointwise(3).encode(update, null, ctx);
    undo();
    try {
      expect(() => decodeMessage(message, { layout })).toThrow(new RegExp(`unknown method id ${pluginMethodId('seeded-rand-k')}`));
      expect(() => parseConfig({ compression: { method: 'seeded-rand-k' } } as never)).toThrow(/compression\.method/);
    } finally {
      undo = compressorRegistry.register(seededRandK);
    }
    expect(decodeMessage(message, { layout }).method).toBe('seeded-rand-k');
  });
});

describe('registering a compressor', () => {
  const entry = (name: string) => compression.definePointwise({ ...seededRandK, build: seededRandK.build as never, name, schema: z.strictObject({ method: z.literal(name), k: z.number().int().default(4) }) });

  it('refuses a name whose wire id another plug-in holds, naming both', () => {
    const id = pluginMethodId('seeded-rand-k');
    let i = 0;
    while (pluginMethodId(`other-${i}`) !== id) i++;
    const name = `other-${i}`;
    expect(() => compressorRegistry.register(entry(name))).toThrow(ConfigError);
    expect(() => compressorRegistry.register(entry(name))).toThrow(`compression.method: compressor '${name}' would take wire method id ${id}, which 'seeded-rand-k' already holds (ids of plug-ins are a hash of the name); rename one of the two`);
    expect(compressorRegistry.has(name)).toBe(false);
  });

  it('refuses a taken name, a schema without its method literal, and a key every section has', () => {
    expect(() => compressorRegistry.register(seededRandK)).toThrow("compression.method: a method named 'seeded-rand-k' is already registered; pick another name");
    expect(() => compressorRegistry.register(compression.definePointwise({ ...seededRandK, name: 'no-literal' }))).toThrow("compression.method: compressor 'no-literal': its schema needs the key method: z.literal('no-literal')");
    const eta = compression.definePointwise({ ...seededRandK, build: seededRandK.build as never, name: 'has-eta', schema: z.strictObject({ method: z.literal('has-eta'), eta: z.number() }) });
    expect(() => compressorRegistry.register(eta)).toThrow("compression.method: compressor 'has-eta': its schema must not define 'eta' (every method's section has it); rename the parameter");
    // Nothing half-registered: the refused names are free, their ids too.
    for (const name of ['no-literal', 'has-eta']) expect(compressorRegistry.has(name)).toBe(false);
    const again = compressorRegistry.register(entry('has-eta'));
    again();
  });

  it('puts its parameters in the config section, checked by its schema', () => {
    expect(parseConfig({ compression: { method: 'seeded-rand-k', k: 2 } } as never).compression).toEqual({ method: 'seeded-rand-k', k: 2, errorFeedback: 'none' });
    expect(() => parseConfig({ compression: { method: 'seeded-rand-k', ratio: 0.1 } } as never)).toThrow(/compression: Unrecognized key.*\(ratio\)/);
    expect(() => parseConfig({ compression: { method: 'seeded-rand-k', k: 0 } } as never)).toThrow(/compression\.k: /);
    // The built-in methods keep their flat section.
    expect(parseConfig({ compression: { ratio: 0.1 } } as never).compression).toEqual({ method: 'identity', ratio: 0.1, errorFeedback: 'none' });
  });
});

const gossip: RunConfigInput = {
  name: 'plug-in compressor',
  seed: 11,
  peers: 3,
  rounds: 4,
  backend: 'cpu',
  data: { dataset: 'synthetic', train: 600, test: 200, features: 16, classes: 4, partition: { kind: 'dirichlet', alpha: 0.5 } },
  model: { kind: 'mlp', hidden: [8] },
  training: { batchSize: 16, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.5 } },
  topology: { name: 'ring' },
  compression: { method: 'seeded-rand-k', k: 6 } as never,
  aggregation: { name: 'choco-gossip' },
  schedule: { localSteps: 3, merge: { final: true } },
  eval: { every: 1 },
};

describe('a config naming the plug-in compressor', () => {
  it('runs bit-identically in the simulator and between real peers (ring, CHOCO differences, final merge)', async () => {
    const sim = await simulate(parseConfig(gossip));
    const peers = (await runRealPeers(parseConfig(gossip))).metrics;
    expect(sim.metrics).toHaveLength(4);
    sim.metrics.forEach((s, r) => {
      peers.forEach((metrics, k) => {
        expect(Object.is(metrics[r].trainLoss, s.perPeer!.trainLoss[k])).toBe(true);
        expect(metrics[r].localAccuracyMean).toBe(s.perPeer!.accuracy[k]);
      });
      expect(peers.reduce((n, metrics) => n + metrics[r].bytesSent, 0)).toBe(s.bytesSent);
      expect(peers.reduce((n, metrics) => n + metrics[r].bytesReceived, 0)).toBe(s.bytesReceived);
    });
    // Round 0 is 6 plug-in messages (3 peers × 2 ring neighbours) of the MLP 16-8-4's 4 tensors:
    // header 28 + 2 params × 9 + shapes 9 + 5 + 9 + 5 + table 4 × 13 = 126 → 128, values 6 + 6 + 6 + 4 floats, CRC 4.
    expect(sim.metrics[0].bytesSent).toBe(6 * (128 + 4 * (6 + 6 + 6 + 4) + 4));
    for (const metrics of peers) expect(metrics.at(-1)!.mergedAccuracy).toBe(sim.metrics.at(-1)!.mergedAccuracy);
  }, 120_000);

  it('runs federated uploads with EF21 around it bit-identically, with a real server', async () => {
    const input: RunConfigInput = { ...gossip, name: 'plug-in compressor, federated', mode: 'federated', topology: undefined, aggregation: { name: 'fedavg' }, compression: { method: 'seeded-rand-k', k: 6, errorFeedback: 'ef21' } as never, schedule: { localSteps: 3 } };
    const sim = await simulate(parseConfig(input));
    const real = await runRealPeers(parseConfig(input));
    expect(real.server).toHaveLength(4);
    sim.metrics.forEach((s, r) => {
      expect(real.server![r].mergedAccuracy).toBe(s.mergedAccuracy);
      expect(real.server![r].mergedLoss).toBe(s.mergedLoss);
      s.perPeer!.peer.forEach((k, j) => expect(Object.is(real.metrics[k][r].perPeer!.trainLoss[0], s.perPeer!.trainLoss[j])).toBe(true));
      expect(real.metrics.reduce((n, metrics) => n + metrics[r].bytesSent, real.server![r].bytesSent)).toBe(s.bytesSent);
    });
  }, 120_000);
});

describe('a registered plug-in group compressor', () => {
  const group = () => buildCompressor({ method: 'dense-mean' }, 7) as compression.GroupCompressor<null, unknown>;
  const updates = [0, 1, 2].map((p) => paramsFrom(layout, Float32Array.from({ length: 17 }, (_, i) => Math.fround(Math.sin(3 * p + i) / 3))));
  const mean = Float32Array.from({ length: 17 }, (_, i) => (updates[0].data[i] + updates[1].data[i] + updates[2].data[i]) / 3);

  it('gives every peer the exact mean; a corrupted message is left out, named', () => {
    const round = runGroupRound(group(), updates.map((update) => ({ update, state: null })), { seed: 7, round: 0 });
    expect(round.phases).toBe(1);
    for (const e of round.estimates) expect(Array.from(e.data)).toEqual(Array.from(mean));
    expect(round.excluded.flat()).toEqual([]);
    const c = group();
    const sends = updates.map((u, p) => c.begin(u, null, { seed: 7, round: 0, sender: p }) as compression.GroupSend<unknown>);
    const bad = sends[2].message.slice();
    bad[40] ^= 1;
    const done = c.step(sends[0].session, [{ sender: 0, bytes: sends[0].message }, { sender: 1, bytes: sends[1].message }, { sender: 2, bytes: bad }]);
    if (done.kind !== 'done') throw new Error('one phase');
    expect(Array.from(done.estimate.data)).toEqual(Array.from(Float32Array.from({ length: 17 }, (_, i) => (updates[0].data[i] + updates[1].data[i]) / 2)));
    expect(done.excluded).toEqual([{ sender: 2, phase: 0, reason: expect.stringMatching(/^compressed update rejected \(checksum\)/) }]);
  });

  it('keeps its own error memory: error feedback around it is refused', () => {
    expect(() => buildCompressor({ method: 'dense-mean', errorFeedback: 'ef21' }, 7)).toThrow('compression: dense-mean keeps its own error memory; set errorFeedback to none (error feedback wraps pointwise methods only)');
  });

  it('runs the all-reduce bit-identically in the simulator and between real peers; all-reduce lists it among the group methods', async () => {
    const input: RunConfigInput = { ...gossip, name: 'plug-in group compressor', mode: 'all-reduce', topology: undefined, aggregation: undefined, compression: { method: 'dense-mean' } as never, schedule: { localSteps: 3 } };
    expect(() => parseConfig({ ...input, compression: { method: 'seeded-rand-k' } } as never)).toThrow(/set compression\.method to one of arc-top-k, powersgd, powersgd-plus, greedylore, dense-mean \(got seeded-rand-k\)/);
    const sim = await simulate(parseConfig(input));
    const peers = (await runRealPeers(parseConfig(input))).metrics;
    sim.metrics.forEach((s, r) => {
      peers.forEach((metrics, k) => {
        expect(Object.is(metrics[r].trainLoss, s.perPeer!.trainLoss[k])).toBe(true);
        expect(metrics[r].mergedAccuracy).toBe(s.mergedAccuracy);
      });
      expect(peers.reduce((n, metrics) => n + metrics[r].bytesSent, 0)).toBe(s.bytesSent);
    });
  }, 120_000);
});

describe('a plug-in compressor that sends whole models', () => {
  // fp16 under another name: a whole model survives it, so gossip sends models (no CHOCO) and async rounds take it.
  const half = compression.definePointwise({
    name: 'half-precision',
    summary: 'fp16 as a plug-in',
    wholeModel: true,
    schema: z.strictObject({ method: z.literal('half-precision') }),
    build: () => ({ ...compression.fp16Coder, method: 'half-precision' }),
  });

  it('runs asynchronous rounds and gossips whole models; a plug-in without the capability is refused, the capable ones listed', () => {
    const off = compressorRegistry.register(half);
    try {
      const async = { peers: 4, topology: { name: 'ring' }, timing: { mode: 'async' } };
      expect(parseConfig({ ...async, compression: { method: 'half-precision' } } as never).compression.method).toBe('half-precision');
      expect(() => parseConfig({ ...async, compression: { method: 'seeded-rand-k' }, aggregation: { name: 'choco-gossip' } } as never)).toThrow(
        /compression must be stateless across rounds: method identity, fp16, int8, half-precision with errorFeedback none \(got seeded-rand-k/,
      );
      const codec = buildCodec({ method: 'half-precision' }, layout, 7);
      expect(codec.choco).toBeUndefined();
      const model = codec.model.decode(codec.model.encode(update, { round: 0, phase: 0, sender: 0 }), { round: 0, phase: 0, sender: 0 });
      expect(Array.from(model.data)).toEqual(Array.from(Float32Array.from(update.data, (v) => Math.fround(v))));
      expect(buildCodec(spec(3), layout, 7).choco).toBeDefined();
    } finally {
      off();
    }
  });
});
