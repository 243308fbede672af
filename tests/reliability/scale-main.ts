// The scale run without a test framework, for a many-core host without npm (packed with
// tests/reliability/pack-scale.sh):
//   node scale.mjs --peer-bundle peer.mjs [--peers 64] [--topology ring|exponential|both] [--out scale.json]
// Prints each topology's report and problems, writes them all as JSON to --out, exits 1 if any
// check failed. The peers run from --peer-bundle with this process's node.
import '../../src/util/polyfills.js';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runScale, type ScaleOutcome } from './scale-run.js';

const { values } = parseArgs({
  options: {
    'peer-bundle': { type: 'string' },
    peers: { type: 'string', default: '64' },
    topology: { type: 'string', default: 'both' },
    out: { type: 'string', default: 'scale.json' },
    'start-timeout': { type: 'string', default: '300000' },
  },
});
const peers = Number(values.peers);
const TOPOLOGIES = ['ring', 'exponential'] as const;
const topologies = TOPOLOGIES.filter((t) => values.topology === 'both' || values.topology === t);
if (!values['peer-bundle'] || !Number.isInteger(peers) || peers < 2 || topologies.length === 0) {
  process.stderr.write('usage: scale.mjs --peer-bundle FILE [--peers N>=2] [--topology ring|exponential|both] [--out FILE] [--start-timeout MS]\n');
  process.exit(2);
}
const results: Array<{ topology: string } & ScaleOutcome> = [];
for (const topology of topologies) {
  const outcome = await runScale({ peers, topology, peerBundle: resolve(values['peer-bundle']), startTimeoutMs: Number(values['start-timeout']) });
  process.stdout.write(`scale ${topology}: ${JSON.stringify(outcome.report)}\n`);
  for (const p of outcome.problems) process.stdout.write(`  problem: ${p}\n`);
  results.push({ topology, ...outcome });
}
const host = { cores: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
writeFileSync(values.out!, `${JSON.stringify({ date: new Date().toISOString(), host, peers, results }, null, 2)}\n`);
process.exitCode = results.some((r) => r.problems.length) ? 1 : 0;
