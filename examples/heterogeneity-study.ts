// Heterogeneity study: how label skew (Dirichlet α) changes what gossip learning reaches.
// One simulation per α, each into its own run folder, then one report that overlays them.
//   npx tsx examples/heterogeneity-study.ts [--quick] [--out DIR]
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig, RunDirectory, simulate, writeReport } from '../src/index.js'; // in your project: 'gossipfl'

const { values: args } = parseArgs({ options: { quick: { type: 'boolean' }, out: { type: 'string' } } });
const quick = args.quick ?? false; // a tiny setting, for CI
const out = args.out ?? 'runs/heterogeneity-study';
const alphas = quick ? [0.1, 10] : [0.05, 0.1, 0.5, 1, 10];
const dirs: string[] = [];

for (const alpha of alphas) {
  const config = parseConfig({
    name: `α = ${alpha}`,
    peers: quick ? 4 : 16,
    rounds: quick ? 2 : 30,
    backend: quick ? 'cpu' : 'auto',
    data: { dataset: 'mnist', train: quick ? 400 : 8000, test: quick ? 200 : 2000, partition: { kind: 'dirichlet', alpha } },
    model: { kind: 'mlp', hidden: [64] },
    topology: { name: 'ring' },
    schedule: { localSteps: quick ? 2 : 10, merge: { final: true } },
  });
  const dir = new RunDirectory(join(out, `alpha-${alpha}`), { overwrite: true });
  const { summary, partition } = await simulate(config, { onRound: (m) => dir.appendRound(m) });
  dir.writeSummary({ ...summary, label: config.name }, partition);
  const pct = (x: number | null | undefined) => (x == null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
  console.log(`α = ${alpha}: local models ${pct(summary.preMergeLocalAccuracyMean)} before the final merge, merged ${pct(summary.mergedAccuracy)}`);
  dirs.push(dir.dir);
}
console.log(`report: ${(await writeReport(dirs, join(out, 'report.html'))).html}`);
