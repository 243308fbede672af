// The plain config of a run's communication schedule, its zod schema, and the factory that
// turns it into a per-round plan the peer follows.
import { z } from 'zod';
import { ConfigError } from '../util/errors.js';
import { budgetForRound, roundProgress, totalBudget, type BudgetSpec } from './budget.js';
import { mergeAt } from './cadence.js';

const r = z.number().min(0).finite();
const frac = z.number().min(0).max(1);

/** Zod schema of a budget spec. */
export const budgetSpecSchema = z.discriminatedUnion('shape', [
  z.strictObject({ shape: z.literal('fixed'), r: r.describe('expected peers pulled per round, every round') }),
  z.strictObject({
    shape: z.literal('truncate'),
    rStart: r.describe('expected peers pulled per round before p1'),
    rEnd: r.describe('expected peers pulled per round from p1 on'),
    p1: frac.describe('fraction of training, in [0, 1], where rStart gives way to rEnd'),
  }),
  z.strictObject({
    shape: z.literal('window'),
    rBase: r.describe('expected peers pulled per round outside the window'),
    rEnd: r.describe('expected peers pulled per round inside the window'),
    p1: frac.describe('fraction of training, in [0, 1], where the window starts'),
    w: frac.describe('width of the window as a fraction of training, in [0, 1]'),
  }),
  z.strictObject({ shape: z.literal('linear'), r0: r.describe('expected peers pulled per round at the start'), r1: r.describe('expected peers pulled per round at the end (linear in between)') }),
  z.strictObject({ shape: z.literal('cosine'), r0: r.describe('expected peers pulled per round at the start'), r1: r.describe('expected peers pulled per round at the end (half cosine in between)') }),
]) satisfies z.ZodType<BudgetSpec>;

/** Zod schema of a schedule spec: local steps, budget and merges. */
export const scheduleSpecSchema = z.strictObject({
  /** k: local steps between communications. */
  localSteps: z.number().int().min(1).describe('k: local steps between communications (≥ 1)'),
  /** r(progress); absent: every round talks to the whole topology neighbourhood. */
  budget: budgetSpecSchema.optional().describe('r(progress): peers pulled per round as training progresses; absent: the whole topology neighbourhood every round'),
  /** Exact global merges; absent: none. */
  merge: z
    .strictObject({
      final: z.boolean().describe('merge exactly (average of all peers) after the last round'),
      rounds: z.array(z.number().int().min(0)).optional().describe('further 0-based rounds after which to merge exactly'),
    })
    .optional()
    .describe('exact global merges; absent: none'),
  /** Q gossip steps per communication round (default 1). */
  gossipSteps: z.number().int().min(1).max(250).optional().describe('Q: gossip steps per communication round (default 1; at most 250: higher phase numbers are reserved for merges and server uploads)'),
});

/** A schedule as a config gives it. */
export type ScheduleSpec = z.infer<typeof scheduleSpecSchema>;

/** What a peer does in one round. */
export interface RoundPlan {
  readonly round: number;
  readonly progress: number;
  /** Local optimizer steps before this round's exchange. */
  readonly localSteps: number;
  /** r for this round, or null when the schedule has no budget (use the topology as is). */
  readonly budget: number | null;
  /** Gossip steps (exchange + mix) this round. */
  readonly gossipSteps: number;
  /** The round ends with an exact average of all peers (in place of this round's gossip). */
  readonly exactMerge: boolean;
}

/** A schedule resolved for a run of known length. */
export interface Schedule {
  readonly spec: ScheduleSpec;
  readonly totalRounds: number;
  /** What a peer does in the given round. */
  plan(round: number): RoundPlan;
  /** Σ r over the run's rounds (null without a budget). */
  readonly totalBudget: number | null;
}

/** Validates an untrusted config value; throws ConfigError naming the offending field. */
export function parseScheduleSpec(value: unknown, where = 'schedule'): ScheduleSpec {
  const parsed = scheduleSpecSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue.path.length ? `${where}.${issue.path.join('.')}` : where;
  throw new ConfigError(`${path}: ${issue.message} (see docs/schedules.md)`);
}

/** Validates a schedule spec and resolves it for a run of totalRounds rounds. */
export function buildSchedule(config: ScheduleSpec, totalRounds: number): Schedule {
  const spec = parseScheduleSpec(config);
  if (!Number.isInteger(totalRounds) || totalRounds < 1) throw new ConfigError(`rounds = ${totalRounds}: must be an integer ≥ 1`);
  const late = (spec.merge?.rounds ?? []).filter((t) => t >= totalRounds);
  if (late.length) {
    throw new ConfigError(`schedule.merge.rounds: ${late.join(', ')} ≥ rounds = ${totalRounds}; merge rounds are 0-based indices below the run length`);
  }
  const merges = mergeAt(spec.merge ?? { final: false });
  const budget: BudgetSpec | undefined = spec.budget;
  return {
    spec,
    totalRounds,
    totalBudget: budget ? totalBudget(budget, totalRounds) : null,
    plan: (round) => ({
      round,
      progress: roundProgress(round, totalRounds),
      localSteps: spec.localSteps,
      budget: budget ? budgetForRound(budget, round, totalRounds) : null,
      gossipSteps: spec.gossipSteps ?? 1,
      exactMerge: merges(round, totalRounds),
    }),
  };
}
