// The transport's validate hook for a run: the compression layer's full structural check of an
// update's codec bytes (layout, method, lengths, finiteness, CRC, and the round and phase its
// envelope claims), so that junk is refused — and not relayed by gossipsub — before it is queued.
// Only the sender's index is left to the exchange, which knows the member list of the round.
import type { ParamLayout } from '../params/index.js';
import { decodeMessage } from '../compression/index.js';
import type { ValidateUpdate } from './transport.js';

export function codecValidator(layout: ParamLayout): ValidateUpdate {
  return (bytes, _from, at) => {
    try {
      decodeMessage(bytes, { layout, round: at.round, phase: at.phase });
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: err instanceof Error ? err.message : String(err) };
    }
  };
}
