// Every example runs as a user would run it (`npx tsx examples/<name>.ts`), on its --quick
// setting, and its output is checked for the numbers it must print.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { node } from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const scratch = mkdtempSync(join(tmpdir(), 'gossipfl-examples-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs an example to completion and returns its standard output; a non-zero exit fails the test with its stderr. */
async function runExample(name: string, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(tsx, [join('examples', name), ...args], { cwd: root, timeout: 90_000, maxBuffer: 16 << 20 });
  return stdout;
}

describe('examples', () => {
  it('heterogeneity-study.ts: one run per Dirichlet α and one report over them', async () => {
    const out = join(scratch, 'heterogeneity');
    const stdout = await runExample('heterogeneity-study.ts', ['--quick', '--out', out]);
    for (const alpha of ['0.1', '10']) {
      expect(stdout).toMatch(new RegExp(`^α = ${alpha}: local models \\d+\\.\\d% before the final merge, merged \\d+\\.\\d%$`, 'm'));
      const summary = JSON.parse(readFileSync(join(out, `alpha-${alpha}`, 'summary.json'), 'utf8'));
      expect(summary).toMatchObject({ label: `α = ${alpha}`, rounds: 2, peers: 4 });
      expect(summary.config.data.partition).toEqual({ kind: 'dirichlet', alpha: Number(alpha) });
      expect(readFileSync(join(out, `alpha-${alpha}`, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    }
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('α = 0.1');
    expect(html).toContain('α = 10');
  });

  it('custom-model.ts: 8 peers train a model that is not in the zoo', async () => {
    const stdout = await runExample('custom-model.ts', ['--quick']);
    // deep 784×32 + 32, wide 784×10, out 32×10 + 10
    expect(stdout).toContain(`${784 * 32 + 32 + 784 * 10 + 32 * 10 + 10} weights per peer`);
    expect(stdout).toMatch(/^round 1: train loss \d+\.\d{3}$/m);
    expect(stdout).toMatch(/^round 2: train loss \d+\.\d{3}$/m);
    expect(stdout).toMatch(/merged model accuracy \d+\.\d% after 2 rounds/);
  });

  it('custom-topology-aggregation.ts: the edge-list topology and ClippedGossip are the ones used', async () => {
    // τ tiny: every neighbour model is clipped. The edge list has 13 links, so each round
    // carries 26 directed messages: 52 over 2 rounds, none lost on the ideal network.
    const tight = await runExample('custom-topology-aggregation.ts', ['--quick', '--tau', '1e-6']);
    expect(tight).toContain('ClippedGossip τ = 1e-6: clipped 52 of 52 neighbour models');
    const spectralGap = /spectral gap (\d\.\d{4})/.exec(tight)?.[1];
    expect(Number(spectralGap)).toBeGreaterThan(0);
    expect(Number(spectralGap)).toBeLessThan(1);
    // τ huge: nothing is clipped (the rule is then plain gossip mixing).
    const loose = await runExample('custom-topology-aggregation.ts', ['--quick', '--tau', '1e9']);
    expect(loose).toContain('clipped 0 of 52 neighbour models');
    expect(/spectral gap (\d\.\d{4})/.exec(loose)?.[1]).toBe(spectralGap);
  });

  it('two-peers-powersgd.ts --method int8: two libp2p peers on loopback train and merge', async () => {
    const stdout = await runExample('two-peers-powersgd.ts', ['--quick', '--method', 'int8']);
    const merged = [...stdout.matchAll(/^peer ([ab]): merged model (\d+\.\d)%/gm)];
    expect(merged.map((m) => m[1])).toEqual(['a', 'b']);
    // After the final exact merge both peers hold the same model.
    expect(merged[0][2]).toBe(merged[1][2]);
  });

  it('two-peers-powersgd.ts (PowerSGD): two libp2p peers all-reduce low-rank updates and agree', async () => {
    const stdout = await runExample('two-peers-powersgd.ts', ['--quick']);
    const merged = [...stdout.matchAll(/^peer ([ab]): merged model (\d+\.\d)%, (\d+) bytes sent/gm)];
    expect(merged.map((m) => m[1])).toEqual(['a', 'b']);
    // The all-reduce leaves both peers with the same model every round.
    expect(merged[0][2]).toBe(merged[1][2]);
    expect(Number(merged[0][3])).toBeGreaterThan(0);
  });
});
