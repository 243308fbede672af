// One scale run of real peer processes, as plain code (no test framework), so the long suite and
// a many-core host without npm (tests/reliability/scale-main.ts, packed with pack-scale.sh) run
// the same thing: N `gossipfl peer` processes on loopback, logistic regression on a small synthetic
// set, one bootstrap peer; every check the test makes comes back as a line in `problems`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../src/util/free-ports.js';
import { PeerFleet, type FleetReport } from './scale-fleet.js';
import { skipsOf, unconfirmedSkips, unexplainedGaps } from './skips.js';

export const SCALE_ROUNDS = 20;

export interface ScaleOptions {
  readonly peers: number;
  readonly topology: 'ring' | 'exponential';
  /** The peer entry node runs (tests/reliability/scale-peer-cli.ts, bundled). */
  readonly peerBundle: string;
  /** How long the peers wait for each other at start (starting 64 processes on 2 shared cores takes minutes). */
  readonly startTimeoutMs: number;
}

export interface ScaleOutcome {
  readonly report: (FleetReport & { readonly topology: string; readonly wallSeconds: number; readonly mergedAccuracy: number | null }) | null;
  /** What did not hold; empty when the run passed. */
  readonly problems: readonly string[];
  /** The peers' folders (logs, metrics), kept when the run failed. */
  readonly dir: string;
}

function configYaml(peers: number, topology: string): string {
  return `name: scale-${topology}
seed: 11
peers: ${peers}
backend: cpu
rounds: ${SCALE_ROUNDS}
data: { dataset: synthetic, train: ${peers * 50}, test: 200, features: 16, classes: 4 }
model: { kind: logreg }
training: { batchSize: 16, optimizer: { kind: sgd, lr: 0.1 } }
topology: { name: ${topology} }
schedule: { localSteps: 2, merge: { final: true } }
eval: { every: ${SCALE_ROUNDS} }
heterogeneity: { deadlineMs: 30000 }
`;
}

/**
 * Distinct peers a peer wants, about: its two member-ring neighbours and two chords (its own and,
 * on average, one landing on it), plus its topology neighbours in and out beyond those.
 */
export function wantedConnections(topology: string, peers: number): number {
  return topology === 'ring' ? 4 : 2 * Math.ceil(Math.log2(peers)) + 2;
}

/** Starts the fleet, waits for every exit, and checks the run: every round trained or skipped on evidence, one merged model, connections along the topology. */
export async function runScale(opts: ScaleOptions): Promise<ScaleOutcome> {
  const { peers, topology } = opts;
  const dir = mkdtempSync(join(tmpdir(), `gossipfl-scale-${topology}-`));
  const configFile = join(dir, 'run.yaml');
  writeFileSync(configFile, configYaml(peers, topology));
  const fleet = await PeerFleet.prepare(dir, configFile, peers, opts.peerBundle, opts.startTimeoutMs);
  const problems: string[] = [];
  let report: ScaleOutcome['report'] = null;
  const t0 = Date.now();
  try {
    const ports = await freePorts(peers);
    const listen = (i: number) => `/ip4/127.0.0.1/tcp/${ports[i]}`;
    fleet.start(0, { listen: listen(0) });
    const bootstrap = `${listen(0)}/p2p/${fleet.ids[0]}`;
    await fleet.addressOf(0, '/ip4/127.0.0.1/', opts.startTimeoutMs);
    for (let i = 1; i < peers; i++) fleet.start(i, { listen: listen(i), bootstrap });
    const codes = await fleet.exits(opts.startTimeoutMs + 600_000);
    const failed = codes.flatMap((c, i) => (c === 0 ? [] : [i]));
    if (failed.length) {
      problems.push(`peers ${failed.join(', ')} exited non-zero (${failed.map((i) => codes[i]).join(', ')}):\n${failed.slice(0, 3).map((i) => fleet.tail(i)).join('\n')}`);
      return { report, problems, dir };
    }
    const finals = fleet.dirs.map((_, i) => fleet.metrics(i));
    const everyone = fleet.dirs.map((_, i) => i);
    for (const [i, m] of finals.entries()) {
      const last = m.at(-1);
      const where = `peer ${i} (${m.length} rounds reported):\n${fleet.tail(i, 30)}`;
      // Every round trained, or skipped to catch up with a round the others had reached (a
      // process starved of CPU falls behind: that is the catch-up working).
      const unconfirmed = unconfirmedSkips(fleet, i, everyone.filter((j) => j !== i));
      if (unconfirmed.length) problems.push(`skips no other peer confirms: ${JSON.stringify(unconfirmed)} — ${where}`);
      const gaps = unexplainedGaps(m.map((r) => r.round), skipsOf(fleet, i), SCALE_ROUNDS);
      if (gaps.length) problems.push(`rounds missing without a skip: ${gaps.join(', ')} — ${where}`);
      if (last?.round !== SCALE_ROUNDS) problems.push(`last round ${last?.round} instead of ${SCALE_ROUNDS} — ${where}`);
      else if (last.globalMerge !== true) problems.push(`no exact merge at the end — ${where}`);
      else if (last.activePeers !== peers) problems.push(`${last.activePeers} active peers at the end instead of ${peers} — ${where}`);
    }
    // After the exact merge every process holds the same model, so all score the same.
    const merged = new Set(finals.map((m) => m.at(-1)?.mergedAccuracy ?? null));
    const accuracy = merged.size === 1 ? [...merged][0]! : null;
    if (merged.size !== 1) problems.push(`the peers end with ${merged.size} different merged accuracies: ${[...merged].slice(0, 5).join(', ')}`);
    else if (!(accuracy! > 0.5)) problems.push(`merged accuracy ${accuracy} is not above 0.5`);
    report = { topology, ...fleet.report(), wallSeconds: (Date.now() - t0) / 1000, mergedAccuracy: accuracy };
    if (!Number.isFinite(report.membershipSeconds)) problems.push('not every peer accepted every other');
    // Connections follow the topology: at the round boundaries a peer holds what it wants, plus
    // briefly the peers an exchange dialled on demand; nobody holds the full mesh.
    const wanted = wantedConnections(topology, peers);
    if (!(report.connectionsMean <= wanted + 1)) problems.push(`mean connections per peer ${report.connectionsMean} above ${wanted + 1}`);
    if (!(report.connectionsMaxOfMeans <= 2 * wanted)) problems.push(`a peer's mean connections ${report.connectionsMaxOfMeans} above ${2 * wanted}`);
    return { report, problems, dir };
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
    return { report, problems, dir };
  } finally {
    fleet.stop();
    // A failed run keeps every peer's peer.log and metrics to read.
    if (problems.length === 0) rmSync(dir, { recursive: true, force: true });
  }
}
