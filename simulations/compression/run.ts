// Compression sweep at equal bytes: FedAvg (16 peers, IID MNIST) with uploads compressed by
// sign, top-k, rand-k, ARC-Top-K or PowerSGD, each sized so that one peer's message per round
// is as large as sign's (1 bit per entry), plus dense uploads as the ceiling.
// Run: npx tsx simulations/compression/run.ts [--quick]
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isGroupMethod, denseBytes } from '../../src/compression/index.js';
import { buildModel } from '../../src/model/zoo.js';
import { parseConfig, type RunConfig } from '../../src/peer/config.js';
import type { RunData } from '../../src/report/index.js';
import { describeData, isMain, loadStudyConfigs, reportNote, runStudy, studyMain, beginStudy, resultsHeader, type StudyOptions, type StudyOutcome } from '../lib/study.js';
import { equalBytesVerdict, everyRounds, lastEvaluated, markdownTable, megabytes, pct, points, writeResults, type Verdict } from '../lib/results.js';
import { matchBytes, messageBytes, sizeKnob } from './calibrate.js';

const STUDY = 'compression';
const HERE = dirname(fileURLToPath(import.meta.url));
const RUNS = [
  { id: 'identity', file: 'identity.yaml' },
  { id: 'sign', file: 'sign.yaml' },
  { id: 'top-k', file: 'top-k.yaml' },
  { id: 'rand-k', file: 'rand-k.yaml' },
  { id: 'arc-top-k', file: 'arc-top-k.yaml' },
  { id: 'powersgd', file: 'powersgd.yaml' },
] as const;
/** The run whose (fixed) message size every other compressed run is matched to. */
const TARGET_RUN = 'sign';

export interface CompressionOutcome extends StudyOutcome {
  configs: Map<string, RunConfig>;
  /** Calibrated bytes of one peer's message per round, by run id. */
  messageBytes: Map<string, number>;
}

export async function runCompression(opts: StudyOptions): Promise<CompressionOutcome> {
  const ctx = beginStudy(STUDY, HERE, opts);
  const { paths, log } = ctx;
  const loaded = loadStudyConfigs(HERE, RUNS.map((r) => r.file), opts.quick);
  const c0 = loaded[0];
  // MNIST digits are 28×28×1 with 10 classes; the layout is all the compressors look at.
  const layout = buildModel(c0.model, [28, 28, 1], 10).layout;
  const target = messageBytes(loaded[RUNS.findIndex((r) => r.id === TARGET_RUN)].compression, layout, c0.seed);
  const configs = new Map<string, RunConfig>();
  const sizes = new Map<string, number>();
  RUNS.forEach((r, i) => {
    const c = loaded[i];
    const cal = r.id === 'identity' ? { spec: c.compression, bytes: messageBytes(c.compression, layout, c.seed) } : matchBytes(c.compression, target, layout, c.seed);
    configs.set(r.id, parseConfig({ ...c, compression: cal.spec }, c.name));
    sizes.set(r.id, cal.bytes);
    log(`${r.id}: ${cal.bytes} bytes per peer message per round (target ${target})`);
  });
  const runs = await runStudy(RUNS.map((r) => ({ id: r.id, config: configs.get(r.id)! })), paths, log);

  const dense = sizes.get('identity')!;
  const P = c0.peers;
  const rows = RUNS.map(({ id }) => {
    const c = configs.get(id)!;
    const run = runs.get(id)!;
    const last = lastEvaluated(run.metrics);
    const knob = sizeKnob(c.compression.method);
    const knobText = knob ? `${knob} ${(c.compression as Record<string, unknown>)[knob]}` : '—';
    return [
      id,
      `${c.compression.method}${c.compression.errorFeedback !== 'none' ? ` + ${c.compression.errorFeedback}` : ''}`,
      knobText + (c.compression.method === 'arc-top-k' ? `, sketchRank ${c.compression.sketchRank ?? 4}` : ''),
      sizes.get(id)!,
      `${(dense / sizes.get(id)!).toFixed(1)}×`,
      measuredMessageBytes(run, P, dense, isGroupMethod(c.compression.method)).toFixed(0),
      megabytes(run.summary.bytesSent),
      pct(last.mergedAccuracy),
      pct(Math.max(...run.metrics.flatMap((m) => (m.mergedAccuracy === null ? [] : [m.mergedAccuracy])))),
      run.summary.wallSeconds.toFixed(0),
    ];
  });

  const acc = (id: string) => lastEvaluated(runs.get(id)!.metrics).mergedAccuracy!;
  const compressed = RUNS.filter((r) => r.id !== 'identity').map((r) => ({ id: r.id, acc: acc(r.id), bytes: sizes.get(r.id)! }));
  const ranked = [...compressed].sort((a, b) => b.acc - a.acc);
  const conditions = `FedAvg, ${P} peers, ${c0.rounds} rounds × ${c0.schedule.localSteps} local steps, ${partitionText(c0)}, seed ${c0.seed}`;
  const verdicts: Verdict[] = [
    equalBytesVerdict(compressed, dense),
    {
      claim: 'Ranking at equal bytes (merged accuracy after the last round)',
      holds: null,
      evidence: `${ranked.map((x) => `${x.id} ${pct(x.acc)}`).join(' > ')}; dense uploads ${pct(acc('identity'))}. Best compressed run is ${points(ranked[0].acc - acc('identity'))} from dense, worst ${points(ranked[ranked.length - 1].acc - acc('identity'))} (${conditions}). One seed each: gaps under about a point are within seed noise, so only larger gaps rank the methods.`,
    },
  ];

  writeResults(paths.resultsFile, {
    title: 'Compression sweep at equal bytes (federated uploads)',
    ...resultsHeader(STUDY, opts, ctx, runs.get('identity')!.summary.backend),
    setup: [
      `${describeData(c0)}, ${partitionText(c0)} over ${P} peers; MLP 784-128-10 (${layout.size} parameters, ${denseBytes(layout)} B dense), SGD lr 0.05, batch ${c0.training.batchSize}, ${c0.rounds} rounds × ${c0.schedule.localSteps} local steps, full participation.`,
      'Each round every peer downloads the server model (lossless) and uploads its change since it: pointwise methods (sign, top-k, rand-k) compress the change with classic error feedback (EF14) and send it to the server; group methods (ARC-Top-K, PowerSGD, with their own error memory) run their phases all-to-all among the participants and one participant uploads the agreed model to the server.',
      `Equal bytes = the bytes of one peer's compressed message(s) in a round, measured by encoding with the compression layer (wire format included): sign fixes the budget (${target} B); top-k and rand-k ratio and ARC-Top-K rho are set by bisection, PowerSGD's rank is the integer nearest. "Measured B/message" re-derives the size from the run's own byte counter (round 1's bytes minus the dense downloads, per message).`,
      'Total MB differ for reasons other than message size: every run downloads dense models, and group methods send each message to every other participant (all-to-all) instead of once to a server.',
      `Evaluated ${everyRounds(c0.eval.every)} on ${c0.eval.testSamples ?? 'all'} test digits. One seed.`,
    ],
    tables: [
      {
        caption: 'Results',
        markdown: markdownTable(
          ['run', 'method', 'size knob', 'B/message (calibrated)', 'compression vs dense', 'B/message (measured)', 'MB sent (all traffic)', 'merged (final)', 'merged (best)', 'wall s'],
          rows,
        ),
      },
    ],
    verdicts,
    notes: [reportNote(paths)],
  });
  return { resultsFile: paths.resultsFile, reportFile: paths.reportFile, runs, configs, messageBytes: sizes, verdicts };
}

/**
 * One peer's message size as the run counted it, from round 1: the round's bytes less the P
 * dense downloads, per upload (pointwise) or, for a group method, less the one dense result
 * upload and per all-to-all message (P·(P−1) of them).
 */
export function measuredMessageBytes(run: RunData, peers: number, denseMessage: number, group: boolean): number {
  const first = run.metrics[0].bytesSent - peers * denseMessage;
  return group ? (first - denseMessage) / (peers * (peers - 1)) : first / peers;
}

export function partitionText(c: RunConfig): string {
  const p = c.data.partition;
  return p.kind === 'dirichlet' ? `Dirichlet α = ${p.alpha}` : p.kind.toUpperCase();
}

if (isMain(import.meta.url)) await studyMain(runCompression);
