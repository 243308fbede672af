// The tab's own data (parsed in the tab from picked files) and the page server (exact names
// only, run.json once the peer listens).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLocalData, type DataShape } from '../../src/browser/local-data.js';
import { servePage } from '../../src/browser/serve.js';
import type { RunInfo } from '../../src/browser/tab.js';

const enc = (s: string) => new TextEncoder().encode(s);
const SHAPE: DataShape = { featureShape: [2], numClasses: 3 };

/** Samples i = 0..n-1: label i mod 3, features (i, -i) — each row identifiable after the split. */
function csv(n: number): string {
  return Array.from({ length: n }, (_, i) => `${i % 3},${i},${-i}`).join('\n') + '\n';
}

describe('local data in the tab', () => {
  it('splits a CSV into disjoint train and held-back parts that cover every row once', () => {
    const { train, test } = parseLocalData([{ name: 'mine.csv', bytes: enc(csv(10)) }], SHAPE, { seed: 3 });
    expect([train.n, test.n]).toEqual([8, 2]);
    const rows = [...Array.from({ length: train.n }, (_, i) => train.x[2 * i]), ...Array.from({ length: test.n }, (_, i) => test.x[2 * i])];
    expect(rows.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const ds of [train, test]) {
      for (let i = 0; i < ds.n; i++) {
        expect(ds.y[i]).toBe(ds.x[2 * i] % 3);
        expect(ds.x[2 * i + 1] + ds.x[2 * i]).toBe(0);
      }
    }
    // The split is seeded: the same file and seed give the same parts.
    expect(parseLocalData([{ name: 'mine.csv', bytes: enc(csv(10)) }], SHAPE, { seed: 3 }).test.x).toEqual(test.x);
  });

  it('reads JSON rows with the scale, and refuses a shape the run does not have', () => {
    const json = JSON.stringify({ x: [[255, 0], [0, 255], [51, 102], [102, 51]], y: [0, 1, 2, 0] });
    const { train, test } = parseLocalData([{ name: 'px.json', bytes: enc(json) }], SHAPE, { scale: 1 / 255, holdOut: 0.25 });
    expect(train.n + test.n).toBe(4);
    const all = [...train.x, ...test.x].map((v) => Math.round(v * 255));
    expect(all.sort((a, b) => a - b)).toEqual([0, 0, 51, 51, 102, 102, 255, 255]);
    expect(() => parseLocalData([{ name: 'wide.csv', bytes: enc('0,1,2,3\n1,4,5,6\n') }], SHAPE)).toThrow(/featureShape \[2\]/);
    expect(() => parseLocalData([{ name: 'bad.csv', bytes: enc('0,1,2\n7,1,2\n') }], SHAPE)).toThrow(/label 7|outside/);
    expect(() => parseLocalData([], SHAPE)).toThrow(/pick a CSV or JSON file/);
    expect(() => parseLocalData([{ name: 'a.csv.gz', bytes: new Uint8Array([31, 139]) }], SHAPE)).toThrow(/uncompressed/);
  });

  it('reads an IDX images + labels pair in either order, pixels scaled to [0, 1]', () => {
    const images = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 255, 51, 102, 255, 0]);
    const labels = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 2, 0, 1]);
    const shape: DataShape = { featureShape: [1, 2, 1], numClasses: 3 };
    const a = parseLocalData([{ name: 'l.idx1-ubyte', bytes: labels }, { name: 'i.idx3-ubyte', bytes: images }], shape, { holdOut: 0.34 });
    const pairs = [a.train, a.test].flatMap((ds) => Array.from({ length: ds.n }, (_, i) => `${ds.y[i]}:${Math.round(ds.x[2 * i] * 255)},${Math.round(ds.x[2 * i + 1] * 255)}`));
    expect(pairs.sort()).toEqual(['0:51,102', '1:255,0', '2:0,255']);
    expect(() => parseLocalData([{ name: 'i', bytes: images }, { name: 'j', bytes: images }], shape)).toThrow(/IDX images \(idx3\) and the other IDX labels/);
  });
});

describe('page server', () => {
  it('serves the build by exact name, run.json only once the peer listens, and nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gossipfl-page-'));
    writeFileSync(join(dir, 'index.html'), '<p>page</p>');
    writeFileSync(join(dir, 'app.js'), 'console.log(1)');
    let info: RunInfo | undefined;
    const server = await servePage({ outDir: dir, files: ['index.html', 'app.js'], bundleBytes: 14 }, () => info, '127.0.0.1', 0);
    try {
      const get = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), init);
      expect(await (await get('/')).text()).toBe('<p>page</p>');
      const js = await get('/app.js');
      expect([js.status, js.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
      expect((await get('/run.json')).status).toBe(503);
      info = { config: { name: 'r' } as RunInfo['config'], bootstrap: ['/ip4/127.0.0.1/tcp/1/ws/p2p/x'], shape: SHAPE, psk: false, scale: 1 };
      expect(await (await get('/run.json')).json()).toEqual(info);
      for (const path of ['/../package.json', '/%2e%2e/package.json', '/app.js/', '/nope']) expect((await get(path)).status, path).toBe(404);
      expect((await get('/app.js', { method: 'POST', body: 'x' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });
});
