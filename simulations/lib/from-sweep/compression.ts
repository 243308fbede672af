// simulations/compression/RESULTS.md from its sweep: compressed federated uploads at (about)
// equal bytes per message, merged accuracy as mean ± std over seeds, ranked with paired gaps.
import { denseBytes, isGroupMethod } from '../../../src/compression/index.js';
import { buildModel } from '../../../src/model/zoo.js';
import type { RunData } from '../../../src/report/index.js';
import { equalBytesVerdict, everyRounds, lastEvaluated, markdownTable, type ResultsDoc, type Verdict } from '../results.js';
import { describeData } from '../study.js';
import { mean, numStat, pairedText, pctStat } from '../seed-stats.js';
import { seedValues, setting, type StudySweep } from '../sweep-runs.js';
import { sweepHeader, sweepNote, sweepSeeds } from './header.js';
import { messageBytes, sizeKnob } from '../../compression/calibrate.js';
import { measuredMessageBytes, partitionText } from '../../compression/run.js';

const finalMerged = (r: RunData) => lastEvaluated(r.metrics).mergedAccuracy as number;

export function compressionResults(s: StudySweep): ResultsDoc {
  const c0 = setting(s, 'identity').config;
  // MNIST digits are 28×28×1 with 10 classes; the layout is all the compressors look at.
  const layout = buildModel(c0.model, [28, 28, 1], 10).layout;
  const size = new Map(s.settings.map((x) => [x.id, messageBytes(x.config.compression, layout, x.config.seed)]));
  const dense = size.get('identity') as number;
  const P = c0.peers;
  const rows = s.settings.map((x) => {
    const c = x.config;
    const knob = sizeKnob(c.compression.method);
    const knobText = knob ? `${knob} ${(c.compression as Record<string, unknown>)[knob]}` : '—';
    return [
      x.id,
      `${c.compression.method}${c.compression.errorFeedback !== 'none' ? ` + ${c.compression.errorFeedback}` : ''}`,
      knobText + (c.compression.method === 'arc-top-k' ? `, sketchRank ${c.compression.sketchRank ?? 4}` : ''),
      x.runs.length,
      size.get(x.id) as number,
      `${(dense / (size.get(x.id) as number)).toFixed(1)}×`,
      numStat(x.runs.map((r) => measuredMessageBytes(r, P, dense, isGroupMethod(c.compression.method))), 0),
      numStat(x.runs.map((r) => r.summary.bytesSent / 1e6)),
      pctStat(x.runs.map(finalMerged)),
      pctStat(x.runs.map((r) => Math.max(...r.metrics.flatMap((m) => (m.mergedAccuracy === null ? [] : [m.mergedAccuracy]))))),
      numStat(x.runs.map((r) => r.summary.wallSeconds), 0),
    ];
  });

  const compressed = s.settings.filter((x) => x.id !== 'identity').map((x) => ({ id: x.id, acc: seedValues(x, finalMerged), bytes: size.get(x.id) as number }));
  const ranked = [...compressed].sort((a, b) => mean(b.acc.values) - mean(a.acc.values));
  const identity = seedValues(setting(s, 'identity'), finalMerged);
  const seedText = `seeds ${sweepSeeds(s).join(', ')}`;
  const conditions = `FedAvg, ${P} peers, ${c0.rounds} rounds × ${c0.schedule.localSteps} local steps, ${partitionText(c0)}, ${seedText}`;
  const neighbours = ranked.slice(1).map((x, k) => pairedText(ranked[k].id, ranked[k].acc, x.id, x.acc));
  const verdicts: Verdict[] = [
    equalBytesVerdict(compressed, dense),
    {
      claim: 'Ranking at equal bytes (merged accuracy after the last round)',
      holds: null,
      evidence:
        `${ranked.map((x) => `${x.id} ${pctStat(x.acc.values)}`).join(' > ')}; dense uploads ${pctStat(identity.values)} (${conditions}). ` +
        `Best compressed vs dense: ${pairedText(ranked[0].id, ranked[0].acc, 'dense', identity)}; worst vs dense: ${pairedText(ranked[ranked.length - 1].id, ranked[ranked.length - 1].acc, 'dense', identity)}. ` +
        `Neighbours in the ranking: ${neighbours.join('; ')}. Only gaps larger than seed noise rank two methods.`,
    },
  ];

  return {
    title: 'Compression sweep at equal bytes (federated uploads)',
    ...sweepHeader([s]),
    setup: [
      `${describeData(c0)}, ${partitionText(c0)} over ${P} peers; MLP 784-128-10 (${layout.size} parameters, ${denseBytes(layout)} B dense), SGD lr 0.05, batch ${c0.training.batchSize}, ${c0.rounds} rounds × ${c0.schedule.localSteps} local steps, full participation; ${seedText} per method.`,
      'Each round every peer downloads the server model (lossless) and uploads its change since it: pointwise methods (sign, top-k, rand-k) compress the change with classic error feedback (EF14) and send it to the server; group methods (ARC-Top-K, PowerSGD, with their own error memory) run their phases all-to-all among the participants and one participant uploads the agreed model to the server.',
      `Equal bytes = the bytes of one peer's compressed message(s) in a round, measured by encoding with the compression layer (wire format included): sign fixes the budget (${size.get('sign') ?? '?'} B); the configs hold the top-k and rand-k ratio, ARC-Top-K rho and PowerSGD rank that simulations/compression/calibrate.ts finds for it. "Measured B/message" re-derives the size from each run's own byte counter (round 1's bytes minus the dense downloads, per message).`,
      'Total MB differ for reasons other than message size: every run downloads dense models, and group methods send each message to every other participant (all-to-all) instead of once to a server.',
      `Evaluated ${everyRounds(c0.eval.every)} on ${c0.eval.testSamples ?? 'all'} test digits. Each cell is the mean ± sample standard deviation over seeds.`,
    ],
    tables: [
      {
        caption: 'Results (mean ± std over seeds)',
        markdown: markdownTable(
          ['setting', 'method', 'size knob', 'seeds', 'B/message (calibrated)', 'compression vs dense', 'B/message (measured)', 'MB sent (all traffic)', 'merged (final)', 'merged (best)', 'wall s per run'],
          rows,
        ),
      },
    ],
    verdicts,
    notes: [sweepNote([s])],
  };
}
