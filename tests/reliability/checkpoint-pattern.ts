// The checkpoint of round r in the kill tests: values that say which round wrote them, so a
// checkpoint mixing two rounds' bytes (half written) cannot pass for either.
import { makeLayout, type ParamLayout } from '../../src/params/index.js';
import type { Checkpoint } from '../../src/node/checkpoint.js';

export function checkpointLayout(floats: number): ParamLayout {
  return makeLayout([{ name: 'w', shape: [floats] }]);
}

/** Exact in float32 (integers below 2^24). */
function value(round: number, i: number, slot: number): number {
  return (round * 7919 + i * 31 + slot * 101) % 65521;
}

export function checkpointAt(layout: ParamLayout, round: number): Checkpoint {
  const fill = (slot: number) => Float32Array.from({ length: layout.size }, (_, i) => value(round, i, slot));
  return { round, peerId: 'checkpoint-writer', params: { layout, data: fill(0) }, optimizer: { step: round + 1, slots: [fill(1)] } };
}

/** True when `c` is exactly the checkpoint of its round. */
export function isIntact(c: Checkpoint, layout: ParamLayout): boolean {
  const want = checkpointAt(layout, c.round);
  const same = (a: Float32Array, b: Float32Array) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  return c.peerId === want.peerId && c.optimizer.step === want.optimizer.step && same(c.params.data, want.params.data) && same(c.optimizer.slots[0], want.optimizer.slots[0]);
}
