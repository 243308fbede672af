import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadIdx, loadIdxFolder, parseIdx } from '../../src/data/idx.js';
import { InputError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'gossipfl-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A real big-endian IDX file: 0x00 0x00, type 0x08 (ubyte), rank, sizes, then the bytes. */
function idxBytes(dims: number[], data: number[], magicOverride?: number): Uint8Array {
  const header = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  header.setUint32(0, magicOverride ?? ((0x08 << 8) | dims.length), false);
  dims.forEach((d, k) => header.setUint32(4 + 4 * k, d, false));
  const out = new Uint8Array(header.byteLength + data.length);
  out.set(new Uint8Array(header.buffer), 0);
  out.set(data, header.byteLength);
  return out;
}

// Three 2×3 images and their labels.
const PIXELS = [0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60];
const LABELS = [7, 0, 9];
function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}
const images = write('imgs', idxBytes([3, 2, 3], PIXELS));
const labels = write('lbls', idxBytes([3], LABELS));

describe('IDX reader', () => {
  it('parses images and labels, scaling pixels to [0, 1]', () => {
    const ds = loadIdx({ images, labels, name: 'tiny' });
    expect(ds.name).toBe('tiny');
    expect(ds.n).toBe(3);
    expect(ds.featureShape).toEqual([2, 3, 1]);
    expect(ds.numClasses).toBe(10);
    expect(Array.from(ds.y)).toEqual(LABELS);
    expect(ds.x).toEqual(Float32Array.from(PIXELS, (p) => p / 255));
    expect(ds.x[5]).toBe(1);
  });

  it('reads gzip-compressed files the same as plain ones', () => {
    const gzImages = write('imgs.gz', gzipSync(idxBytes([3, 2, 3], PIXELS)));
    const gzLabels = write('lbls.gz', gzipSync(idxBytes([3], LABELS)));
    const plain = loadIdx({ images, labels });
    const gz = loadIdx({ images: gzImages, labels: gzLabels });
    expect(gz.x).toEqual(plain.x);
    expect(gz.y).toEqual(plain.y);
  });

  it('loads a folder with the 4 standard MNIST / Fashion-MNIST names, plain or .gz', () => {
    const folder = mkdtempSync(join(dir, 'mnist-'));
    writeFileSync(join(folder, 'train-images-idx3-ubyte.gz'), gzipSync(idxBytes([3, 2, 3], PIXELS)));
    writeFileSync(join(folder, 'train-labels-idx1-ubyte'), idxBytes([3], LABELS));
    writeFileSync(join(folder, 't10k-images-idx3-ubyte'), idxBytes([1, 2, 3], PIXELS.slice(0, 6)));
    writeFileSync(join(folder, 't10k-labels-idx1-ubyte.gz'), gzipSync(idxBytes([1], [4])));
    const { train, test } = loadIdxFolder(folder, { name: 'fashion' });
    expect(train.n).toBe(3);
    expect(test.n).toBe(1);
    expect(Array.from(test.y)).toEqual([4]);
    expect(train.name).toBe('fashion/train');

    const partial = mkdtempSync(join(dir, 'partial-'));
    writeFileSync(join(partial, 'train-images-idx3-ubyte'), idxBytes([3, 2, 3], PIXELS));
    expect(() => loadIdxFolder(partial)).toThrow(/missing train-labels-idx1-ubyte \(or train-labels-idx1-ubyte\.gz\)/);
    expect(() => loadIdxFolder(join(dir, 'nope'))).toThrow(/data folder .*nope does not exist/);
  });

  it('names the file and the problem for corrupt, truncated or mismatched input', () => {
    const bad = (name: string, bytes: Uint8Array) => write(name, bytes);
    const cases: Array<[() => unknown, RegExp]> = [
      [() => loadIdx({ images: bad('swapped', idxBytes([3], LABELS)), labels }), /swapped: IDX magic number is 0x00000801, expected 0x00000803/],
      [() => loadIdx({ images, labels: bad('float', idxBytes([3], LABELS, 0x00000d01)) }), /float: IDX magic number is 0x00000d01/],
      [() => loadIdx({ images: bad('short', new Uint8Array([0, 0])), labels }), /short: 2 bytes is too short/],
      [() => loadIdx({ images: bad('hdr', idxBytes([3, 2, 3], PIXELS).subarray(0, 10)), labels }), /hdr: IDX header needs 16 bytes, the file has 10; it is truncated/],
      [() => loadIdx({ images: bad('trunc', idxBytes([3, 2, 3], PIXELS).subarray(0, 30)), labels }), /trunc: dimensions 3 × 2 × 3 need 34 bytes, the file has 30; it is truncated/],
      [() => loadIdx({ images: bad('long', idxBytes([3, 2, 3], [...PIXELS, 1])), labels }), /long: .*need 34 bytes, the file has 35; it is corrupt \(trailing bytes\)/],
      [() => loadIdx({ images, labels: bad('four', idxBytes([4], [1, 2, 3, 4])) }), /four: holds 4 labels but .*imgs holds 3 images/],
      [() => loadIdx({ images, labels: bad('big', idxBytes([3], [1, 10, 2])) }), /big: label 10 of sample 1 is outside \[0, 10\)/],
      [() => loadIdx({ images: bad('cut.gz', gzipSync(idxBytes([3, 2, 3], PIXELS)).subarray(0, 20)), labels }), /cut\.gz: corrupt or truncated gzip data/],
      [() => loadIdx({ images: join(dir, 'absent'), labels }), /cannot read data file .*absent: file not found/],
    ];
    for (const [load, message] of cases) {
      expect(load).toThrow(InputError);
      expect(load).toThrow(message);
    }
  });

  it('parseIdx returns the dimensions and a view of the data', () => {
    const parsed = parseIdx(idxBytes([2, 2], [1, 2, 3, 4], 0x00000802), 2, 'mem');
    expect(parsed.dims).toEqual([2, 2]);
    expect(Array.from(parsed.data)).toEqual([1, 2, 3, 4]);
  });
});
