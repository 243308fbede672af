// Separate hosts for real: each peer in its own network namespace with its own address on a
// bridged network, so peers talk as separate machines do (no loopback, no shared interface).
// Three start the run; a fourth joins late through the bootstrap address of a peer other than
// the first; one host sends with added latency (tc netem) when tc can. All stop by themselves
// after an exact merge. Root only: skipped with the reason otherwise.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labUnavailable, NetnsLab, removeStale } from './netns-lab.js';
import { bundlePeerCli, PeerFleet, until } from './scale-fleet.js';

const START = 3;
const ROUNDS = 40;
const PORT = 4101;
const DELAY_MS = 60;
const START_TIMEOUT_MS = 300_000;
/** The late peer starts once the others have finished this many rounds. */
const JOIN_AFTER_ROUND = 3;

const unavailable = labUnavailable();

const config = `name: netns
seed: 13
peers: ${START}
backend: cpu
rounds: ${ROUNDS}
data: { dataset: synthetic, train: 600, test: 200, features: 16, classes: 4 }
model: { kind: logreg }
training: { batchSize: 16, optimizer: { kind: sgd, lr: 0.1 } }
topology: { name: ring }
schedule: { localSteps: 2, merge: { final: true } }
eval: { every: ${ROUNDS} }
heterogeneity: { deadlineMs: 15000 }
# Peer 0 waits 1.5 s per round, so the run lasts long enough for a late peer's process to start and join.
timing: { slowPeers: [{ peer: 0, delayMs: 1500 }] }
`;

describe.skipIf(unavailable !== null)(`peers in network namespaces${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new NetnsLab(START + 1);
  let dir = '';
  beforeAll(() => {
    removeStale();
    lab.create();
    dir = mkdtempSync(join(tmpdir(), 'gossipfl-netns-'));
  });
  afterAll(() => {
    lab.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('start on their own addresses, one joins late through a bootstrap address, one behind added latency; all merge and stop', async () => {
    const configFile = join(dir, 'run.yaml');
    writeFileSync(configFile, config);
    const fleet = await PeerFleet.prepare(dir, configFile, START + 1, await bundlePeerCli(), START_TIMEOUT_MS);
    try {
      const delayed = START - 1;
      const latency = lab.addLatency(delayed, DELAY_MS);
      if (latency === null) expect(lab.qdisc(delayed)).toContain(`delay ${DELAY_MS}ms`);
      else process.stdout.write(`netns: no added latency (${latency})\n`);
      const host = (i: number) => lab.hosts[i];
      const listen = (i: number) => `/ip4/${host(i).address}/tcp/${PORT}`;
      const at = (i: number) => `${listen(i)}/p2p/${fleet.ids[i]}`;
      fleet.start(0, { listen: listen(0), wrap: host(0).wrap, shard: `0/${START}` });
      // Each prints its own address only: it listens on its host's eth0, nowhere else.
      expect(await fleet.addressOf(0, '/ip4/', START_TIMEOUT_MS)).toBe(at(0));
      for (let i = 1; i < START; i++) fleet.start(i, { listen: listen(i), bootstrap: at(0), wrap: host(i).wrap, shard: `${i}/${START}` });

      // The late peer bootstraps from peer 1, not the first peer, once the run is under way.
      const late = START;
      const roundOf = (i: number) => Math.max(0, ...fleet.lines(i).flatMap((l) => /^round (\d+)\//.exec(l)?.[1] ?? []).map(Number));
      await until(() => roundOf(0) >= JOIN_AFTER_ROUND, START_TIMEOUT_MS, `round ${JOIN_AFTER_ROUND} of the start set`);
      fleet.start(late, { listen: listen(late), bootstrap: at(1), wrap: host(late).wrap, shard: `0/${START}` });

      const codes = await fleet.exits(600_000);
      expect(codes, [0, 1, 2, 3].map((i) => fleet.tail(i, 8)).join('\n')).toEqual([0, 0, 0, 0]);
      for (let i = 0; i <= late; i++) expect(fleet.lines(i).some((l) => l === `peer ${fleet.ids[i]} listening on ${at(i)}`)).toBe(true);

      const metrics = [0, 1, 2, 3].map((i) => fleet.metrics(i));
      for (const m of metrics) {
        expect(m.at(-1)!.round).toBe(ROUNDS);
        expect(m.at(-1)!.globalMerge).toBe(true);
        expect(m.at(-1)!.activePeers).toBe(START + 1);
      }
      // The late peer's first round came after the others had run several.
      expect(metrics[late][0].round).toBeGreaterThan(JOIN_AFTER_ROUND);
      // One model after the exact merge, on every host.
      expect(new Set(metrics.map((m) => m.at(-1)!.mergedAccuracy)).size).toBe(1);
      const rounds = metrics.map((m) => m.slice(1).map((r, k) => r.wallSeconds - m[k].wallSeconds));
      const medians = rounds.map((g) => [...g].sort((a, b) => a - b)[g.length >> 1]);
      process.stdout.write(`netns: ${START + 1} hosts ${lab.hosts.map((h) => h.address).join(' ')}; late peer joined at round ${metrics[late][0].round}; ` +
        `latency ${latency === null ? `${DELAY_MS} ms on ${host(delayed).address}` : 'none'}; median round s ${medians.map((s) => s.toFixed(2)).join(' ')}\n`);
    } finally {
      fleet.stop();
    }
  });
});
