// NaN on the wire: the attacker's bytes are well formed (valid CRC) and the receiver's decode refuses them.
import { describe, expect, it } from 'vitest';
import { crc32, decodeMessage, WireError } from '../../src/compression/index.js';
import { buildCodec } from '../../src/peer/codec.js';
import { parseConfig } from '../../src/peer/config.js';
import { simulate } from '../../src/sim/simulator.js';
import { poisonPayload, poisonSection } from '../../src/peer/attack-payloads.js';
import { LAYOUT, seededModel } from './live-pair.js';

describe('NaN payloads', () => {
  it.each(['identity', 'fp16', 'int8'] as const)('%s: poisoned bytes keep a valid CRC and every value is NaN, so decode refuses them as non-finite', (method) => {
    const codec = buildCodec({ method }, LAYOUT, 1);
    const good = codec.model.encode(seededModel(1), { round: 3, phase: 0, sender: 2 });
    const bad = poisonPayload(good, LAYOUT);
    expect(bad.byteLength).toBe(good.byteLength);
    const view = new DataView(bad.buffer, bad.byteOffset, bad.byteLength);
    expect(view.getUint32(bad.byteLength - 4, true)).toBe(crc32(bad.subarray(0, bad.byteLength - 4)));
    expect(() => decodeMessage(bad, { layout: LAYOUT })).toThrow(WireError);
    expect(() => decodeMessage(bad, { layout: LAYOUT })).toThrow(/non-finite/);
    // The header (everything before the values) is untouched.
    expect(Buffer.from(bad.subarray(0, 28)).equals(Buffer.from(good.subarray(0, 28)))).toBe(true);
  });

  it('poisons every coding and leaves bytes that are not an update alone', () => {
    expect(poisonSection({ coding: 'sign', count: 3, scale: 1, bits: Uint8Array.of(5) })).toMatchObject({ scale: NaN });
    expect([...(poisonSection({ coding: 'sparse', indices: Uint32Array.of(1, 4), values: Float32Array.of(1, 2) }) as { values: Float32Array }).values]).toEqual([NaN, NaN]);
    expect(poisonSection({ coding: 'absent' })).toEqual({ coding: 'absent' });
    const junk = Uint8Array.of(1, 2, 3);
    expect(poisonPayload(junk, LAYOUT)).toBe(junk);
  });

  it.each(['gossip', 'federated'] as const)('a %s simulation with NaN attackers runs to the end, every NaN message refused by its receiver', async (mode) => {
    const lines: string[] = [];
    const r = await simulate(
      parseConfig({
        seed: 3,
        peers: 8,
        rounds: 3,
        mode,
        backend: 'cpu',
        data: { dataset: 'synthetic', train: 400, test: 200, features: 10, classes: 3, partition: { kind: 'iid' } },
        model: { kind: 'logreg' },
        training: { batchSize: 8, optimizer: { kind: 'sgd', lr: 0.1 } },
        schedule: { localSteps: 2 },
        topology: { name: 'complete' },
        attack: { kind: 'nan', fraction: 0.25 },
        eval: { every: 1 },
      }),
      { log: (l) => lines.push(l) },
    );
    expect(r.metrics).toHaveLength(3);
    for (const m of r.finalModels) expect(m.data.every(Number.isFinite)).toBe(true);
    expect(r.merged.data.every(Number.isFinite)).toBe(true);
    expect(r.summary.mergedAccuracy).toBeGreaterThan(0.5);
    // Gossip on a complete graph: each round the 6 honest peers refuse both attackers and each attacker the other
    // (the federated server leaves refused uploads out silently, like a straggler's).
    if (mode === 'gossip') expect(lines.filter((l) => /refused a message from p\d+: .*non-finite/.test(l))).toHaveLength(3 * (6 * 2 + 2));
  });
});
