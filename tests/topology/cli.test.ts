import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  const code = await main(['topology', ...args]);
  vi.restoreAllMocks();
  return { code, out, err };
}

afterEach(() => vi.restoreAllMocks());

describe('gossipfl topology', () => {
  it('--json prints one object with the documented keys', async () => {
    const { code, out } = await run(['ring', '--peers', '12', '--json']);
    expect(code).toBe(0);
    const o = JSON.parse(out);
    for (const k of ['name', 'peers', 'edges', 'degree', 'spectralGap', 'doublyStochastic', 'symmetric', 'connected']) expect(o).toHaveProperty(k);
    expect(o).toMatchObject({ name: 'ring', peers: 12, edges: 12, degree: { min: 2, mean: 2, max: 2 }, doublyStochastic: true, symmetric: true, connected: true });
    expect(o.spectralGap).toBeCloseTo((2 / 3) * (1 - Math.cos(Math.PI / 6)), 12);
    expect(out.trim().split('\n')).toHaveLength(1);
  });

  it('prints a readable summary, including a time-varying schedule', async () => {
    const text = (await run(['random-regular', '--peers', '20', '--degree', '4', '--seed', '3'])).out;
    expect(text).toMatch(/^peers\s+20$/m);
    expect(text).toMatch(/^degree\s+min 4, mean 4, max 4$/m);
    expect(text).toMatch(/^doubly stochastic\s+yes$/m);
    const pull = (await run(['pull', '--peers', '16', '--r', '1.5'])).out;
    expect(pull).toMatch(/row-stochastic only/);
    expect(pull).toMatch(/^period\s+none/m);
  });

  it('says a disconnected graph has gap 0, not rounding noise', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'gossipfl-topology-'));
    const file = join(dir, 'two.txt');
    writeFileSync(file, '0 1\n2 3\n');
    try {
      expect((await run(['edge-list', '--file', file])).out).toMatch(/^spectral gap\s+0 \(disconnected/m);
      expect(JSON.parse((await run(['edge-list', '--file', file, '--json'])).out)).toMatchObject({ spectralGap: 0, connected: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [['ring', '--peers', '1'], /peers must be at least 2/],
    [['random-regular', '--peers', '9', '--degree', '3'], /no 3-regular graph on 9 peers/],
    [['random-regular', '--peers', '9'], /needs --degree/],
    [['erdos-renyi', '--peers', '500', '--p', '0.001'], /hopeless/],
    [['ring', '--peers', 'many'], /--peers must be a number/],
    [['edge-list', '--file', '/nonexistent/edges.txt'], /cannot read edge list/],
  ])('%j → one error line, exit code 2', async (args, message) => {
    const { code, out, err } = await run(args as string[]);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(message as RegExp);
    expect(err.trim().split('\n')).toHaveLength(1);
  });
});
