// The sections of a run config that only the simulator reads in full: the engine, simulated
// compute and churn (heterogeneity), the network model and Byzantine attackers. Real peers read
// heterogeneity's deadlineMs and suspectAfterRounds, and an attack for the peers whose shard it
// picks; the rest is simulated.
import { z } from 'zod';
import { positiveInt, probability } from './config-run.js';

export const engineSchema = z
  .enum(['per-peer', 'batched'])
  .default('per-peer')
  .describe('simulator: train peers one by one, or all at once as one stacked tensor (gossip with plain mixing, whole models)');

const churnEventSchema = z.strictObject({
  round: positiveInt.describe('applied at the start of this round'),
  crash: probability.optional().describe('fraction of live peers that crash (stop for good)'),
  leave: probability.optional().describe('fraction of live peers that leave (may rejoin)'),
  rejoin: probability.optional().describe('fraction of departed peers that come back with their last model'),
});

export const heterogeneitySchema = z
  .strictObject({
    stepMs: z.number().positive().default(5).describe('simulated compute time of one local step on a speed-1 peer'),
    speedSpread: z.number().min(0).default(0).describe('σ of log-normal per-peer speed factors (0 = equal speeds)'),
    deadlineMs: z.number().positive().optional().describe('per-exchange deadline; later messages are left out'),
    suspectAfterRounds: z.number().int().min(1).default(2).describe('real peers: stop waiting for a member after this many rounds in a row without its update, until it sends again'),
    participation: z.number().gt(0).max(1).default(1).describe('gossip: probability a live peer takes part in a round'),
    churn: z.array(churnEventSchema).default([]).describe('simulator: peers that crash, leave and rejoin at given rounds'),
  })
  .default({ stepMs: 5, speedSpread: 0, participation: 1, churn: [], suspectAfterRounds: 2 })
  .describe('unequal peers: speeds, deadlines, participation and churn (all simulated but deadlineMs)');

export const networkSchema = z
  .strictObject({
    latencyMs: z.number().min(0).default(0).describe('one-way latency of every link, ms'),
    jitterMs: z.number().min(0).default(0).describe('uniform extra delay in [0, jitterMs) per message, ms'),
    bandwidthMbps: z.number().positive().optional().describe('per link; omit for unlimited'),
    loss: z.number().min(0).lt(1).default(0).describe('probability that a message is lost, in [0, 1)'),
  })
  .default({ latencyMs: 0, jitterMs: 0, loss: 0 })
  .describe('simulator: the network every link behaves like');

export const attackSchema = z
  .strictObject({
    kind: z.enum(['sign-flip', 'scale', 'noise', 'alie', 'nan', 'label-flip']).describe('how the Byzantine peers misbehave (see src/peer/attacks.ts)'),
    fraction: z.number().gt(0).lt(1).describe('fraction of peers that are Byzantine'),
    scale: z.number().positive().optional().describe('attack strength (see src/peer/attacks.ts)'),
  })
  .optional()
  .describe('Byzantine peers on purpose (in the simulator, and real peers whose shard is chosen); metrics then cover the honest peers');
