// The checkpoint's rule-state section: SCAFFOLD's c_i, D²'s previous model and the compressor's
// memory come back bit for bit; a version-1 file (no section) loads with one log line; a section
// that does not fit the model or the run is refused naming the file.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/compute/backend.js';
import { decodeCheckpoint, encodeCheckpoint, loadCheckpoint, restoreMemory, saveCheckpoint, type Checkpoint } from '../../src/node/checkpoint.js';
import { makeLayout, type ParamLayout } from '../../src/params/index.js';
import { parseConfig } from '../../src/peer/config.js';
import { buildRun, makePeer, type Run } from '../../src/peer/run.js';
import { PeerWorld, type PeerMemory } from '../../src/peer/peer-world.js';
import { runRounds } from '../../src/peer/driver.js';
import { Trainer } from '../../src/model/trainer.js';
import { SimNetwork } from '../../src/sim/memory-transport.js';
import { IDEAL_NETWORK } from '../../src/sim/network.js';

const layout: ParamLayout = makeLayout([{ name: 'w', shape: [7] }]);
const f32 = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(seed * 97 + i) * 3.7));

function sample(state: PeerMemory | undefined): Checkpoint {
  return { round: 4, peerId: 'p', params: { layout, data: f32(7, 1) }, optimizer: { step: 20, slots: [] }, ...(state ? { state } : {}) };
}

/** Rewrites the JSON header of an encoded checkpoint (then the caller fixes the body length if it must). */
function withHeader(bytes: Uint8Array, edit: (h: { state: { version: number; vectors: { length: number }[] } }) => void): Buffer {
  const b = Buffer.from(bytes);
  const h = b.readUInt32LE(8);
  const header = JSON.parse(b.subarray(12, 12 + h).toString('utf8'));
  edit(header);
  const json = Buffer.from(JSON.stringify(header));
  const body = b.subarray((12 + h + 3) & ~3);
  const start = (12 + json.length + 3) & ~3;
  const out = Buffer.alloc(start + body.length);
  b.copy(out, 0, 0, 8);
  out.writeUInt32LE(json.length, 8);
  json.copy(out, 12);
  body.copy(out, start);
  return out;
}

const bits = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

describe('checkpoint rule-state section', () => {
  it('c_i, ψ_prev and a compressor memory of vectors, counts and nulls come back bit for bit', () => {
    const compression = { h: f32(7, 2), v: f32(7, 3), sequence: 5, q: [null, f32(6, 4)], acc: Float64Array.from([1 / 3, -2.5e-300]) };
    const state: PeerMemory = { clientControl: f32(7, 5), lastTrained: f32(7, 6), compression };
    const back = decodeCheckpoint(encodeCheckpoint(sample(state)), layout);
    expect(bits(back.state!.clientControl!)).toBe(bits(state.clientControl!));
    expect(bits(back.state!.lastTrained!)).toBe(bits(state.lastTrained!));
    const c = back.state!.compression as typeof compression;
    expect(bits(c.h)).toBe(bits(compression.h));
    expect(bits(c.v)).toBe(bits(compression.v));
    expect(c.sequence).toBe(5);
    expect(c.q[0]).toBeNull();
    expect(bits(c.q[1]!)).toBe(bits(compression.q[1]!));
    expect(c.acc).toBeInstanceOf(Float64Array);
    expect(Array.from(c.acc)).toEqual([1 / 3, -2.5e-300]);
    expect(bits(back.params.data)).toBe(bits(sample(state).params.data));
  });

  it('a version-1 file loads without state, and restoring from it says so in one log line and changes nothing', () => {
    const v2 = encodeCheckpoint(sample(undefined));
    // Version 1: the same header without `state`, the same floats, nothing after them.
    const v1 = withHeader(v2, (h) => delete (h as { state?: unknown }).state);
    v1.writeUInt32LE(1, 4);
    const old = decodeCheckpoint(v1, layout, 'old.bin');
    expect(old.state).toBeUndefined();
    expect(bits(old.params.data)).toBe(bits(sample(undefined).params.data));
    const lines: string[] = [];
    const memory: PeerMemory = { compression: { error: f32(7, 8) } };
    let restored = 0;
    restoreMemory({ peerMemory: () => memory, restorePeerMemory: () => void restored++ }, 'p', old, 'old.bin', (l) => lines.push(l));
    expect(lines).toEqual(["old.bin was written without rule state (checkpoint version 1): SCAFFOLD's c_i, D²'s previous model and the compressor's memory start from zero"]);
    expect(restored).toBe(0);
  });

  it('refuses, naming the file: a c_i of another length, a cut section, an unknown section version, a compressor memory of another run', () => {
    const bytes = encodeCheckpoint(sample({ clientControl: f32(7, 5), compression: { h: f32(7, 2), sequence: 3 } }));
    // c_i declared (and stored) with 6 values for a 7-value model.
    const short = withHeader(bytes, (h) => (h.state.vectors[0].length = 6));
    expect(() => decodeCheckpoint(short.subarray(0, short.length - 4), layout, 'ck.bin')).toThrow(
      'ck.bin: its clientControl holds 6 float32 values, this model has 7 (rule state of another model); delete it to start this peer afresh',
    );
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4), layout, 'ck.bin')).toThrow(/^ck\.bin: expected \d+ bytes, found \d+; delete it/);
    expect(() => decodeCheckpoint(withHeader(bytes, (h) => (h.state.version = 9)), layout, 'ck.bin')).toThrow('ck.bin: unsupported rule-state section version 9');
    const c = decodeCheckpoint(bytes, layout, 'ck.bin');
    const holder = (fresh: unknown) => ({ peerMemory: () => ({ compression: fresh }), restorePeerMemory: () => {} });
    // EF14's memory in a run that keeps EF21's, and EF21's of another size.
    expect(() => restoreMemory(holder({ error: f32(7, 0) }), 'p', c, 'ck.bin', () => {})).toThrow(
      'ck.bin: its compressor memory does not fit this run (compression has fields {h, sequence}, this run keeps {error}); delete it to start this peer afresh',
    );
    expect(() => restoreMemory(holder({ h: f32(8, 0), sequence: 0 }), 'p', c, 'ck.bin', () => {})).toThrow('compression.h holds 7 values, this model needs 8');
    expect(() => restoreMemory(holder(null), 'p', c, 'ck.bin', () => {})).toThrow('compression is object, this run keeps null or a vector');
  });
});

/** The simulator's world of the run's peers (mode federated: with the server in the same world). */
function world(run: Run, trainer: Trainer, peers: ReturnType<typeof makePeer>[]): PeerWorld {
  const members = peers.map((p) => p.id);
  const federated = run.config.mode === 'federated';
  const net = new SimNetwork(IDEAL_NETWORK, 1);
  net.setMembers(federated ? [...members, 'server'] : members);
  const all = members.map((_, i) => i);
  const env = { hub: net, seesAll: true, roster: () => ({ members, live: all, local: all, honest: all }), log: () => {} };
  return new PeerWorld(run, trainer, peers, env, federated ? { id: 'server', participation: 1 } : undefined);
}

/** A value with its vectors as hex, to compare restored memory bit for bit. */
const fingerprint = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (ArrayBuffer.isView(x) ? `${x.constructor.name}:${bits(x)}` : x));

describe('every built-in compressor memory survives a checkpoint', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it.each([
    ['all-reduce', { method: 'powersgd', rank: 2 }],
    ['all-reduce', { method: 'powersgd-plus', rank: 2 }],
    ['all-reduce', { method: 'arc-top-k', ratio: 0.3 }],
    ['all-reduce', { method: 'greedylore', rank: 2 }],
    ['federated', { method: 'top-k', ratio: 0.3, errorFeedback: 'ef14' }],
    ['federated', { method: 'top-k', ratio: 0.3, errorFeedback: 'ef21' }],
    ['federated', { method: 'top-k', ratio: 0.3, errorFeedback: 'ef21-m' }],
    ['federated', { method: 'sign', errorFeedback: 'econtrol' }],
  ] as const)('%s with %j: after 2 rounds, saved and restored into a fresh world, bit for bit', async (mode, compression) => {
    const config = parseConfig({
      name: 'compressor-ckpt',
      seed: 1,
      peers: 3,
      rounds: 2,
      backend: 'cpu',
      mode,
      compression,
      data: { dataset: 'synthetic', train: 300, test: 60, features: 24, classes: 3, partition: { kind: 'iid' } },
      model: { kind: 'mlp', hidden: [16] },
      training: { batchSize: 8, optimizer: { kind: 'sgd', lr: 0.1 } },
      schedule: { localSteps: 2 },
      eval: { every: 1 },
    });
    const run = await buildRun(config);
    const trainer = new Trainer(run.model, config.training.optimizer);
    try {
      const peers = [0, 1, 2].map((i) => makePeer(run, { id: `p${i}`, shard: i }));
      const before = world(run, trainer, peers);
      await runRounds(run, before, mode === 'federated' ? 'server' : 'all-reduce', { elapsedSeconds: () => 0 });
      const had = before.peerMemory('p1');
      // Memory that changed in the rounds: the restore has something to bring back.
      expect(fingerprint(had.compression)).not.toBe(fingerprint(world(run, trainer, [0, 1, 2].map((i) => makePeer(run, { id: `p${i}`, shard: i }))).peerMemory('p1').compression));
      const ck = decodeCheckpoint(encodeCheckpoint({ round: 1, peerId: 'p1', params: peers[1].params, optimizer: peers[1].optimizer, state: had }), run.model.layout);
      const after = world(run, trainer, [0, 1, 2].map((i) => makePeer(run, { id: `p${i}`, shard: i })));
      restoreMemory(after, 'p1', ck, 'checkpoint.bin', () => {});
      expect(fingerprint(after.peerMemory('p1').compression)).toBe(fingerprint(had.compression));
    } finally {
      trainer.dispose();
    }
  }, 60_000);
});

describe('SCAFFOLD client state through a checkpoint file', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  const config = parseConfig({
    name: 'scaffold-ckpt',
    seed: 3,
    peers: 3,
    rounds: 2,
    backend: 'cpu',
    mode: 'federated',
    data: { dataset: 'synthetic', train: 300, test: 60, features: 6, classes: 3, partition: { kind: 'dirichlet', alpha: 0.3 } },
    model: { kind: 'logreg' },
    training: { batchSize: 8, optimizer: { kind: 'sgd', lr: 0.2 } },
    compression: { method: 'top-k', ratio: 0.5, errorFeedback: 'ef21' },
    aggregation: { name: 'scaffold' },
    schedule: { localSteps: 3 },
    eval: { every: 1 },
  });

  it("a client's c_i and EF21 memory after 2 rounds, saved and loaded into a fresh world, are the ones it had, bit for bit", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gossipfl-scaffold-ckpt-'));
    const run = await buildRun(config);
    const trainer = new Trainer(run.model, config.training.optimizer);
    try {
      const peers = [0, 1, 2].map((i) => makePeer(run, { id: `p${i}`, shard: i }));
      const before = world(run, trainer, peers);
      const file = join(dir, 'checkpoint.bin');
      await runRounds(run, before, 'server', {
        elapsedSeconds: () => 0,
        afterRound: (t) => saveCheckpoint(file, { round: t, params: peers[1].params, optimizer: peers[1].optimizer, peerId: 'p1', state: before.peerMemory('p1') }),
      });
      const had = before.peerMemory('p1');
      expect(had.clientControl!.some((v) => v !== 0)).toBe(true);
      expect((had.compression as { sequence: number }).sequence).toBe(2);

      // The restart: a new peer and world from the file, as runPeer builds them.
      const ck = loadCheckpoint(file, run.model.layout)!;
      const again = makePeer(run, { id: 'p1', shard: 1, firstRound: ck.round + 1, resume: ck });
      const after = world(run, trainer, [makePeer(run, { id: 'p0', shard: 0 }), again, makePeer(run, { id: 'p2', shard: 2 })]);
      expect(after.peerMemory('p1').clientControl).toBeUndefined(); // what a restart without the section starts from
      const lines: string[] = [];
      restoreMemory(after, 'p1', ck, file, (l) => lines.push(l));
      expect(lines).toEqual([]);
      const got = after.peerMemory('p1');
      expect(bits(got.clientControl!)).toBe(bits(had.clientControl!));
      const [h0, h1] = [had.compression, got.compression] as { h: Float32Array; sequence: number }[];
      expect(h1.sequence).toBe(h0.sequence);
      expect(bits(h1.h)).toBe(bits(h0.h));
      expect(bits(again.params.data)).toBe(bits(peers[1].params.data));
      // The resumed minibatch stream continues where the client's left off.
      expect(Array.from(again.batches.next().rows)).toEqual(Array.from(peers[1].batches.next().rows));
    } finally {
      trainer.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
