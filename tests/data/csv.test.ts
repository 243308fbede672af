import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCsv, parseCsv } from '../../src/data/csv.js';
import { ConfigError, InputError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'gossipfl-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CSV reader', () => {
  it('reads label + pixels with a header, scaling the features', () => {
    const text = 'label,p1,p2,p3,p4\r\n3,0,255,51,102\r\n1,255,255,0,0\r\n\r\n';
    const ds = parseCsv(text, { scale: 1 / 255, featureShape: [2, 2, 1], name: 'px' });
    expect(ds.n).toBe(2);
    expect(ds.featureShape).toEqual([2, 2, 1]);
    expect(Array.from(ds.y)).toEqual([3, 1]);
    expect(ds.numClasses).toBe(4);
    expect(ds.x).toEqual(Float32Array.from([0, 255, 51, 102, 255, 255, 0, 0], (v) => v / 255));
  });

  it('reads files without a header, with the label in another column', () => {
    const last = parseCsv('0.5,-1,2\n1e-1,3,0\n', { labelColumn: -1 });
    expect(Array.from(last.y)).toEqual([2, 0]);
    expect(Array.from(last.x)).toEqual([0.5, -1, Math.fround(0.1), 3]);
    expect(last.featureShape).toEqual([2]);
    const middle = parseCsv('7,1,8\n', { labelColumn: 1, numClasses: 5 });
    expect(Array.from(middle.x)).toEqual([7, 8]);
    expect(middle.numClasses).toBe(5);
    // header: true skips even a numeric first line; header: false reads even a textual one as data.
    expect(parseCsv('1,2\n0,3\n', { header: true }).n).toBe(1);
    expect(() => parseCsv('y,a\n0,3\n', { header: false }, 'h.csv')).toThrow(/h\.csv:1: column 1 is 'y', not a number/);
  });

  it('loads plain and gzip files', () => {
    const text = 'y,a,b\n1,2,3\n0,4,5\n';
    writeFileSync(join(dir, 'd.csv'), text);
    writeFileSync(join(dir, 'd.csv.gz'), gzipSync(text));
    const plain = loadCsv(join(dir, 'd.csv'));
    const gz = loadCsv(join(dir, 'd.csv.gz'));
    expect(gz.x).toEqual(plain.x);
    expect(gz.y).toEqual(plain.y);
    expect(plain.name).toBe(join(dir, 'd.csv'));
  });

  it('names the line and column of a bad row', () => {
    const cases: Array<[string, object, RegExp, typeof InputError | typeof ConfigError]> = [
      ['y,a,b\n1,2,3\n0,4\n', {}, /data\.csv:3: expected 3 columns, got 2/, InputError],
      ['1,2,3\n0,x,5\n', {}, /data\.csv:2: column 2 is 'x', not a number/, InputError],
      ['1,2,3\n0,,5\n', {}, /data\.csv:2: column 2 is '', not a number/, InputError],
      ['1,2,3\n\n0,4,5\n', {}, /data\.csv:2: expected 3 columns, got 1/, InputError],
      ['1.5,2,3\n', {}, /data\.csv:1: label '1.5' is not a non-negative integer/, InputError],
      ['-1,2,3\n', {}, /data\.csv:1: label '-1'/, InputError],
      ['1,2\n9,3\n', { numClasses: 5 }, /data\.csv:2: label 9 is outside \[0, 5\)/, InputError],
      ['\n\n', {}, /data\.csv: the file is empty/, InputError],
      ['label,a\n', {}, /header but no data rows/, InputError],
      ['5\n', {}, /need a label column and at least one feature column/, InputError],
      ['1,2,3\n', { labelColumn: 3 }, /labelColumn 3 is outside the 3 columns/, ConfigError],
      ['1,2,3\n', { featureShape: [3] }, /featureShape \[3\] holds 3 values but data\.csv has 2 feature columns/, ConfigError],
    ];
    for (const [text, options, message, type] of cases) {
      const parse = () => parseCsv(text, options, 'data.csv');
      expect(parse).toThrow(type);
      expect(parse).toThrow(message);
    }
    expect(() => loadCsv(join(dir, 'missing.csv'))).toThrow(/cannot read data file .*missing\.csv: file not found/);
  });
});
