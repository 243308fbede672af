// The peer's three uses of the wire codec: whole models in gossip (lossless or quantized),
// lossless models for exact merges and downloads, and compressed changes with error feedback
// for federated uploads.
import type { Params, ParamLayout } from '../params/index.js';
import type { ModelCodec } from './gossip.js';

export interface MessageMeta {
  readonly round: number;
  readonly phase: number;
  readonly sender: number;
}

export interface DeltaCodec {
  /** Fresh per-peer compressor memory. */
  initState(): unknown;
  encode(delta: Params, state: unknown, meta: MessageMeta): { bytes: Uint8Array; state: unknown };
  decode(bytes: Uint8Array, meta: MessageMeta): Params;
}

export interface UpdateCodec {
  readonly model: ModelCodec;
  readonly exact: ModelCodec;
  readonly update: DeltaCodec;
}

// TEMPORARY dense float32 framing until the compression layer's wire codec lands.
function dense(layout: ParamLayout): ModelCodec {
  return {
    encode(params, meta) {
      const out = new Uint8Array(16 + layout.size * 4);
      const v = new DataView(out.buffer);
      v.setUint32(0, meta.round, true);
      v.setUint32(4, meta.phase, true);
      v.setUint32(8, meta.sender, true);
      v.setUint32(12, layout.size, true);
      new Float32Array(out.buffer, 16).set(params.data);
      return out;
    },
    decode(bytes) {
      const data = new Float32Array(bytes.slice(16).buffer);
      return { layout, data };
    },
  };
}

export function buildCodec(_spec: unknown, layout: ParamLayout, _seed: number): UpdateCodec {
  const d = dense(layout);
  return {
    model: d,
    exact: d,
    update: {
      initState: () => null,
      encode: (delta, state, meta) => ({ bytes: d.encode(delta, meta), state }),
      decode: (bytes, meta) => d.decode(bytes, meta),
    },
  };
}
