// Real peers at scale: SCALE_PEERS (default 64) `gossipfl peer` processes on this machine,
// logistic regression on a small synthetic set, over a ring and over an exponential graph.
// They start, reach full membership through one bootstrap peer (announcements relayed over the
// run topic), train 20 rounds, merge exactly, and stop by themselves. Each run prints the time to
// membership, the round time, connections per peer and peak RSS per process. The same run on a
// host without npm: tests/reliability/scale-main.ts (docs/reliability.md).
import { describe, expect, it } from 'vitest';
import { bundlePeerCli } from './scale-fleet.js';
import { runScale, SCALE_ROUNDS } from './scale-run.js';

const PEERS = Number(process.env.SCALE_PEERS ?? 64);
/** Starting 64 node processes on 2 shared cores takes minutes; the peers wait that long for each other. */
const START_TIMEOUT_MS = 600_000;

describe(`${PEERS} real peer processes`, () => {
  for (const topology of ['ring', 'exponential'] as const) {
    it(`${topology}: start, full membership, ${SCALE_ROUNDS} rounds, exact merge, stop by themselves`, async () => {
      const outcome = await runScale({ peers: PEERS, topology, peerBundle: await bundlePeerCli(), startTimeoutMs: START_TIMEOUT_MS });
      process.stdout.write(`scale ${topology}: ${JSON.stringify(outcome.report)}\n`);
      if (outcome.problems.length) process.stderr.write(`scale ${topology} failed; the peers' logs and metrics are in ${outcome.dir}\n`);
      expect(outcome.problems).toEqual([]);
    });
  }
});
