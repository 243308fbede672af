// The simulator's network where some peers put NaN on the wire (see ../peer/attack-payloads.ts).
import type { ParamLayout } from '../params/index.js';
import type { PeerId, Transport } from '../peer/transport.js';
import { poisoningTransport } from '../peer/attack-payloads.js';
import { SimNetwork } from './memory-transport.js';
import type { NetworkModel } from './network.js';

/**
 * The simulator's network where some peers put NaN on the wire: everything those peers send
 * (gossip models, federated uploads, merge messages, group phases) is poisoned after encoding.
 */
export class NanWireNetwork extends SimNetwork {
  constructor(
    model: NetworkModel,
    seed: number,
    private readonly poisoners: ReadonlySet<PeerId>,
    private readonly layout: ParamLayout,
  ) {
    super(model, seed);
  }

  override transportFor(peer: PeerId): Transport {
    const inner = super.transportFor(peer);
    return this.poisoners.has(peer) ? poisoningTransport(inner, this.layout) : inner;
  }
}
