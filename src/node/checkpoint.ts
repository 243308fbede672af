// A peer's durable state, written atomically after every round (temp file, fsync, rename), so
// a killed peer restarts from its last finished round and never reads a half-written file.
//
// File layout (little-endian):
//   "GFCK" | u32 version (1) | u32 header length H | H bytes of JSON header | pad to 4 |
//   float32 params (layout.size) | float32 optimizer slot 0 .. slot S−1 (layout.size each)
// The header names the round, the layout fingerprint and the optimizer step; loading checks
// every length against it.
import { existsSync, readFileSync } from 'node:fs';
import type { Params, ParamLayout } from '../params/index.js';
import { layoutFingerprint } from '../params/index.js';
import type { OptimizerState } from '../model/optimizer.js';
import { writeFileAtomic } from '../util/fs.js';
import { GossipflError } from '../util/errors.js';

const MAGIC = 0x4b434647; // "GFCK" read as a little-endian u32
const VERSION = 1;

/** A peer's saved state: the last finished round, its model and optimizer state. */
export interface Checkpoint {
  /** The last round this peer finished (0-based). */
  readonly round: number;
  readonly params: Params;
  readonly optimizer: OptimizerState;
  /** Peer id the checkpoint belongs to (a restart must use the same key). */
  readonly peerId: string;
}

interface Header {
  round: number;
  peerId: string;
  layout: string;
  size: number;
  optimizerStep: number;
  slots: number;
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
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = align4(12 + json.length);
  const floats = c.params.layout.size * (1 + header.slots);
  const out = new Uint8Array(start + floats * 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  const body = new Float32Array(out.buffer, start, floats);
  body.set(c.params.data, 0);
  c.optimizer.slots.forEach((s, k) => body.set(s, (k + 1) * c.params.layout.size));
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
  if (view.getUint32(4, true) !== VERSION) fail(`unsupported checkpoint version ${view.getUint32(4, true)}`);
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
  if (bytes.byteLength !== start + floats * 4) fail(`expected ${start + floats * 4} bytes, found ${bytes.byteLength}`);
  // Copy the floats out: `bytes` may be a Buffer, whose slice() is a view and whose .buffer
  // starts elsewhere (a pooled or whole-file ArrayBuffer), and the body must be 4-byte aligned.
  const body = new Float32Array(floats);
  new Uint8Array(body.buffer).set(bytes.subarray(start, start + floats * 4));
  return {
    round: header.round,
    peerId: header.peerId,
    params: { layout, data: body.slice(0, layout.size) },
    optimizer: {
      step: header.optimizerStep,
      slots: Array.from({ length: header.slots }, (_, k) => body.slice((k + 1) * layout.size, (k + 2) * layout.size)),
    },
  };
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
