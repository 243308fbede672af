// engine: batched over the per-peer world: local steps and gossip mixing run on the stacked
// engine (all peers at once), everything else (merges, metrics) on the peers' own Params, which
// the engine keeps in step with the stack.
import type { Peer } from '../peer/peer.js';
import type { PeerWorld } from '../peer/peer-world.js';
import type { GossipStep, Observation, ObserveRequest, Roster, Traffic, World } from '../peer/world.js';
import type { Params } from '../params/index.js';
import type { BatchedEngine } from './batched-engine.js';

export class StackOverPeers implements World {
  private sent = 0;
  private received = 0;

  constructor(
    private readonly peers: PeerWorld,
    private readonly engine: BatchedEngine,
    private readonly afterTrain: (peer: Peer, steps: number) => void,
  ) {}

  beginRound(round: number): Promise<Roster> {
    return this.peers.beginRound(round);
  }

  async train(peers: readonly number[], steps: number): Promise<void> {
    // batchedEngineMisfit admits only runs where every peer trains every round.
    await this.engine.train(steps);
    for (const i of peers) this.afterTrain(this.engine.peer(i), steps);
  }

  async gossipStep(step: GossipStep): Promise<void> {
    const { sent, received } = await this.engine.mix(step.mixing);
    for (const i of step.participants) {
      this.sent += sent[i];
      this.received += received[i];
    }
  }

  exactMerge(round: number, group: readonly number[], deadlineMs: number): Promise<void> {
    return this.peers.exactMerge(round, group, deadlineMs);
  }

  observe(request: ObserveRequest): Promise<Observation> {
    return this.peers.observe(request);
  }

  takeTraffic(): Traffic {
    const t = this.peers.takeTraffic();
    const out = { sent: t.sent + this.sent, received: t.received + this.received };
    this.sent = 0;
    this.received = 0;
    return out;
  }

  finalModels(): Promise<{ readonly models: readonly Params[]; readonly merged: Params | null }> {
    return this.peers.finalModels();
  }
}
