// The exact merge, with and without the simulator's shared memo.
import { describe, expect, it } from 'vitest';
import { makeLayout, paramsFrom, type Params } from '../../src/params/index.js';
import { buildCodec } from '../../src/peer/codec.js';
import { exactMerge, MergeMemo, type ModelCodec } from '../../src/peer/gossip.js';
import { SimNetwork } from '../../src/sim/memory-transport.js';
import { IDEAL_NETWORK } from '../../src/sim/network.js';
import { Rng } from '../../src/util/rng.js';

const layout = makeLayout([{ name: 'w', shape: [7, 3], role: 'weight' }, { name: 'b', shape: [3], role: 'bias' }]);
const codec = buildCodec({ method: 'identity', errorFeedback: 'none' }, layout, 1).exact;
const ids = ['a', 'b', 'c', 'd', 'e'];

function models(seed: number): Params[] {
  const rng = new Rng(seed);
  return ids.map(() => paramsFrom(layout, Float32Array.from({ length: layout.size }, () => rng.normal())));
}

async function mergeAll(own: Params[], memo: MergeMemo | undefined, codecOf: (i: number) => ModelCodec = () => codec): Promise<Params[]> {
  const net = new SimNetwork(IDEAL_NETWORK, 1);
  net.setMembers(ids);
  net.setParticipants(ids);
  return Promise.all(own.map((p, i) => exactMerge(p, { round: 2, members: ids, selfIndex: i, group: ids }, net.transportFor(ids[i]), codecOf(i), memo)));
}

describe('exactMerge', () => {
  it('gives every peer the plain average; the memo gives the same values, each peer its own copy', async () => {
    const own = models(3);
    const mean = new Float64Array(layout.size);
    for (const m of own) m.data.forEach((v, k) => (mean[k] += v / own.length));
    const plain = await mergeAll(own, undefined);
    const memo = new MergeMemo();
    const shared = await mergeAll(own, memo);
    for (let i = 0; i < ids.length; i++) {
      for (let k = 0; k < layout.size; k++) {
        expect(plain[i].data[k]).toBeCloseTo(mean[k], 5);
        expect(shared[i].data[k]).toBeCloseTo(mean[k], 5);
      }
      // Bit-identical across peers with the memo, and no two peers share an array.
      expect([...shared[i].data]).toEqual([...shared[0].data]);
      if (i > 0) expect(shared[i].data).not.toBe(shared[0].data);
    }
    shared[0].data[0] += 1;
    expect(shared[1].data[0]).not.toBe(shared[0].data[0]);
  });

  it('with the memo, a peer whose message is not its model averages on its own (an attacker keeps its own view)', async () => {
    const own = models(4);
    // Peer 4 sends a different model than it holds (what a Byzantine peer does).
    const liar: ModelCodec = {
      encode: (p, meta) => codec.encode(paramsFrom(layout, p.data.map((v) => v + 10)), meta),
      decode: (b, e) => codec.decode(b, e),
    };
    const out = await mergeAll(own, new MergeMemo(), (i) => (i === 4 ? liar : codec));
    const honestMean = (k: number) => (own.slice(0, 4).reduce((s, m) => s + m.data[k], 0) + own[4].data[k] + 10) / 5;
    const liarMean = (k: number) => own.reduce((s, m) => s + m.data[k], 0) / 5;
    for (let k = 0; k < layout.size; k++) {
      expect(out[0].data[k]).toBeCloseTo(honestMean(k), 5);
      expect(out[4].data[k]).toBeCloseTo(liarMean(k), 5);
    }
  });
});
