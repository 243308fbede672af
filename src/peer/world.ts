// What the round driver (./driver.ts) asks of the peers one process holds. The simulator holds
// all of them (per-peer objects, or one stacked tensor with `engine: batched`); a real peer
// holds itself. The driver decides what happens in a round (schedule, participation, which
// exchange, when to evaluate) and turns observations into metrics; a World carries it out.
import type { Params } from '../params/index.js';
import type { SparseMixing } from '../topology/mixing.js';
import type { PeerId } from './transport.js';

/** Who takes part in a round, as indices into `members` (topology indices refer to them). */
export interface Roster {
  /** The run's members of this round, in index order. */
  readonly members: readonly PeerId[];
  /** Members that are up this round (crashed or departed simulated peers are not). */
  readonly live: readonly number[];
  /** The live members this process runs (all of them in the simulator; itself on the network). */
  readonly local: readonly number[];
  /** Live members whose models count in metrics (Byzantine simulated peers do not); local ones are evaluated. */
  readonly honest: readonly number[];
}

/** One gossip step: who exchanges, over which mixing matrix. */
export interface GossipStep {
  readonly round: number;
  /** Gossip step within the round (0 … Q−1). */
  readonly phase: number;
  readonly mixing: SparseMixing;
  /** Members that train and exchange this step (indices into the roster's members). */
  readonly participants: readonly number[];
  /** How long a peer waits for its neighbours (ms, in the transport's clock). */
  readonly deadlineMs: number;
}

/** What the driver asks to observe at the end of a round. */
export interface ObserveRequest {
  readonly round: number;
  /** Whether to evaluate models on the test set this round. */
  readonly evaluate: boolean;
  /** Local peers to evaluate (a prefix of the honest local peers: eval.localPeers). */
  readonly evalPeers: readonly number[];
  /** Members that took part this round: trained, or sent or received bytes (the driver counts the training losses of those that trained). */
  readonly participants: readonly number[];
}

/** One local peer's numbers for a round. */
export interface PeerObservation {
  readonly index: number;
  /** Mean training loss of its last local steps (NaN if it has not trained). */
  readonly trainLoss: number;
  /** Test accuracy and loss of its own model, when evaluated. */
  readonly accuracy?: number;
  readonly loss?: number;
}

/** What a World reports at the end of a round. */
export interface Observation {
  /** The local peers asked for (evalPeers) and the participants, each once, in index order. */
  readonly peers: readonly PeerObservation[];
  /** The merged model's test accuracy and loss, when the world knows the merged model and `evaluate` was set. */
  readonly merged: { readonly accuracy: number; readonly loss: number } | null;
  /** Mean over the honest live models of ‖x_i − x̄‖² (NaN where the world sees only its own model). */
  readonly consensusDistance: number;
}

/** Payload bytes put on the wire and taken off it. */
export interface PeerTraffic {
  readonly sent: number;
  readonly received: number;
}

/**
 * Bytes a world's peers put on the wire and took off it since the last call: the totals, and
 * who moved them. The totals are the sum of `byPeer` and `server`.
 */
export interface Traffic extends PeerTraffic {
  /** Each local member's share, by member index; a member that moved no bytes may be absent. */
  readonly byPeer: ReadonlyMap<number, PeerTraffic>;
  /** The share of the federated server, where the world holds it (it is not a member). */
  readonly server?: PeerTraffic;
}

/**
 * What a run brings back at its end: every local model and the merged one ('all'), or only the
 * merged model ('merged': a batched world computes it where its stack lives and holds no model
 * per peer on the host; the models list is then empty).
 */
export type FinalModels = 'all' | 'merged';

/** The peers one process holds, as the round driver drives them. */
export interface World extends ModeRounds {
  /** Fixes round t's roster (churn and membership changes take effect here). */
  beginRound(round: number): Promise<Roster>;
  /** k local optimizer steps for each of these members (local ones only). */
  train(peers: readonly number[], steps: number): Promise<void>;
  /** One gossip exchange and aggregation among the step's participants. */
  gossipStep(step: GossipStep): Promise<void>;
  /** Every member of `group` ends with the exact average of the group's models. */
  exactMerge(round: number, group: readonly number[], deadlineMs: number): Promise<void>;
  /** Test accuracy and losses of the end of the round. */
  observe(request: ObserveRequest): Promise<Observation>;
  /** Bytes moved since the last call. */
  takeTraffic(): Traffic;
  /** The local honest live models and the merged model (the mean of all honest live models where known). */
  finalModels(which?: FinalModels): Promise<{ readonly models: readonly Params[]; readonly merged: Params | null }>;
}

/** Rounds of the modes beyond gossip, for worlds that hold per-peer models (the batched world has none). */
export interface ModeRounds {
  /** Server-based FedAvg (mode federated in the simulator): sampled peers download, train k steps, upload; the server aggregates. */
  serverRound?(round: number, participants: readonly number[], steps: number, deadlineMs: number): Promise<void>;
  /** Serverless all-reduce of the round's change through a group compressor among `group`. */
  allReduce?(round: number, group: readonly number[], steps: number, deadlineMs: number): Promise<void>;
  /** A MoDeST round among the live members; returns the trainers. */
  modestRound?(round: number, live: readonly number[], steps: number, deadlineMs: number): Promise<readonly number[]>;
}
