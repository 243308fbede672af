// Real peers at scale: SCALE_PEERS (default 64) `gossipfl peer` processes on this machine,
// logistic regression on a small synthetic set, over a ring and over an exponential graph.
// They start, reach full membership through one bootstrap peer (announcements relayed over the
// run topic), train 20 rounds, merge exactly, and stop by themselves. Each run prints and
// writes (scale-<topology>.json in its temporary folder) the time to membership, the round
// time, connections per peer and peak RSS per process.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../../src/cli/commands/cluster.js';
import { bundlePeerCli, PeerFleet, type FleetReport } from './scale-fleet.js';
import { skipsOf, unconfirmedSkips, unexplainedGaps } from './skips.js';

const PEERS = Number(process.env.SCALE_PEERS ?? 64);
const ROUNDS = 20;
/** Starting 64 node processes on 2 shared cores takes minutes; the peers wait that long for each other. */
const START_TIMEOUT_MS = 600_000;

function configYaml(topology: string): string {
  return `name: scale-${topology}
seed: 11
peers: ${PEERS}
backend: cpu
rounds: ${ROUNDS}
data: { dataset: synthetic, train: ${PEERS * 50}, test: 200, features: 16, classes: 4 }
model: { kind: logreg }
training: { batchSize: 16, optimizer: { kind: sgd, lr: 0.1 } }
topology: { name: ${topology} }
schedule: { localSteps: 2, merge: { final: true } }
eval: { every: ${ROUNDS} }
heterogeneity: { deadlineMs: 30000 }
`;
}

/**
 * Distinct peers a peer wants, about: its two member-ring neighbours and two chords (its own and,
 * on average, one landing on it), plus its topology neighbours in and out beyond those.
 */
const WANTED_ABOUT: Record<string, number> = { ring: 4, exponential: 2 * Math.ceil(Math.log2(PEERS)) + 2 };

describe(`${PEERS} real peer processes`, () => {
  for (const topology of ['ring', 'exponential']) {
    it(`${topology}: start, full membership, ${ROUNDS} rounds, exact merge, stop by themselves`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `gossipfl-scale-${topology}-`));
      const configFile = join(dir, 'run.yaml');
      writeFileSync(configFile, configYaml(topology));
      const bundle = await bundlePeerCli();
      const fleet = await PeerFleet.prepare(dir, configFile, PEERS, bundle, START_TIMEOUT_MS);
      let passed = false;
      try {
        const ports = await freePorts(PEERS);
        const listen = (i: number) => `/ip4/127.0.0.1/tcp/${ports[i]}`;
        fleet.start(0, { listen: listen(0) });
        const bootstrap = `${listen(0)}/p2p/${fleet.ids[0]}`;
        await fleet.addressOf(0, '/ip4/127.0.0.1/', START_TIMEOUT_MS);
        for (let i = 1; i < PEERS; i++) fleet.start(i, { listen: listen(i), bootstrap });
        const codes = await fleet.exits(START_TIMEOUT_MS + 600_000);
        const failed = codes.flatMap((c, i) => (c === 0 ? [] : [i]));
        expect(failed, failed.slice(0, 3).map((i) => fleet.tail(i)).join('\n')).toEqual([]);

        const finals = fleet.dirs.map((_, i) => fleet.metrics(i));
        const everyone = fleet.dirs.map((_, i) => i);
        for (const [i, m] of finals.entries()) {
          // Every round trained, or skipped to catch up with a round the others had reached (a
          // process starved of CPU on 2 shared cores falls behind: that is the catch-up working).
          const text = `peer ${i} reported ${m.length} rounds:\n${fleet.tail(i, 30)}`;
          expect(unconfirmedSkips(fleet, i, everyone.filter((j) => j !== i)), text).toEqual([]);
          expect(unexplainedGaps(m.map((r) => r.round), skipsOf(fleet, i), ROUNDS), text).toEqual([]);
          expect(m.at(-1)!.round, text).toBe(ROUNDS);
          expect(m.at(-1)!.globalMerge).toBe(true);
          expect(m.at(-1)!.activePeers).toBe(PEERS);
        }
        // After the exact merge every process holds the same model, so all score the same.
        const merged = new Set(finals.map((m) => m.at(-1)!.mergedAccuracy));
        expect(merged.size).toBe(1);
        expect([...merged][0]!).toBeGreaterThan(0.5);

        const report: FleetReport & { topology: string } = { topology, ...fleet.report() };
        writeFileSync(join(dir, `scale-${topology}.json`), `${JSON.stringify(report, null, 2)}\n`);
        process.stdout.write(`scale ${topology} (${join(dir, `scale-${topology}.json`)}): ${JSON.stringify(report)}\n`);
        // Every peer accepted every other (the fleet found the time it did).
        expect(Number.isFinite(report.membershipSeconds)).toBe(true);
        // Connections follow the topology: at the round boundaries a peer holds what it wants,
        // plus briefly the peers an exchange dialled on demand; nobody holds the full mesh.
        expect(report.connectionsMean).toBeLessThanOrEqual(WANTED_ABOUT[topology] + 1);
        expect(report.connectionsMaxOfMeans).toBeLessThanOrEqual(2 * WANTED_ABOUT[topology]);
        passed = true;
      } finally {
        fleet.stop();
        // A failed run keeps every peer's peer.log and metrics to read.
        if (passed) rmSync(dir, { recursive: true, force: true });
        else process.stderr.write(`scale ${topology} failed; the peers' logs and metrics are in ${dir}\n`);
      }
    });
  }
});
