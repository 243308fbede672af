// A plug-in aggregation rule declares where it fits (serverOnly, serverMean) in its registry
// entry, and the config's refusals read it there: a server-only rule is refused in all-reduce and
// MoDeST with its own reason, central DP and a group compressor accept a rule whose server step
// is a plain mean, and the refusals list the plug-in among the rules that fit.
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { aggregationRegistry, defineRule, fedAvg, makeLayout, stateless } from '../../src/index.js';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { buildCodec, checkCompressionFits } from '../../src/peer/codec.js';

const undo = [
  aggregationRegistry.register(
    defineRule({
      name: 'plain-mean',
      summary: 'FedAvg under another name',
      modes: ['federated'],
      faults: 'none',
      serverMean: true,
      schema: z.strictObject({ name: z.literal('plain-mean') }),
      build: (s) => stateless(s, fedAvg, { minGroupSize: 1 }),
    }),
  ),
  aggregationRegistry.register(
    defineRule({
      name: 'server-memory',
      summary: 'FedAvg that needs the server',
      modes: ['federated'],
      faults: 'none',
      serverOnly: 'keeps a memory at the server',
      schema: z.strictObject({ name: z.literal('server-memory') }),
      build: (s) => stateless(s, fedAvg, { minGroupSize: 1 }),
    }),
  ),
];
afterAll(() => undo.forEach((f) => f()));

const base: RunConfigInput = { peers: 4, rounds: 2, data: { dataset: 'synthetic', train: 100, test: 20, features: 4, classes: 2 }, model: { kind: 'mlp', hidden: [] } };
const central = { mode: 'central', clipNorm: 1, noiseMultiplier: 1 } as const;

describe('rule capabilities declared by a plug-in', () => {
  it('serverOnly: refused outside mode federated with the reason the rule gives', () => {
    expect(parseConfig({ ...base, mode: 'federated', aggregation: { name: 'server-memory' } } as never).aggregation).toEqual({ name: 'server-memory' });
    for (const mode of ['all-reduce', 'modest'] as const) {
      expect(() => parseConfig({ ...base, mode, compression: { method: 'powersgd' }, aggregation: { name: 'server-memory' } } as never)).toThrow(
        "config: aggregation 'server-memory' keeps a memory at the server: use mode: federated",
      );
    }
  });

  it('serverMean: central DP accepts it, and refuses another rule listing it among those that fit', () => {
    expect(parseConfig({ ...base, mode: 'federated', aggregation: { name: 'plain-mean' }, privacy: central } as never).privacy?.mode).toBe('central');
    expect(() => parseConfig({ ...base, mode: 'federated', aggregation: { name: 'server-memory' }, privacy: central } as never)).toThrow(
      "config: privacy.mode central noises the server's mean of the clipped updates: use aggregation fedavg, fedprox or plain-mean (got server-memory), or privacy.mode local",
    );
  });

  it('serverMean: a group compressor may stand in for its server step in mode federated', () => {
    const codec = buildCodec({ method: 'powersgd', rank: 1 }, makeLayout([{ name: 'w', shape: [4, 3], role: 'weight' }]), 1);
    expect(() => checkCompressionFits('federated', 'plain-mean', codec)).not.toThrow();
    expect(() => checkCompressionFits('federated', 'server-memory', codec)).toThrow(
      "compression: powersgd averages the group's updates itself; use aggregation fedavg, fedprox or plain-mean with it",
    );
  });
});
