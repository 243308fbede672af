// simulations/strategies/RESULTS.md from its sweep: FedAvg, FedProx and SCAFFOLD in server
// rounds, ring gossip, D² and SCAFFOLD over gossip in gossip, all under the same client drift (Dirichlet α, many local
// steps), every setting over the same seeds.
import type { RunData } from '../../../src/report/index.js';
import { lastEvaluated, markdownTable, type ResultsDoc, type Verdict } from '../results.js';
import { describeData } from '../study.js';
import { numStat, pairedText, pctStat, paired, alignSeeds } from '../seed-stats.js';
import { seedValues, setting, type StudySweep } from '../sweep-runs.js';
import { sweepHeader, sweepNote, sweepSeeds } from './header.js';

const finalMerged = (r: RunData) => lastEvaluated(r.metrics).mergedAccuracy as number;

/** One claim "a is ahead of b on every seed", with the paired numbers as evidence. */
function aheadVerdict(s: StudySweep, a: string, b: string, claim: string, conditions: string): Verdict {
  const va = seedValues(setting(s, a), finalMerged);
  const vb = seedValues(setting(s, b), finalMerged);
  const p = paired(...alignSeeds(va, vb));
  return { claim, holds: p.wins === p.n && p.diff > 0, evidence: `Final merged accuracy: ${pairedText(a, va, b, vb)}. ${conditions}.` };
}

export function strategiesResults(s: StudySweep): ResultsDoc {
  const c0 = setting(s, 'fedavg').config;
  const evalRounds = setting(s, 'fedavg').runs[0].metrics.filter((m) => m.mergedAccuracy !== null).map((m) => m.round);
  const at = (r: RunData, round: number) => r.metrics.find((m) => m.round === round)?.mergedAccuracy ?? null;
  const rows = s.settings.map((x) => [
    x.name,
    x.config.mode === 'gossip' ? `gossip, ${x.config.topology.name}` : 'server',
    x.runs.length,
    ...evalRounds.map((round) => pctStat(x.runs.flatMap((r) => (at(r, round) === null ? [] : [at(r, round) as number])))),
    x.config.mode === 'gossip' ? pctStat(x.runs.map((r) => lastEvaluated(r.metrics).localAccuracyMean as number)) : '—',
    numStat(x.runs.map((r) => r.summary.bytesSent / 1e6)),
    numStat(x.runs.map((r) => r.summary.wallSeconds), 0),
  ]);
  const alpha = c0.data.partition.kind === 'dirichlet' ? c0.data.partition.alpha : NaN;
  const conditions = `Dirichlet α = ${alpha}, ${c0.peers} peers, ${c0.rounds} rounds × ${c0.schedule.localSteps} local steps, seeds ${sweepSeeds(s).join(', ')}`;
  const mu = (() => {
    const a = setting(s, 'fedprox-mu-0.1').config.aggregation;
    return a?.name === 'fedprox' ? a.mu : NaN;
  })();
  const verdicts: Verdict[] = [
    aheadVerdict(s, 'scaffold', 'fedavg', 'SCAFFOLD is ahead of FedAvg under client drift (Karimireddy et al. 2020) on every seed', conditions),
    aheadVerdict(s, 'fedprox-mu-0.1', 'fedavg', `FedProx (μ = ${mu}) is ahead of FedAvg under client drift (Li et al. 2020) on every seed`, conditions),
    aheadVerdict(s, 'ring_d2', 'ring_gossip', 'D² (lazy mixing) is ahead of plain ring gossip under client drift (Tang et al. 2018) on every seed', conditions),
    aheadVerdict(s, 'ring_scaffold-gossip', 'ring_gossip', 'SCAFFOLD over gossip (K-GT) is ahead of plain ring gossip under client drift (Liu et al. 2024) on every seed', conditions),
  ];
  return {
    title: `Strategies under client drift (Dirichlet α = ${alpha}, ${c0.schedule.localSteps} local steps)`,
    ...sweepHeader([s]),
    setup: [
      `${describeData(c0)} split over ${c0.peers} peers by Dirichlet(${alpha}) label skew; MLP 784-128-10, SGD lr ${c0.training.optimizer.lr}, batch ${c0.training.batchSize}, ${c0.schedule.localSteps} local steps per round, shared initial model, ${c0.rounds} rounds.`,
      `Server rounds, every peer every round: FedAvg; FedProx with μ = ${mu} (proximal term μ(w − w_round) in every local gradient); SCAFFOLD (option-II control update, server step 1, each client's Δc_i uploaded with its model).`,
      'Gossip over a ring (weights 1/3): plain gossip averaging, D² with its lazy (I + W)/2 mixing (each peer sends ψ_t + x_t − ψ_{t−1}), and SCAFFOLD over gossip (K-GT: option-II control update against a gossip-tracked estimate ĉ_i of c, ĉ_i exchanged with the models; docs/aggregation.md).',
      `"Merged" is the server's model, or in gossip the exact average of all peers' models, evaluated on ${c0.eval.testSamples ?? "all the"} test digits. A seed fixes the split, the initial model and the batches, so each seed is a paired comparison.`,
      'Each cell is the mean ± sample standard deviation over seeds.',
    ],
    tables: [
      {
        caption: 'Merged accuracy by round (mean ± std over seeds)',
        markdown: markdownTable(['setting', 'mode', 'seeds', ...evalRounds.map((r) => `round ${r}`), 'local mean (final)', 'MB sent per run', 'wall s per run'], rows),
      },
    ],
    verdicts,
    notes: [sweepNote([s])],
  };
}
