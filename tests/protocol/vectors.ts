// Test vectors of the protocol (docs/protocol.md): seeds and inputs in, bytes out. Each vector is
// computed here from the code; tests/protocol/vectors/*.json hold the committed copies, which
// vectors.test.ts compares byte for byte. After a deliberate change of the wire format, rewrite
// them with `npx tsx tests/protocol/write-vectors.ts` and say why in the commit.
import { createHash } from 'node:crypto';
import { makeLayout, layoutFingerprint, paramsFrom, type ParamLayout } from '../../src/params/index.js';
import { buildCompressor, layoutHash, crc32, type GroupCompressor, type PointwiseCompressor, type CompressionSpec } from '../../src/compression/index.js';
import type { GroupMessage, GroupStep } from '../../src/compression/group.js';
import { sampleSortedIndices } from '../../src/compression/select.js';
import { encodeMessage } from '../../src/node/wire.js';
import { framePrefix } from '../../src/node/frame.js';
import { configHash } from '../../src/node/config-hash.js';
import { parseConfig } from '../../src/peer/config.js';
import { Rng, deriveSeed } from '../../src/util/rng.js';

/** One vector: what goes in (plain JSON) and the bytes that come out (lowercase hex). */
export interface Vector {
  readonly description: string;
  readonly input: unknown;
  readonly output: Record<string, string | number | readonly (string | number)[]>;
}

export type VectorFile = Record<string, Vector>;

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const PEER_A = '12D3KooWA1qFR6N8pqXGZbXEtjqKjdE5Mz8GHPvZJhYrNwQZxJ7h';
const PEER_B = '12D3KooWBmyVqRtPbRi3pRMxjDzJGT4QpQ1iBRyq9pGqXLyd1KNW';

// ---------------------------------------------------------------- node messages

function nodeVectors(): VectorFile {
  const announce = {
    kind: 'announce' as const,
    runId: 'demo-run',
    modelFingerprint: '0123456789abcdef',
    configHash: 'fedcba9876543210',
    addrs: [`/ip4/10.0.0.5/tcp/4001/p2p/${PEER_A}`],
    round: 3,
    joinRound: 0,
    peers: [`/ip4/10.0.0.6/tcp/4001/p2p/${PEER_B}`],
    gone: [{ peer: PEER_B, after: 5 }],
    role: 'member' as const,
  };
  const newcomer = { ...announce, round: -1, joinRound: 7, peers: [], gone: [] };
  const server = { ...announce, round: 3, peers: [], gone: [], role: 'server' as const };
  const update = { kind: 'update' as const, runId: 'demo-run', round: 4, phase: 1, to: [PEER_B], payload: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) };
  const direct = { ...update, to: [] };
  const leave = { kind: 'leave' as const, runId: 'demo-run', lastRound: 9 };
  const acks = (['accepted', 'rejected', 'ignored'] as const).map((status) => ({ kind: 'ack' as const, status, reason: status === 'rejected' ? 'bad crc' : '' }));
  const body = encodeMessage(direct);
  const out: VectorFile = {
    announce: { description: 'announcement of a member at round 3 that dropped one peer after round 5', input: announce, output: { bytes: hex(encodeMessage(announce)) } },
    'announce-newcomer': { description: 'announcement of a newcomer before its first round, joining at round 7', input: newcomer, output: { bytes: hex(encodeMessage(newcomer)) } },
    'announce-server': { description: 'announcement of the server of a federated run (role 1) at round 3', input: server, output: { bytes: hex(encodeMessage(server)) } },
    'update-gossip': { description: 'update on the run topic for one recipient (payload as hex)', input: { ...update, payload: hex(update.payload) }, output: { bytes: hex(encodeMessage(update)) } },
    leave: { description: 'leave after round 9', input: leave, output: { bytes: hex(encodeMessage(leave)) } },
    'frame-direct-update': {
      description: 'one direct-protocol frame: u32 big-endian body length, then an update with no recipient list',
      input: { ...direct, payload: hex(direct.payload) },
      output: { bytes: hex(framePrefix(body.byteLength)) + hex(body) },
    },
  };
  for (const ack of acks) out[`ack-${ack.status}`] = { description: `the receiver's ${ack.status} ack, framed as on the direct protocol`, input: ack, output: { bytes: hex(framePrefix(encodeMessage(ack).byteLength)) + hex(encodeMessage(ack)) } };
  return out;
}

// ---------------------------------------------------------------- identity of a run

function identityVectors(): VectorFile {
  const raw = {
    name: 'demo-run',
    peers: 4,
    rounds: 5,
    seed: 7,
    data: { dataset: 'synthetic', train: 400, test: 100, features: 10, classes: 3, partition: { kind: 'iid' } },
    model: { kind: 'logreg' },
    mode: 'gossip',
    topology: { name: 'ring' },
    compression: { method: 'top-k', ratio: 0.1 },
  };
  const config = parseConfig(raw);
  const { name: _n, backend: _b, eval: _e, ...shared } = config;
  const text = JSON.stringify(shared);
  const layout = sampleLayout();
  const fingerprint = layoutFingerprint(layout);
  return {
    'config-hash': {
      description: 'the config hash: SHA-256 of the JSON text of the parsed config without name, backend and eval; first 16 hex digits',
      input: raw,
      output: { hashedText: text, configHash: configHash(config) },
    },
    'model-fingerprint': {
      description: 'the model fingerprint of the announcement (SHA-256 of the layout fingerprint, first 16 hex digits) and the layout hash of the update header (FNV-1a 32)',
      input: { layout: layout.tensors.map((t) => ({ name: t.name, shape: t.shape, role: t.role })) },
      output: { layoutFingerprint: fingerprint, modelFingerprint: createHash('sha256').update(fingerprint).digest('hex').slice(0, 16), layoutHash: layoutHash(layout) },
    },
    topic: { description: 'the gossipsub topic of a run', input: { runId: 'demo-run' }, output: { topic: `gossipfl/run/${'demo-run'}/1` } },
  };
}

// ---------------------------------------------------------------- shared randomness

function randomVectors(): VectorFile {
  const rng = new Rng(7);
  const words = Array.from({ length: 8 }, () => rng.nextUint32());
  const normals = new Rng(deriveSeed(7, 'powersgd-q', 0));
  const f64 = new Float64Array(Array.from({ length: 6 }, () => normals.normal()));
  return {
    'derive-seed': {
      description: 'FNV-1a 32 over the UTF-16 code units of the parts joined by U+0000',
      input: { parts: [7, 'rand-k', 3, 1, 0, 0] },
      output: { seed: deriveSeed(7, 'rand-k', 3, 1, 0, 0) },
    },
    sfc32: { description: 'the first 8 words of the general stream Rng(7): splitmix32 seeding, 12 discarded words, then sfc32', input: { seed: 7 }, output: { words } },
    normal: {
      description: "the first 6 standard normals (Box-Muller) of Rng(deriveSeed(7, 'powersgd-q', 0)), as float64 little-endian hex: PowerSGD's initial Q of layer 0 starts with them",
      input: { seed: deriveSeed(7, 'powersgd-q', 0) },
      output: { float64le: hex(new Uint8Array(f64.buffer)) },
    },
    'rand-k-indices': {
      description: 'the rand-k sampler (splitmix32 words, Floyd) for a layer of 128 values, k = 13',
      input: { seed: deriveSeed(7, 'rand-k', 3, 1, 0, 0), n: 128, k: 13 },
      output: { indices: Array.from(sampleSortedIndices(deriveSeed(7, 'rand-k', 3, 1, 0, 0), 128, 13)) },
    },
    crc32: { description: 'CRC-32 (zlib) check value', input: { ascii: '123456789' }, output: { crc32: crc32(new TextEncoder().encode('123456789')) } },
  };
}

// ---------------------------------------------------------------- compressed updates

/** The layout of every compression vector: an 8 × 16 weight matrix and its 8 biases. */
export function sampleLayout(): ParamLayout {
  return makeLayout([
    { name: 'w', shape: [8, 16], role: 'weight' },
    { name: 'b', shape: [8], role: 'bias' },
  ]);
}

/** Update values that are exact in float32 and easy to recompute: ((i·37 + 11·peer) mod 101 − 50) / 64. */
export function sampleUpdate(layout: ParamLayout, peer: number): Float32Array {
  return Float32Array.from({ length: layout.size }, (_, i) => (((i * 37 + 11 * peer) % 101) - 50) / 64);
}

const UPDATE_FORMULA = 'value[i] = ((i*37 + 11*peer) mod 101 - 50) / 64, i over the flat layout (w row-major, then b)';
const SEED = 7;

function layoutInput(layout: ParamLayout) {
  return layout.tensors.map((t) => ({ name: t.name, shape: t.shape, role: t.role }));
}

function pointwiseVector(spec: CompressionSpec, round: number, sender: number): Vector {
  const layout = sampleLayout();
  const c = buildCompressor(spec, SEED) as PointwiseCompressor<unknown, unknown>;
  let state = c.initialState(layout);
  const messages: string[] = [];
  // Two messages in a row where the method keeps state (error feedback), one otherwise.
  const count = spec.errorFeedback && spec.errorFeedback !== 'none' ? 2 : 1;
  for (let k = 0; k < count; k++) {
    const enc = c.encode(paramsFrom(layout, sampleUpdate(layout, sender + k)), state, { seed: SEED, round: round + k, sender });
    state = enc.state;
    messages.push(hex(enc.message));
  }
  return {
    description: `${c.name}: ${count === 1 ? 'one update' : `updates of rounds ${round} and ${round + 1} (peer ${sender}, then peer ${sender + 1}'s values)`} from sender ${sender}`,
    input: { spec, seed: SEED, round, sender, layout: layoutInput(layout), update: UPDATE_FORMULA },
    output: count === 1 ? { message: messages[0] } : { messages },
  };
}

/** Drives a group round of `peers` peers in one process and records every phase's messages. */
function groupVector(spec: CompressionSpec, rounds: readonly number[], peers = 2): Vector {
  const layout = sampleLayout();
  const c = buildCompressor(spec, SEED) as GroupCompressor<unknown, unknown>;
  let states = Array.from({ length: peers }, () => c.initialState(layout));
  const phases: Record<string, string[]> = {};
  for (const round of rounds) {
    let steps: GroupStep<unknown, unknown>[] = states.map((s, p) => c.begin(paramsFrom(layout, sampleUpdate(layout, p + round)), s, { seed: SEED, round, sender: p }));
    for (let guard = 0; guard < 4 && steps.some((s) => s.kind === 'send'); guard++) {
      const sends = steps.map((s) => {
        if (s.kind !== 'send') throw new Error('vectors: peers finished in different phases');
        return s;
      });
      phases[`round ${round} phase ${sends[0].phase}`] = sends.map((s) => hex(s.message));
      const received: GroupMessage[] = sends.map((s, p) => ({ sender: p, bytes: s.message }));
      steps = sends.map((s) => c.step(s.session, received));
    }
    states = steps.map((s) => {
      if (s.kind !== 'done') throw new Error('vectors: group round did not finish');
      return s.state;
    });
  }
  return {
    description: `${c.name}: every phase message of ${peers} peers (senders 0..${peers - 1}; peer p's update in round t uses peer = p + t), rounds ${rounds.join(', ')}`,
    input: { spec, seed: SEED, rounds, peers, layout: layoutInput(layout), update: UPDATE_FORMULA },
    output: phases,
  };
}

function compressionVectors(): VectorFile {
  return {
    identity: pointwiseVector({ method: 'identity' }, 3, 1),
    fp16: pointwiseVector({ method: 'fp16' }, 3, 1),
    int8: pointwiseVector({ method: 'int8', blockSize: 32 }, 3, 1),
    sign: pointwiseVector({ method: 'sign' }, 3, 1),
    'top-k': pointwiseVector({ method: 'top-k', ratio: 0.1 }, 3, 1),
    'rand-k': pointwiseVector({ method: 'rand-k', ratio: 0.1 }, 3, 1),
    'rand-k-unbiased': pointwiseVector({ method: 'rand-k-unbiased', ratio: 0.1 }, 3, 1),
    'random-subspace': pointwiseVector({ method: 'random-subspace', rank: 2 }, 3, 1),
    'top-k+ef21': pointwiseVector({ method: 'top-k', ratio: 0.1, errorFeedback: 'ef21' }, 3, 1),
    'rand-k+econtrol': pointwiseVector({ method: 'rand-k', ratio: 0.1, errorFeedback: 'econtrol', eta: 0.5 }, 3, 1),
    powersgd: groupVector({ method: 'powersgd', rank: 2 }, [0, 1]),
    'arc-top-k': groupVector({ method: 'arc-top-k', rho: 0.25, sketchRank: 2 }, [3]),
    greedylore: groupVector({ method: 'greedylore', rank: 2, refreshEvery: 10 }, [0, 1]),
  };
}

/** Every vector file: its name under tests/protocol/vectors/ and its content. */
export function allVectors(): Record<string, VectorFile> {
  return { 'node-messages.json': nodeVectors(), 'run-identity.json': identityVectors(), 'randomness.json': randomVectors(), 'compression.json': compressionVectors() };
}
