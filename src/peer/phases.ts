// Every exchange of a round carries a phase number (one byte on the wire), so that messages of
// different exchanges of the same round never mix. One table for all of them:
//
//   phase      exchange                                         who
//   0 … Q−1    gossip step q of the round (Q ≤ MAX_GOSSIP_STEPS) gossip mode
//   0, 1, …    group compressor phases (PowerSGD's P then Q, …)  all-reduce and federated groups
//   0          the server's global model to the participants    server rounds, MoDeST downloads
//   1          participants' changes to the server              server rounds, MoDeST uploads
//   2          SCAFFOLD clients' control deltas Δc_i            server rounds (pointwise compressors only)
//   250        the group's result to the server                 federated rounds with a group compressor
//   251        control estimates ĉ_i of SCAFFOLD over gossip     gossip mode (one gossip step per round)
//   255        models of an exact merge                          merges of the schedule
//
// Exchanges that share a number never run in the same round of the same mode.

export const PHASES = {
  /** Gossip step q uses phase q. */
  firstGossipStep: 0,
  /** Group compressor phase k uses phase k. */
  firstGroupPhase: 0,
  download: 0,
  upload: 1,
  controlUpload: 2,
  groupResult: 250,
  controlGossip: 251,
  merge: 255,
} as const;

/** Gossip steps in a round stay below the reserved phases. */
export const MAX_GOSSIP_STEPS = PHASES.groupResult;
