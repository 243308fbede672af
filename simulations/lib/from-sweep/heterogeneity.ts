// simulations/heterogeneity/RESULTS.md from its sweep: FedAvg and ring gossip under label skew,
// mean ± std over seeds, the two FedAvg targets and the two skew observations.
import type { RunData } from '../../../src/report/index.js';
import { everyRounds, lastEvaluated, markdownTable, pct, type ResultsDoc, type Verdict } from '../results.js';
import { describeData } from '../study.js';
import { countAtLeast, mean, numStat, pairedText, pctStat, perSeed } from '../seed-stats.js';
import { seedValues, setting, type SettingRuns, type StudySweep } from '../sweep-runs.js';
import { sweepHeader, sweepNote, sweepSeeds } from './header.js';
import { TARGETS } from '../../heterogeneity/run.js';


const finalMerged = (r: RunData) => lastEvaluated(r.metrics).mergedAccuracy as number;
const finalLocal = (r: RunData) => lastEvaluated(r.metrics).localAccuracyMean as number;
const bestMerged = (r: RunData) => Math.max(...r.metrics.flatMap((m) => (m.mergedAccuracy === null ? [] : [m.mergedAccuracy])));

export function heterogeneityResults(s: StudySweep): ResultsDoc {
  const c0 = s.settings[0].config;
  const col = (x: SettingRuns, f: (r: RunData) => number) => x.runs.map(f);
  const rows = s.settings.map((x) => {
    const c = x.config;
    const part = c.data.partition;
    return [
      x.id,
      c.mode === 'federated' ? 'FedAvg' : 'ring gossip',
      part.kind === 'dirichlet' ? String(part.alpha) : part.kind,
      x.runs.length,
      pctStat(col(x, finalMerged)),
      pctStat(col(x, finalLocal)),
      pctStat(col(x, (r) => lastEvaluated(r.metrics).localAccuracyStd ?? 0)),
      pctStat(col(x, bestMerged)),
      numStat(col(x, (r) => r.summary.bytesSent / 1e6)),
      numStat(col(x, (r) => r.summary.wallSeconds), 0),
    ];
  });

  const verdicts: Verdict[] = TARGETS.map((t) => {
    const x = setting(s, t.id);
    const acc = col(x, finalMerged);
    return {
      claim: `FedAvg reaches ≥ ${pct(t.min, 0)} merged accuracy with ${t.label} data`,
      holds: mean(acc) >= t.min,
      evidence:
        `Measured ${pctStat(acc, 2)} over seeds ${x.seeds.join(', ')} (${perSeed(acc, 2)}; ${countAtLeast(acc, t.min)} seeds at or above ${pct(t.min, 0)}; independent reference ${pct(t.reference)}), ` +
        `after ${c0.rounds} rounds, ${c0.peers} peers, ${c0.schedule.localSteps} local SGD steps per round, batch ${c0.training.batchSize}.`,
    };
  });
  verdicts.push(skewVerdict(s, 'fedavg', 'FedAvg'), skewVerdict(s, 'ring', 'Ring gossip'));

  return {
    title: 'Heterogeneity sweep: FedAvg and ring gossip under label skew',
    ...sweepHeader([s]),
    setup: [
      `${describeData(c0)}; label skew by Dirichlet(α) over ${c0.peers} peers (partition.json of each run holds the per-peer label histograms).`,
      `MLP 784-128-10, SGD lr 0.05, batch ${c0.training.batchSize}, ${c0.rounds} rounds × ${c0.schedule.localSteps} local steps, one shared initial model; seeds ${sweepSeeds(s).join(', ')} per setting (a seed fixes the split, the initial model and the batches).`,
      'FedAvg: every peer trains from the server model each round; the server averages weighted by sample counts. Ring gossip: after each round every peer averages with its two ring neighbours (Metropolis–Hastings weights 1/3); no exact merge.',
      `"Merged" is the server model (FedAvg) or the exact average of all peers' models (gossip); "local" is the mean over peers of each peer's own model, "local std over peers" its spread across peers. Evaluated ${everyRounds(c0.eval.every)} on ${c0.eval.testSamples ?? 'all'} held-out test digits.`,
      'Each cell is the mean ± sample standard deviation over seeds.',
    ],
    tables: [
      {
        caption: 'Final accuracy (mean ± std over seeds)',
        markdown: markdownTable(['setting', 'method', 'α', 'seeds', 'merged (final)', 'local mean (final)', 'local std over peers (final)', 'merged (best evaluated)', 'MB sent', 'wall s per run'], rows),
      },
    ],
    verdicts,
    notes: [sweepNote([s])],
  };
}

/** How much a method loses from α = 100 to α = 0.05, paired by seed. */
function skewVerdict(s: StudySweep, prefix: string, label: string): Verdict {
  const at = (alpha: string, f: (r: RunData) => number) => seedValues(setting(s, `${prefix}-alpha-${alpha}`), f);
  const [mild, mid, harsh] = ['100', '0.5', '0.05'].map((a) => at(a, finalMerged));
  const [lMild, lMid, lHarsh] = ['100', '0.5', '0.05'].map((a) => at(a, finalLocal));
  return {
    claim: `${label} loses merged accuracy as label skew grows (α = 100 → 0.5 → 0.05)`,
    holds: mean(mild.values) > mean(harsh.values),
    evidence:
      `Merged ${pctStat(mild.values)} → ${pctStat(mid.values)} → ${pctStat(harsh.values)}; ${pairedText('α 0.05', harsh, 'α 100', mild)}; ` +
      `from α = 100 to 0.5: ${pairedText('α 0.5', mid, 'α 100', mild)}. Local mean ${pctStat(lMild.values)} → ${pctStat(lMid.values)} → ${pctStat(lHarsh.values)}.`,
  };
}
