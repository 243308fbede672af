// The page bundle builds without a browser: a Node-only module reached from the tab's import graph
// (the report renderer's native rasterizer, a run folder) fails here, where the browser tests would only skip.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBrowserBundle } from '../../src/browser/build.js';

describe('browser page bundle', () => {
  const out = mkdtempSync(join(tmpdir(), 'gossipfl-page-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('bundles the peer for the tab with no Node-only module in it', async () => {
    const built = await buildBrowserBundle(out);
    expect(built.files).toContain('app.js');
    const app = readFileSync(join(out, 'app.js'), 'utf8');
    expect(app.length).toBe(built.bundleBytes);
    expect(app).not.toMatch(/resvg/i);
    expect(app).not.toContain('report.html');
  });
});
