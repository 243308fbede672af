// Attacks on the wire rather than on the model. The `nan` attacker's own encoder refuses a
// non-finite model (as any honest peer's would), so a NaN model can never reach the network
// through the codec. A hostile peer does not use our encoder: it writes the bytes itself. This
// module does the same: it takes a well-formed encoded message, overwrites every value of its
// body with NaN and re-encodes it with a correct CRC, so the receiver's decode is what must refuse it.
import type { ParamLayout } from '../params/index.js';
import type { ExchangeRequest, Transport } from './transport.js';
import { decodeMessage, encodeMessage, type Section, type WireMessage } from '../compression/index.js';

/** IEEE binary16 quiet NaN. */
const HALF_NAN = 0x7e00;

/** The same section with every value NaN (int8 and sign carry their values through NaN scales). */
export function poisonSection(s: Section): Section {
  switch (s.coding) {
    case 'absent':
      return s;
    case 'f32':
      return { coding: 'f32', values: new Float32Array(s.values.length).fill(Number.NaN) };
    case 'f16':
      return { coding: 'f16', bits: new Uint16Array(s.bits.length).fill(HALF_NAN) };
    case 'int8':
      return { ...s, scales: new Float32Array(s.scales.length).fill(Number.NaN) };
    case 'sign':
      return { ...s, scale: Number.NaN };
    case 'sparse':
      return { coding: 'sparse', indices: s.indices, values: new Float32Array(s.values.length).fill(Number.NaN) };
  }
}

/**
 * A well-formed encoded update for `layout` with every body value replaced by NaN: header,
 * layout hash, section table and CRC are all valid, only finiteness is violated. Bytes that are
 * not a valid message for the layout (empty downloads, other protocols) come back unchanged.
 */
export function poisonPayload(bytes: Uint8Array, layout: ParamLayout): Uint8Array {
  let msg: WireMessage;
  try {
    msg = decodeMessage(bytes, { layout });
  } catch {
    return bytes;
  }
  return encodeMessage({ ...msg, parts: msg.parts.map((part) => part.map(poisonSection)) }, layout);
}

/** The request with every payload byte string poisoned. */
export function poisonRequest(request: ExchangeRequest, layout: ParamLayout): ExchangeRequest {
  const { payload } = request;
  const poisoned =
    payload instanceof Uint8Array ? poisonPayload(payload, layout) : new Map([...payload].map(([to, b]) => [to, poisonPayload(b, layout)] as const));
  return { ...request, payload: poisoned };
}

/** A transport that poisons everything its peer sends (a real `nan` attacker). */
export function poisoningTransport(inner: Transport, layout: ParamLayout): Transport {
  return { ...inner, exchange: (request) => inner.exchange(poisonRequest(request, layout)) };
}
