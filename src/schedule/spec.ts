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
  z.strictObject({ shape: z.literal('fixed'), r }),
  z.strictObject({ shape: z.literal('truncate'), rStart: r, rEnd: r, p1: frac }),
  z.strictObject({ shape: z.literal('window'), rBase: r, rEnd: r, p1: frac, w: frac }),
  z.strictObject({ shape: z.literal('linear'), r0: r, r1: r }),
  z.strictObject({ shape: z.literal('cosine'), r0: r, r1: r }),
]) satisfies z.ZodType<BudgetSpec>;

/** Zod schema of a schedule spec: local steps, budget and merges. */
export const scheduleSpecSchema = z.strictObject({
  /** k: local steps between communications. */
  localSteps: z.number().int().min(1),
  /** r(progress); absent: every round talks to the whole topology neighbourhood. */
  budget: budgetSpecSchema.optional(),
  /** Exact global merges; absent: none. */
  merge: z.strictObject({ final: z.boolean(), rounds: z.array(z.number().int().min(0)).optional() }).optional(),
  /** Q gossip steps per communication round (default 1). */
  gossipSteps: z.number().int().min(1).optional(),
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
