// Where the wasm backend looks for its binaries: tfjs's own dist folder when the package
// resolves, the bundle's folder when the code runs bundled with no node_modules beside it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledWasmDir } from '../../src/compute/backend.js';

const outside = mkdtempSync(join(tmpdir(), 'gossipfl-bundle-'));
afterAll(() => rmSync(outside, { recursive: true, force: true }));

describe('bundledWasmDir', () => {
  it('is undefined inside the project, where @tensorflow/tfjs-backend-wasm resolves', () => {
    expect(bundledWasmDir(pathToFileURL(join(process.cwd(), 'src', 'compute', 'backend.ts')).href)).toBeUndefined();
  });

  it('is the folder of a bundle that has no node_modules around it', () => {
    expect(bundledWasmDir(pathToFileURL(join(outside, 'main.mjs')).href)).toBe(`${outside}${sep}`);
  });
});
