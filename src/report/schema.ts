// Validators of the three files of a run directory. They check types and ranges only; the
// reader adds what needs context (line numbers, order of rounds, which line was last).
import { z } from 'zod';
import type { PartitionSummary, RoundMetrics, RunSummary } from './metrics.js';

const count = z.number().int().nonnegative();
const fraction = z.number().min(0).max(1);
const nonNegative = z.number().nonnegative();
// JSON.stringify writes NaN (a diverged loss) as null; read it back as NaN so the plots skip it.
const numberOrNaN = (n: z.ZodNumber) => n.nullable().transform((v) => v ?? Number.NaN);

// Unknown keys are dropped: other layers may add fields the report does not plot.
export const roundMetricsSchema = z.object({
  round: z.number().int().positive(),
  activePeers: count,
  localAccuracyMean: fraction.nullable(),
  localAccuracyStd: nonNegative.nullable(),
  localAccuracyMin: fraction.nullable(),
  localAccuracyMax: fraction.nullable(),
  mergedAccuracy: fraction.nullable(),
  mergedLoss: nonNegative.nullable(),
  trainLoss: numberOrNaN(z.number()),
  consensusDistance: numberOrNaN(nonNegative),
  bytesSent: nonNegative,
  bytesReceived: nonNegative,
  bytesSentTotal: nonNegative,
  globalMerge: z.boolean(),
  preMergeLocalAccuracyMean: fraction.nullable().optional(),
  simSeconds: nonNegative,
  wallSeconds: nonNegative,
  perPeer: z
    .object({
      peer: z.array(count),
      trainLoss: z.array(numberOrNaN(z.number())),
      accuracy: z.array(fraction.nullable()),
      loss: z.array(nonNegative.nullable()),
      bytesSent: z.array(nonNegative).optional(),
      bytesReceived: z.array(nonNegative).optional(),
      server: z.object({ bytesSent: nonNegative, bytesReceived: nonNegative }).optional(),
    })
    .superRefine((p, ctx) => {
      for (const key of ['trainLoss', 'accuracy', 'loss', 'bytesSent', 'bytesReceived'] as const) {
        const values = p[key];
        if (values !== undefined && values.length !== p.peer.length) {
          ctx.addIssue({ code: 'custom', path: [key], message: `has ${values.length} entries for ${p.peer.length} peers` });
        }
      }
    })
    .optional(),
  privacy: z.object({ epsilon: nonNegative, delta: z.number().gt(0).lt(1) }).optional(),
}) satisfies z.ZodType<RoundMetrics>;

export const runSummarySchema = z.object({
  rounds: count,
  peers: count,
  localAccuracyMean: fraction.nullable(),
  preMergeLocalAccuracyMean: fraction.nullable().optional(),
  mergedAccuracy: fraction.nullable(),
  bytesSent: nonNegative,
  wallSeconds: nonNegative,
  backend: z.string(),
  device: z.string().optional(),
  label: z.string().min(1).optional(),
  config: z.unknown().optional(),
}) satisfies z.ZodType<RunSummary>;

export const partitionSchema = z
  .object({
    numClasses: z.number().int().positive(),
    histograms: z.array(z.array(count)).min(1),
  })
  .superRefine((p, ctx) => {
    const bad = p.histograms.findIndex((row) => row.length !== p.numClasses);
    if (bad >= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['histograms', bad],
        message: `has ${p.histograms[bad].length} class counts, numClasses is ${p.numClasses}`,
      });
    }
  }) satisfies z.ZodType<PartitionSummary>;

/** One line naming the first problem zod found, e.g. "field 'round': expected number". */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue.path.length > 0 ? `field '${issue.path.join('.')}'` : 'value';
  return `${where}: ${issue.message}`;
}
