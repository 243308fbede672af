// The `privacy` section of a run config, validated with the rest of the config schema.
import { z } from 'zod';

/** Zod schema of the privacy settings (see docs/privacy.md). */
export const privacySpecSchema = z.strictObject({
  mode: z
    .enum(['local', 'central'])
    .describe('local: every peer clips and noises its own update before it leaves (gossip or federated); central: the server noises the sum of the clipped updates (federated only)'),
  clipNorm: z.number().positive().finite().describe('C: L2 norm each peer\'s update (change since the round began) is clipped to'),
  noiseMultiplier: z.number().min(0).finite().describe('σ: Gaussian noise std in units of C (0: clipping only, no privacy guarantee)'),
  delta: z.number().gt(0).lt(1).default(1e-5).describe('δ the reported ε is for (default 1e-5; below 1/peers is customary)'),
});

/** Privacy settings as validated (δ filled in). */
export type PrivacyConfig = z.output<typeof privacySpecSchema>;
