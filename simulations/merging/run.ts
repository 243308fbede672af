// Merging schedules at equal local compute, Dirichlet α = 0.1: gossip every round on a ring,
// sparse random pull (r = 0.2) + one final exact merge, and FedAvg; plus the same total pull
// budget spent evenly, in the last 20 % of rounds, or in the first 20 % (each + final merge).
// Run: npx tsx simulations/merging/run.ts [--quick]
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig, type RunConfig } from '../../src/peer/config.js';
import type { RunData } from '../../src/report/index.js';
import { equalBudget, totalBudget, type BudgetSpec } from '../../src/schedule/budget.js';
import { ConfigError } from '../../src/util/errors.js';
import { describeData, isMain, loadStudyConfigs, reportNote, runStudy, studyMain, beginStudy, resultsHeader, withSeed, type StudyOptions, type StudyOutcome } from '../lib/study.js';
import { bytesBeforeLastRound, everyRounds, lastEvaluated, markdownTable, megabytes, pct, points, writeResults, type Verdict } from '../lib/results.js';

const STUDY = 'merging';
const HERE = dirname(fileURLToPath(import.meta.url));

const RUNS = [
  { id: 'fedavg', file: 'fedavg.yaml' },
  { id: 'ring-every-round', file: 'ring-every-round.yaml' },
  { id: 'pull-even', file: 'pull-even.yaml' },
  { id: 'pull-late', file: 'pull-late.yaml' },
  { id: 'pull-early', file: 'pull-early.yaml' },
] as const;

/** The bar for the lift of the single final merge, and the independent reference numbers. */
export const MIN_MERGE_LIFT = 0.2;
export const REFERENCE = { preMerge: 0.53, merged: 0.81, fedavg: 0.88 };
/** The three pull schedules of equal budget each run with these seeds (a seed fixes the split, the batches and the pulls). */
export const BUDGET_SEEDS = [1, 2, 3] as const;
const SEEDED: readonly string[] = ['pull-even', 'pull-late', 'pull-early'];

export interface MergingOutcome extends StudyOutcome {
  configs: Map<string, RunConfig>;
}

/** The run's config with its budget rescaled to spend exactly what `reference` spends over the run's rounds. */
export function withEqualBudget(config: RunConfig, reference: BudgetSpec): RunConfig {
  const own = config.schedule.budget;
  if (!own) throw new ConfigError(`${config.name}: schedule.budget is needed to match the reference budget`);
  const budget = equalBudget(reference, own, config.rounds);
  return parseConfig({ ...config, schedule: { ...config.schedule, budget } }, config.name);
}

export async function runMerging(opts: StudyOptions): Promise<MergingOutcome> {
  const ctx = beginStudy(STUDY, HERE, opts);
  const { paths, log } = ctx;
  const loaded = loadStudyConfigs(HERE, RUNS.map((r) => r.file), opts.quick);
  const configs = new Map<string, RunConfig>(RUNS.map((r, i) => [r.id, loaded[i]]));
  const even = configs.get('pull-even')!.schedule.budget!;
  for (const id of ['pull-late', 'pull-early'] as const) configs.set(id, withEqualBudget(configs.get(id)!, even));
  // The budget comparison is the close one, so its three schedules run with several seeds.
  const seeds = opts.quick ? BUDGET_SEEDS.slice(0, 1) : BUDGET_SEEDS;
  const plan = RUNS.flatMap((r) =>
    SEEDED.includes(r.id) ? seeds.map((seed) => ({ id: `${r.id}-seed${seed}`, config: withSeed(configs.get(r.id)!, seed) })) : [{ id: r.id, config: configs.get(r.id)! }],
  );
  for (const p of plan) configs.set(p.id, p.config);
  const runs = await runStudy(plan, paths, log);
  const c0 = configs.get('pull-even')!;

  const final = (id: string) => lastEvaluated(runs.get(id)!.metrics).mergedAccuracy!;
  const preMerge = (id: string) => runs.get(id)!.summary.preMergeLocalAccuracyMean!;
  const rows = plan.map(({ id }) => {
    const c = configs.get(id)!;
    const run = runs.get(id)!;
    const pre = run.summary.preMergeLocalAccuracyMean ?? null;
    const budget = c.schedule.budget;
    return [
      id,
      describeSchedule(c),
      budget ? totalBudget(budget, c.rounds).toFixed(1) : '—',
      megabytes(bytesBeforeLastRound(run.metrics)),
      c.mode === 'federated' ? '—' : pct(pre),
      pct(final(id)),
      pre === null ? '—' : points(final(id) - pre),
      run.summary.wallSeconds.toFixed(0),
    ];
  });

  const ids = (schedule: string) => seeds.map((s) => `${schedule}-seed${s}`);
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  const list = (xs: number[], f: (x: number) => string) => xs.map(f).join(', ');
  const evenMerged = ids('pull-even').map(final);
  const evenPre = ids('pull-even').map(preMerge);
  const lifts = evenMerged.map((m, k) => m - evenPre[k]);
  const late = ids('pull-late').map(final);
  const early = ids('pull-early').map(final);
  const fedavg = final('fedavg');
  const seedText = `seed${seeds.length > 1 ? 's' : ''} ${seeds.join(', ')}`;
  const conditions = `α = ${alphaOf(c0)}, ${c0.peers} peers, ${c0.rounds} rounds × ${c0.schedule.localSteps} local steps, ${seedText}`;
  const wins = (a: number[], b: number[]) => a.filter((x, k) => x > b[k]).length;
  const compare = (name: string, a: number[], otherName: string, b: number[]) =>
    `${name} ${list(a, (x) => pct(x, 2))} vs ${otherName} ${list(b, (x) => pct(x, 2))} (${seedText}); means ${pct(mean(a), 2)} vs ${pct(mean(b), 2)} (${points(mean(a) - mean(b))}); ` +
    `${name} wins on ${wins(a, b)} of ${a.length} seed${a.length > 1 ? 's' : ''}, so ${mean(a) > mean(b) ? name : mean(a) < mean(b) ? otherName : 'neither'} wins on average here.`;
  const evenRun = runs.get(ids('pull-even')[0])!;
  const verdicts: Verdict[] = [
    {
      claim: `Sparse gossip (random pull, r = 0.2) + one final merge: the merge lifts accuracy by ≥ ${(MIN_MERGE_LIFT * 100).toFixed(0)} points`,
      holds: lifts.every((l) => l >= MIN_MERGE_LIFT),
      evidence:
        `Mean local accuracy just before the merge ${list(evenPre, (x) => pct(x))}, merged model ${list(evenMerged, (x) => pct(x))}: lift ${list(lifts, (x) => points(x))} (${conditions}). ` +
        `Independent reference: about ${pct(REFERENCE.preMerge, 0)} → ${pct(REFERENCE.merged, 0)}.`,
    },
    {
      claim: 'The merged sparse-gossip model comes close to FedAvg at equal local compute',
      holds: fedavg - mean(evenMerged) <= 0.1,
      evidence:
        `Merged ${pct(mean(evenMerged))} (mean over seeds) vs FedAvg ${pct(fedavg)} (seed 1; ${points(mean(evenMerged) - fedavg)}; "close" taken as within 10 points; reference ${pct(REFERENCE.merged, 0)} vs ${pct(REFERENCE.fedavg, 0)}), ` +
        `with ${megabytes(bytesBeforeLastRound(evenRun.metrics))} MB sent before the merge vs ${megabytes(runs.get('fedavg')!.summary.bytesSent)} MB for FedAvg.`,
    },
    {
      claim: 'At equal total budget, spending it in the last 20 % of rounds beats spending it evenly (merged accuracy after the final merge)',
      holds: mean(late) > mean(evenMerged),
      evidence: `${compare('late', late, 'even', evenMerged)} Budget ${totalBudget(even, c0.rounds).toFixed(1)} expected pulls per peer for both (${conditions}).`,
    },
    {
      claim: 'At equal total budget, late beats early (the single-merging paper’s claim)',
      holds: mean(late) > mean(early),
      evidence: `${compare('late', late, 'early', early)} Same budget and conditions.`,
    },
  ];

  writeResults(paths.resultsFile, {
    title: 'Merging schedules: gossip every round, sparse gossip + one final merge, FedAvg',
    ...resultsHeader(STUDY, opts, ctx, evenRun.summary.backend),
    setup: [
      `${describeData(c0)}, Dirichlet α = ${alphaOf(c0)} over ${c0.peers} peers; MLP 784-128-10, SGD lr 0.05, batch ${c0.training.batchSize}, shared initial model, seed ${c0.seed}.`,
      `Equal local compute: every run trains ${c0.rounds} rounds × ${c0.schedule.localSteps} local steps per peer.`,
      'Random pull with budget r: each round each peer averages uniformly with itself and ⌊r⌋ random other peers (plus one more with probability r − ⌊r⌋). The final round replaces its gossip with an exact average of all peers (the "final merge").',
      `Budgets: even = r ${budgetText(configs.get('pull-even')!)}, late = ${budgetText(configs.get('pull-late')!)}, early = ${budgetText(configs.get('pull-early')!)}; late and early are rescaled with \`equalBudget\` to the even run's total over ${c0.rounds} rounds.`,
      'Because the last round is the merge, its gossip is not spent: the late schedule loses one round of r at its high value, the even one a round of r at 0.2 — the "MB sent before the last round" column is what was actually sent before the merge (random pulls, so it varies around the expected budget).',
      `"Local before merge" is the mean test accuracy of the peers' own models just before the final merge; "merged" the accuracy after it (FedAvg: the server model). Evaluated ${everyRounds(c0.eval.every)} and at the merge on ${c0.eval.testSamples ?? 'all'} test digits. FedAvg and the ring run once (seed 1); the three pull schedules run with ${seedText}.`,
    ],
    tables: [
      {
        caption: 'Results',
        markdown: markdownTable(
          ['run', 'schedule', 'total budget (pulls/peer)', 'MB sent before the last round', 'local before merge', 'merged (final)', 'merge lift', 'wall s'],
          rows,
        ),
      },
    ],
    verdicts,
    notes: [reportNote(paths)],
  });
  return { resultsFile: paths.resultsFile, reportFile: paths.reportFile, runs, configs, verdicts };
}

export function alphaOf(c: RunConfig): string {
  const p = c.data.partition;
  return p.kind === 'dirichlet' ? String(p.alpha) : p.kind;
}

export function budgetText(c: RunConfig): string {
  const b = c.schedule.budget;
  if (!b) return 'none';
  const f = (x: number) => String(Number(x.toFixed(4)));
  switch (b.shape) {
    case 'fixed':
      return `${f(b.r)} every round`;
    case 'truncate':
      return `${f(b.rStart)} before progress ${b.p1}, ${f(b.rEnd)} from it on`;
    default:
      return JSON.stringify(b);
  }
}

export function describeSchedule(c: RunConfig): string {
  if (c.mode === 'federated') return 'FedAvg, all peers every round';
  const merge = c.schedule.merge?.final ? ' + final merge' : '';
  if (c.topology.name === 'pull') return `random pull, r ${budgetText(c)}${merge}`;
  return `${c.topology.name} gossip every round${merge}`;
}

if (isMain(import.meta.url)) await studyMain(runMerging);
