// A peer's durable state, written atomically after every round (temp file, fsync, rename), so
// a killed peer restarts from its last finished round and never reads a half-written file.
//
// File layout (little-endian):
//   "GFCK" | u32 version (2) | u32 header length H | H bytes of JSON header | pad to 4 |
//   float32 params (layout.size) | float32 optimizer slot 0 .. slot S−1 (layout.size each) |
//   rule-state vectors, in the order and with the types and lengths the header's `state` lists
// The header names the round, the layout fingerprint, the optimizer step and the rule-state
// section (its own version, its vectors, the compressor memory's tree); loading checks every
// length against it. Version 1 files (no rule-state section) still load, with `state` absent.
//
// The rule state is what a client's algorithm carries from round to round besides its model:
//   SCAFFOLD's c_i: Karimireddy et al. 2020, Algorithm 1: client i keeps c_i across rounds
//     (line 12, option II); restarting from c_i = 0 changes every later correction c − c_i;
//   D²'s ψ_{t−1}: Tang et al. 2018, Algorithm 1: x_{t+1/2} = 2x_t − x_{t−1} − γ(g_t − g_{t−1})
//     needs the previous iterate, so a restart would take a plain step instead;
//   SCAFFOLD over gossip's ĉ_i (`controlEstimate`, K-GT's tracked correction, Liu et al. 2024):
//     the peer's share of the tracked mean of the c_j; restarting from 0 would shift that mean
//     (absent from files written before it was kept, which load with ĉ_i = 0);
//   the compressor's sender memory: EF14's error e (Seide et al. 2014; Stich et al. 2018),
//     EF21's h and message count (Richtárik et al. 2021: the server keeps the same h per
//     client, so a client restarting from h = 0 is refused as out of sequence), PowerSGD's
//     error and warm start. Receivers' copies of other peers' memory are not a client's own
//     and are not kept (see docs/peers.md).
import { existsSync, readFileSync } from 'node:fs';
import type { Params, ParamLayout } from '../params/index.js';
import { layoutFingerprint } from '../params/index.js';
import type { OptimizerState } from '../model/optimizer.js';
import type { PeerMemory } from '../peer/peer-world.js';
import { writeFileAtomic } from '../util/fs.js';
import { GossipflError } from '../util/errors.js';
import { flattenState, shapeMismatch, unflattenState, type StateTree, type StateVector } from './plain-state.js';

const MAGIC = 0x4b434647; // "GFCK" read as a little-endian u32
const VERSION = 2;
/** The version of the rule-state section (in the header, so it can change on its own). */
const STATE_VERSION = 1;

/** A peer's saved state: the last finished round, its model, optimizer and rule state. */
export interface Checkpoint {
  /** The last round this peer finished (0-based). */
  readonly round: number;
  readonly params: Params;
  readonly optimizer: OptimizerState;
  /** Peer id the checkpoint belongs to (a restart must use the same key). */
  readonly peerId: string;
  /** The client's rule and compressor memory; absent in a file written before it was kept (version 1). */
  readonly state?: PeerMemory;
}

interface StateSection {
  version: number;
  /** Type and length of every vector, in file order. */
  vectors: { type: 'f32' | 'f64'; length: number }[];
  clientControl: StateTree;
  lastTrained: StateTree;
  compression: StateTree;
  controlEstimate?: StateTree;
}

interface Header {
  round: number;
  peerId: string;
  layout: string;
  size: number;
  optimizerStep: number;
  slots: number;
  state?: StateSection;
}

/** Encodes a checkpoint as bytes. */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const header: Header = {
    round: c.round,
    peerId: c.peerId,
    layout: layoutFingerprint(c.params.layout),
    size: c.params.layout.size,
    optimizerStep: c.optimizer.step,
    slots: c.optimizer.slots.length,
  };
  // Always a section (empty without state): a version-2 file says what it holds.
  const vectors: StateVector[] = [];
  const state = c.state ?? {};
  const size = c.params.layout.size;
  const own = (v: Float32Array | undefined, name: string) => {
    if (v && v.length !== size) throw new RangeError(`checkpoint: ${name} holds ${v.length} values, the model ${size}`);
    return flattenState(v, vectors, name);
  };
  const clientControl = own(state.clientControl, 'clientControl');
  const lastTrained = own(state.lastTrained, 'lastTrained');
  const compression = flattenState(state.compression, vectors, 'compression');
  const controlEstimate = own(state.controlEstimate, 'controlEstimate');
  header.state = { version: STATE_VERSION, vectors: vectors.map((v) => ({ type: v instanceof Float32Array ? 'f32' : 'f64', length: v.length })), clientControl, lastTrained, compression, controlEstimate };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = align4(12 + json.length);
  const floats = c.params.layout.size * (1 + header.slots);
  const out = new Uint8Array(start + floats * 4 + vectors.reduce((n, v) => n + v.byteLength, 0));
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  const body = new Float32Array(out.buffer, start, floats);
  body.set(c.params.data, 0);
  c.optimizer.slots.forEach((s, k) => body.set(s, (k + 1) * c.params.layout.size));
  let at = start + floats * 4;
  for (const v of vectors) {
    out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), at);
    at += v.byteLength;
  }
  return out;
}

/** Decodes and validates a checkpoint; throws GossipflError naming what is wrong. */
export function decodeCheckpoint(bytes: Uint8Array, layout: ParamLayout, source = 'checkpoint'): Checkpoint {
  const fail = (why: string): never => {
    throw new GossipflError('state', `${source}: ${why}; delete it to start this peer afresh`);
  };
  if (bytes.byteLength < 12) fail('file is too short to be a checkpoint');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) fail('not a gossipfl checkpoint (bad magic)');
  const version = view.getUint32(4, true);
  if (version !== 1 && version !== VERSION) fail(`unsupported checkpoint version ${version}`);
  const h = view.getUint32(8, true);
  if (12 + h > bytes.byteLength) fail('header runs past the end of the file');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + h))) as Header;
  } catch {
    return fail('header is not valid JSON');
  }
  if (header.layout !== layoutFingerprint(layout)) fail('it was written for another model (layout differs)');
  if (!Number.isInteger(header.round) || header.round < 0) fail(`bad round ${header.round}`);
  if (!Number.isInteger(header.slots) || header.slots < 0 || header.slots > 4) fail(`bad optimizer slot count ${header.slots}`);
  const start = align4(12 + h);
  const floats = layout.size * (1 + header.slots);
  const section = version === 1 ? undefined : header.state;
  if (version !== 1 && !section) fail('its header has no rule-state section');
  const vectorBytes = section ? sectionBytes(section, fail) : 0;
  const expected = start + floats * 4 + vectorBytes;
  if (bytes.byteLength !== expected) fail(`expected ${expected} bytes, found ${bytes.byteLength}`);
  // Copy the floats out: `bytes` may be a Buffer, whose slice() is a view and whose .buffer
  // starts elsewhere (a pooled or whole-file ArrayBuffer), and the body must be 4-byte aligned.
  const body = new Float32Array(floats);
  new Uint8Array(body.buffer).set(bytes.subarray(start, start + floats * 4));
  return {
    round: header.round,
    peerId: header.peerId,
    ...(section ? { state: readState(section, bytes.subarray(start + floats * 4), layout, fail) } : {}),
    params: { layout, data: body.slice(0, layout.size) },
    optimizer: {
      step: header.optimizerStep,
      slots: Array.from({ length: header.slots }, (_, k) => body.slice((k + 1) * layout.size, (k + 2) * layout.size)),
    },
  };
}

/** Checks the section's version and vector list; returns the bytes its vectors take. */
function sectionBytes(section: StateSection, fail: (why: string) => never): number {
  if (section.version !== STATE_VERSION) fail(`unsupported rule-state section version ${String(section.version)}`);
  if (!Array.isArray(section.vectors)) fail('rule-state section lists no vectors');
  let n = 0;
  for (const v of section.vectors) {
    if ((v?.type !== 'f32' && v?.type !== 'f64') || !Number.isInteger(v.length) || v.length < 0) fail(`rule-state section has a bad vector entry ${JSON.stringify(v)}`);
    n += v.length * (v.type === 'f32' ? 4 : 8);
  }
  return n;
}

/** The section's vectors (copied out, as the body is) and the state they make up. */
function readState(section: StateSection, bytes: Uint8Array, layout: ParamLayout, fail: (why: string) => never): PeerMemory {
  let at = 0;
  const vectors = section.vectors.map(({ type, length }) => {
    const v = type === 'f32' ? new Float32Array(length) : new Float64Array(length);
    new Uint8Array(v.buffer).set(bytes.subarray(at, at + v.byteLength));
    at += v.byteLength;
    return v;
  });
  const read = (tree: StateTree, name: string): unknown => {
    try {
      return unflattenState(tree, vectors, name);
    } catch (err) {
      return fail(`rule-state section: ${(err as Error).message}`);
    }
  };
  const own = (tree: StateTree, name: string): Float32Array | undefined => {
    const v = read(tree, name);
    if (v === undefined) return undefined;
    if (!(v instanceof Float32Array) || v.length !== layout.size) {
      fail(`its ${name} holds ${ArrayBuffer.isView(v) ? (v as StateVector).length : 'no'} float32 values, this model has ${layout.size} (rule state of another model)`);
    }
    return v as Float32Array;
  };
  const clientControl = own(section.clientControl, 'clientControl');
  const lastTrained = own(section.lastTrained, 'lastTrained');
  const compression = read(section.compression, 'compression');
  const controlEstimate = section.controlEstimate === undefined ? undefined : own(section.controlEstimate, 'controlEstimate');
  return {
    ...(clientControl ? { clientControl } : {}),
    ...(lastTrained ? { lastTrained } : {}),
    ...(compression !== undefined ? { compression } : {}),
    ...(controlEstimate ? { controlEstimate } : {}),
  };
}

/**
 * Refuses restored compressor memory whose shape differs from a fresh state of this run (another
 * compression config, or another model); `source` names the file.
 */
export function checkCompressionState(state: PeerMemory, fresh: unknown, source: string): void {
  if (state.compression === undefined) return;
  const why = shapeMismatch(state.compression, fresh, 'compression');
  if (why) throw new GossipflError('state', `${source}: its compressor memory does not fit this run (${why}); delete it to start this peer afresh`);
}

/** What holds a peer's memory (PeerWorld). */
export interface MemoryHolder {
  peerMemory(id: string): PeerMemory;
  restorePeerMemory(id: string, memory: PeerMemory): void;
}

/**
 * Puts a checkpoint's rule state back into the world that holds peer `id` (after the world set
 * its fresh state, which the compressor memory is checked against); a version-1 file has none,
 * which one log line says.
 */
export function restoreMemory(world: MemoryHolder, id: string, c: Checkpoint, source: string, log: (line: string) => void): void {
  if (!c.state) {
    log(`${source} was written without rule state (checkpoint version 1): SCAFFOLD's c_i, D²'s previous model and the compressor's memory start from zero`);
    return;
  }
  checkCompressionState(c.state, world.peerMemory(id).compression, source);
  world.restorePeerMemory(id, c.state);
}

/** Writes a checkpoint file atomically. */
export function saveCheckpoint(path: string, c: Checkpoint): void {
  writeFileAtomic(path, encodeCheckpoint(c));
}

/** Reads a checkpoint file, or undefined when there is none. */
export function loadCheckpoint(path: string, layout: ParamLayout): Checkpoint | undefined {
  if (!existsSync(path)) return undefined;
  return decodeCheckpoint(readFileSync(path), layout, path);
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
