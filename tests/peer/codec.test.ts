// The peer's codecs reuse model-sized buffers: the bytes and values must be those of the
// compressor's allocating forms, and what a caller may keep must not be overwritten by a later
// call (whole models always; a difference per sender for CHOCO; one upload at a time for the server).
import { describe, expect, it } from 'vitest';
import { makeLayout, paramsFrom, type Params } from '../../src/params/index.js';
import { buildCodec } from '../../src/peer/codec.js';
import { buildCompressor, type PointwiseCompressor } from '../../src/compression/index.js';
import { Rng } from '../../src/util/rng.js';

const layout = makeLayout([
  { name: 'w', shape: [40, 30], role: 'weight' },
  { name: 'b', shape: [30], role: 'bias' },
]);
const SEED = 5;

function model(seed: number): Params {
  const rng = new Rng(seed);
  return paramsFrom(layout, Float32Array.from({ length: layout.size }, () => rng.normal()));
}

const meta = (sender: number, round = 3) => ({ round, phase: 0, sender });

describe('CHOCO difference codec (top-k)', () => {
  const spec = { method: 'top-k', ratio: 0.05, errorFeedback: 'none' } as const;

  it('sends the bytes and reconstruction of the compressor for current − base', () => {
    const codec = buildCodec(spec, layout, SEED).choco!;
    const reference = buildCompressor(spec, SEED) as PointwiseCompressor;
    const current = model(1);
    const base = model(2).data;
    const diff = paramsFrom(layout, current.data.map((x, i) => x - base[i]));
    const want = reference.encode(diff, null, { seed: SEED, ...meta(4) });
    const got = codec.encodeWithDecoded(current, base, null, meta(4));
    expect(Array.from(got.bytes)).toEqual(Array.from(want.message));
    expect(Array.from(got.decoded.data)).toEqual(Array.from(want.decoded.data));
    expect(Array.from(codec.encode(current, base, null, meta(4)).bytes)).toEqual(Array.from(want.message));
    expect(Array.from(codec.decode(got.bytes, meta(4)).data)).toEqual(Array.from(want.decoded.data));
  });

  it('two consecutive decodes (two senders) leave the first result intact', () => {
    const codec = buildCodec(spec, layout, SEED).choco!;
    const sender = buildCodec(spec, layout, SEED).choco!;
    const m1 = sender.encode(model(11), null, null, meta(1)).bytes;
    const m2 = sender.encode(model(12), null, null, meta(2)).bytes;
    const first = codec.decode(m1, meta(1));
    const kept = Array.from(first.data);
    const second = codec.decode(m2, meta(2));
    expect(second.data).not.toBe(first.data);
    expect(second.data.buffer).not.toBe(first.data.buffer);
    expect(Array.from(first.data)).toEqual(kept);
    expect(Array.from(second.data)).not.toEqual(kept);
    // The next message of sender 1 reuses sender 1's buffer (the documented lifetime).
    const again = codec.decode(sender.encode(model(13), null, null, meta(1, 4)).bytes, meta(1, 4));
    expect(again.data).toBe(first.data);
  });

  it("every sender's own reconstruction survives the others' encodes (all peers encode before any mixes)", () => {
    const codec = buildCodec(spec, layout, SEED).choco!;
    const own = [0, 1, 2].map((s) => codec.encodeWithDecoded(model(20 + s), null, null, meta(s)).decoded);
    const kept = own.map((p) => Array.from(p.data));
    codec.encodeWithDecoded(model(30), null, null, meta(3));
    own.forEach((p, s) => expect(Array.from(p.data)).toEqual(kept[s]));
    expect(new Set(own.map((p) => p.data.buffer)).size).toBe(3);
  });
});

describe('federated update codec (top-k with EF21)', () => {
  const spec = { method: 'top-k', ratio: 0.05, errorFeedback: 'ef21' } as const;

  it('decodes into one buffer, with the values and receiver memory of the allocating decode', () => {
    const client = buildCodec(spec, layout, SEED).update;
    const server = buildCodec(spec, layout, SEED).update;
    const reference = buildCompressor(spec, SEED) as PointwiseCompressor;
    expect(server.decodeBuffers).toBe('one');
    let clientState = client.initState();
    let refReceiver = reference.initialReceiverState(layout);
    let buffer: Float32Array | undefined;
    for (let round = 0; round < 3; round++) {
      const global = model(40 + round).data;
      const sent = client.encode(model(50 + round), global, clientState, meta(7, round));
      clientState = sent.state;
      const got = server.decode(sent.bytes, meta(7, round));
      const want = reference.decode(sent.bytes, layout, { seed: SEED, ...meta(7, round) }, refReceiver);
      refReceiver = want.receiver;
      expect(Array.from(got.data)).toEqual(Array.from(want.update.data));
      if (buffer) expect(got.data).toBe(buffer);
      buffer = got.data;
    }
  });
});

describe('whole-model codec', () => {
  it('two consecutive decodes give two arrays; the first is not touched by the second', () => {
    const codec = buildCodec({ method: 'fp16', errorFeedback: 'none' }, layout, SEED).model;
    const a = codec.decode(codec.encode(model(61), meta(1)), meta(1));
    const kept = Array.from(a.data);
    const b = codec.decode(codec.encode(model(62), meta(1)), meta(1));
    expect(b.data).not.toBe(a.data);
    expect(Array.from(a.data)).toEqual(kept);
    expect(Array.from(b.data)).not.toEqual(kept);
  });
});
