// simulations/merging/RESULTS.md from its sweep: gossip every round, sparse pull spent evenly,
// late or early (each + one final merge) and FedAvg, every setting over the same seeds.
import type { RunData } from '../../../src/report/index.js';
import { totalBudget } from '../../../src/schedule/budget.js';
import { bytesBeforeLastRound, everyRounds, lastEvaluated, markdownTable, megabytes, pct, points, type ResultsDoc, type Verdict } from '../results.js';
import { describeData } from '../study.js';
import { mean, numStat, pairedText, pctStat, perSeed, ptsStat } from '../seed-stats.js';
import { seedValues, setting, type StudySweep } from '../sweep-runs.js';
import { sweepHeader, sweepNote, sweepSeeds } from './header.js';
import { alphaOf, budgetText, describeSchedule, MIN_MERGE_LIFT, REFERENCE } from '../../merging/run.js';

const finalMerged = (r: RunData) => lastEvaluated(r.metrics).mergedAccuracy as number;
const preMerge = (r: RunData) => r.summary.preMergeLocalAccuracyMean as number;

export function mergingResults(s: StudySweep): ResultsDoc {
  const even = setting(s, 'pull-even');
  const c0 = even.config;
  const rows = s.settings.map((x) => {
    const c = x.config;
    const budget = c.schedule.budget;
    const gossip = c.mode !== 'federated';
    return [
      x.id,
      describeSchedule(c),
      x.runs.length,
      budget ? totalBudget(budget, c.rounds).toFixed(1) : '—',
      numStat(x.runs.map((r) => bytesBeforeLastRound(r.metrics) / 1e6)),
      gossip ? pctStat(x.runs.map(preMerge)) : '—',
      pctStat(x.runs.map(finalMerged)),
      gossip ? ptsStat(x.runs.map((r) => finalMerged(r) - preMerge(r))) : '—',
      numStat(x.runs.map((r) => r.summary.wallSeconds), 0),
    ];
  });

  const merged = (id: string) => seedValues(setting(s, id), finalMerged);
  const evenMerged = merged('pull-even');
  const evenPre = even.runs.map(preMerge);
  const lifts = evenMerged.values.map((m, k) => m - evenPre[k]);
  const late = merged('pull-late');
  const early = merged('pull-early');
  const fedavg = merged('fedavg');
  const seedText = `seeds ${sweepSeeds(s).join(', ')}`;
  const conditions = `α = ${alphaOf(c0)}, ${c0.peers} peers, ${c0.rounds} rounds × ${c0.schedule.localSteps} local steps, ${seedText}`;
  const fedavgRun = setting(s, 'fedavg').runs[0];
  const verdicts: Verdict[] = [
    {
      claim: `Sparse gossip (random pull, r = 0.2) + one final merge: the merge lifts accuracy by ≥ ${(MIN_MERGE_LIFT * 100).toFixed(0)} points`,
      holds: lifts.every((l) => l >= MIN_MERGE_LIFT),
      evidence:
        `Mean local accuracy just before the merge ${perSeed(evenPre)}, merged model ${perSeed(evenMerged.values)}: lift ${lifts.map((l) => points(l)).join(', ')} ` +
        `(${ptsStat(lifts)}; ${conditions}). Independent reference: about ${pct(REFERENCE.preMerge, 0)} → ${pct(REFERENCE.merged, 0)}.`,
    },
    {
      claim: 'The merged sparse-gossip model comes close to FedAvg at equal local compute',
      holds: mean(fedavg.values) - mean(evenMerged.values) <= 0.1,
      evidence:
        `Merged ${pctStat(evenMerged.values)} vs FedAvg ${pctStat(fedavg.values)} ("close" taken as within 10 points; reference ${pct(REFERENCE.merged, 0)} vs ${pct(REFERENCE.fedavg, 0)}); ` +
        `${pairedText('even', evenMerged, 'FedAvg', fedavg)}; with ${numStat(even.runs.map((r) => bytesBeforeLastRound(r.metrics) / 1e6))} MB sent before the merge vs ${megabytes(fedavgRun.summary.bytesSent)} MB for FedAvg.`,
    },
    {
      claim: 'At equal total budget, spending it in the last 20 % of rounds beats spending it evenly (merged accuracy after the final merge)',
      holds: mean(late.values) > mean(evenMerged.values),
      evidence:
        `late ${perSeed(late.values, 2)} vs even ${perSeed(evenMerged.values, 2)} (${seedText}); ${pairedText('late', late, 'even', evenMerged)}. ` +
        `Budget ${c0.schedule.budget ? totalBudget(c0.schedule.budget, c0.rounds).toFixed(1) : '?'} expected pulls per peer for both (${conditions}).`,
    },
    {
      claim: 'At equal total budget, late beats early (the single-merging paper’s claim)',
      holds: mean(late.values) > mean(early.values),
      evidence: `late ${perSeed(late.values, 2)} vs early ${perSeed(early.values, 2)}; ${pairedText('late', late, 'early', early)}. Same budget and conditions.`,
    },
  ];

  return {
    title: 'Merging schedules: gossip every round, sparse gossip + one final merge, FedAvg',
    ...sweepHeader([s]),
    setup: [
      `${describeData(c0)}, Dirichlet α = ${alphaOf(c0)} over ${c0.peers} peers; MLP 784-128-10, SGD lr 0.05, batch ${c0.training.batchSize}, shared initial model; every setting runs with ${seedText} (a seed fixes the split, the initial model, the batches and the pulls).`,
      `Equal local compute: every run trains ${c0.rounds} rounds × ${c0.schedule.localSteps} local steps per peer.`,
      'Random pull with budget r: each round each peer averages uniformly with itself and ⌊r⌋ random other peers (plus one more with probability r − ⌊r⌋). The final round replaces its gossip with an exact average of all peers (the "final merge").',
      `Budgets: even = r ${budgetText(c0)}, late = ${budgetText(setting(s, 'pull-late').config)}, early = ${budgetText(setting(s, 'pull-early').config)}; the late and early configs hold the values \`equalBudget\` gives for the even run's total over ${c0.rounds} rounds.`,
      'Because the last round is the merge, its gossip is not spent: the "MB sent before the last round" column is what was actually sent before the merge (random pulls, so it varies around the expected budget).',
      `"Local before merge" is the mean test accuracy of the peers' own models just before the final merge; "merged" the accuracy after it (FedAvg: the server model); "merge lift" the difference, per seed. Evaluated ${everyRounds(c0.eval.every)} and at the merge on ${c0.eval.testSamples ?? 'all'} test digits. Each cell is the mean ± sample standard deviation over seeds.`,
    ],
    tables: [
      {
        caption: 'Results (mean ± std over seeds)',
        markdown: markdownTable(['setting', 'schedule', 'seeds', 'total budget (pulls/peer)', 'MB sent before the last round', 'local before merge', 'merged (final)', 'merge lift', 'wall s per run'], rows),
      },
    ],
    verdicts,
    notes: [sweepNote([s])],
  };
}
