// A short fuzz of a live node (the long one sends 100,000 inputs: fuzz.long.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { fuzzLiveNode, mutate, reasonClass, stillWorks } from './fuzz.js';
import { startLivePair, type LivePair } from './live-pair.js';

describe('fuzzing a live node (short)', () => {
  let pair: LivePair;
  beforeAll(async () => {
    pair = await startLivePair();
  });
  afterAll(async () => {
    await pair.stop();
  });

  it('mutations always differ from their seed', () => {
    const rng = new Rng(5);
    const seed = Uint8Array.from({ length: 40 }, (_, i) => i);
    for (let k = 0; k < 2000; k++) expect(Buffer.from(mutate(seed, rng)).equals(Buffer.from(seed))).toBe(false);
    expect(mutate(new Uint8Array(0), rng).length).toBeGreaterThan(0);
  });

  it('reason classes blank numbers and peer ids', () => {
    expect(reasonClass('payload is 12 bytes from 12D3KooWAbc, CRC 0x1f')).toBe('payload is N bytes from <peer>, CRC <hex>');
  });

  it('200 mutated and random messages over gossipsub and the update stream: all refused with a reason, model unchanged, node still works', async () => {
    const r = await fuzzLiveNode(pair, { messages: 200, seed: 11, exchangeMs: 800 });
    expect(r.sent.gossip + r.sent.stream).toBe(200);
    expect(r.sent.gossip).toBeGreaterThan(50);
    expect(r.sent.stream).toBeGreaterThan(50);
    expect(r.accepted).toBe(0);
    expect(r.exchangesChanged).toBe(0);
    expect(r.exchanges).toBeGreaterThan(0);
    expect(await stillWorks(pair, r.nextRound, 11)).toBe(true);
    const total = [...r.reasons.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(200);
    // Every input was refused, and every refusal names its reason.
    for (const key of r.reasons.keys()) expect(key).toMatch(/^(gossip (reject|ignore|forward) [\w-]+|stream (rejected|ignored)): \S.+$/);
  });
});
