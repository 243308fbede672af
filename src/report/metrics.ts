// The metrics record written once per round (one JSON object per line of metrics.jsonl) by
// both the simulator and the libp2p node, and read back by the report.

/** One round's metrics (a line of metrics.jsonl). */
export interface RoundMetrics {
  /** 1-based round number. */
  round: number;
  /** Peers that took part in this round (trained and exchanged). */
  activePeers: number;
  /** Test accuracy of each live peer's own model: mean, standard deviation, min, max. Null when not evaluated this round. */
  localAccuracyMean: number | null;
  localAccuracyStd: number | null;
  localAccuracyMin: number | null;
  localAccuracyMax: number | null;
  /** Test accuracy and loss of the average of all live peers' models (the merged model). */
  mergedAccuracy: number | null;
  mergedLoss: number | null;
  /** Mean training loss over the round's local steps of all active peers. */
  trainLoss: number;
  /** Mean over live peers of ‖x_i − x̄‖². */
  consensusDistance: number;
  /** Bytes put on the wire this round, summed over peers (payload bytes as the codec produced them). */
  bytesSent: number;
  bytesReceived: number;
  /** Cumulative bytes sent since round 1. */
  bytesSentTotal: number;
  /** Whether an exact global merge (average of all live peers) happened at the end of this round. */
  globalMerge: boolean;
  /** On a global-merge round: mean test accuracy of the local models just before the merge (null otherwise). */
  preMergeLocalAccuracyMean?: number | null;
  /** Simulated seconds since start (network model + compute model); equals wall time on the network. */
  simSeconds: number;
  /** Wall-clock seconds since start. */
  wallSeconds: number;
  /** Each local peer's own numbers this round (member index order); accuracy and loss are null when not evaluated. */
  perPeer?: PerPeerMetrics;
  /** The run's differential-privacy guarantee after this round (see docs/privacy.md), when `privacy` is set. */
  privacy?: { epsilon: number; delta: number };
}

/** Per-peer values of one round: parallel arrays, one entry per peer listed in `peer`. */
export interface PerPeerMetrics {
  /** Member indices. */
  peer: number[];
  /** Mean training loss of the peer's last local steps (NaN if it has not trained yet). */
  trainLoss: number[];
  /** Test accuracy and loss of the peer's own model (null when not evaluated this round). */
  accuracy: Array<number | null>;
  loss: Array<number | null>;
  /**
   * Payload bytes the peer put on the wire and took off it this round (as the round's
   * `bytesSent`/`bytesReceived` count them). Listed are the peers that moved bytes besides the
   * evaluated ones, so these plus `server` sum to the round's totals, but for the bytes of
   * Byzantine simulated peers (they are not listed).
   */
  bytesSent?: number[];
  bytesReceived?: number[];
  /** The federated server's own bytes this round, where this process holds the server (the simulator in mode federated, `gossipfl peer --serve`; not a client). */
  server?: { bytesSent: number; bytesReceived: number };
}

/** A whole run's summary (summary.json). */
export interface RunSummary {
  rounds: number;
  peers: number;
  localAccuracyMean: number | null;
  /** Mean local accuracy just before the last global merge, when the run had one. */
  preMergeLocalAccuracyMean?: number | null;
  mergedAccuracy: number | null;
  bytesSent: number;
  wallSeconds: number;
  backend: string;
  /** Adapter or device description where one is known (e.g. the WebGPU adapter). */
  device?: string;
  /** Short name of the run in reports; the run directory's name when absent. */
  label?: string;
  /** A real peer's connections (the counts of node/dialer.ts ConnectionStats: meanAtRounds, maxAtRounds, maxSeen, ...). */
  connections?: Readonly<Record<string, number>>;
  config?: unknown;
}

/** Contents of partition.json: how many samples of each class every peer holds. */
export interface PartitionSummary {
  numClasses: number;
  /** histograms[peer][class] = number of training samples. */
  histograms: number[][];
}
