// Aggregation throughput: models/s through FedAvg, VCA and the coordinate median on 16 models
// of 1M parameters each, against one memcpy pass over the same bytes in the same run.
import { coordinateMedian, fedAvg, varianceCorrected, type Contribution } from '../src/aggregation/index.js';
import { makeLayout, paramsFrom, type Params } from '../src/params/index.js';
import { Rng } from '../src/util/rng.js';
import { memcpyRate, timeMs, type BenchRow, type BenchSuite } from './lib.js';

const MODELS = 16;
// 1,000,000 parameters in a weight matrix and its bias, so VCA walks two tensors.
const layout = makeLayout([
  { name: 'w', shape: [999, 1000], role: 'weight' },
  { name: 'b', shape: [1000], role: 'bias' },
]);

function randomModel(rng: Rng): Params {
  const data = new Float32Array(layout.size);
  for (let i = 0; i < data.length; i++) data[i] = 0.05 * rng.normal();
  return paramsFrom(layout, data);
}

export const aggregationSuite: BenchSuite = {
  name: 'aggregation',
  async run({ quick }) {
    const repeats = quick ? 3 : 7;
    const rng = new Rng(1);
    const models = Array.from({ length: MODELS }, () => randomModel(rng));
    const all: Contribution[] = models.map((params, j) => ({ from: `p${j}`, params, weight: 100 + j }));
    const own = models[0];
    const others = all.slice(1); // VCA: own + 15 received = 16 models

    const copy = await memcpyRate(MODELS * layout.size, repeats);
    const perSecond = (ms: number) => MODELS / (ms / 1000);
    const base = perSecond(copy.ms);
    const rows: BenchRow[] = [
      {
        suite: 'aggregation',
        name: 'memcpy',
        value: base,
        unit: 'models/s',
        note: `one copy of ${MODELS} × ${layout.size} float32 (${((copy.bytesPerSecond / 1e9) * 1).toFixed(2)} GB/s)`,
      },
    ];
    const vca = varianceCorrected();
    const median = coordinateMedian({ includeSelf: false });
    const cases: Array<[string, () => unknown, string]> = [
      ['fedavg', () => fedAvg(own, all), `${MODELS} contributions, float64 sums, validation included`],
      ['vca', () => vca(own, others), `own + ${MODELS - 1} received, per-tensor rescale`],
      ['median', () => median(own, all), `${MODELS} contributions, insertion sort per coordinate`],
    ];
    for (const [name, fn, note] of cases) {
      const value = perSecond(await timeMs(fn, repeats, 1));
      rows.push({ suite: 'aggregation', name, value, unit: 'models/s', baseline: 'memcpy', ratio: value / base, note });
    }
    return rows;
  },
};
