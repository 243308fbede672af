// End to end, asynchronous rounds: 4 real peer processes on 127.0.0.1 gossip over a ring at
// their own pace while one of them is a straggler (timing.slowPeers); the fast ones must not
// wait for it, and the final exact merge (a barrier) must still give a good model to everyone.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCluster } from '../../src/cli/commands/cluster.js';

const CLI = [process.execPath, '--import', 'tsx', 'src/cli/main.ts'];
const ROUNDS = 20;
const SLOW = 3;
const DELAY_MS = 1000;

interface Row {
  round: number;
  mergedAccuracy: number | null;
  globalMerge: boolean;
  wallSeconds: number;
}

describe('real peer processes, asynchronous rounds', () => {
  it('fast peers do not wait for a straggler, and all reach a good merged model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gossipfl-e2e-async-'));
    const config = join(dir, 'run.yaml');
    writeFileSync(
      config,
      `name: e2e-async
seed: 11
peers: 4
rounds: ${ROUNDS}
backend: wasm
data: { dataset: mnist, train: 8000, test: 1000, partition: { kind: iid } }
model: { kind: mlp, hidden: [64] }
training: { batchSize: 32, optimizer: { kind: sgd, lr: 0.1 } }
topology: { name: ring }
schedule: { localSteps: 20, merge: { final: true } }
timing: { mode: async, maxStaleness: 2, slowPeers: [{ peer: ${SLOW}, delayMs: ${DELAY_MS} }] }
eval: { every: ${ROUNDS} }
`,
    );
    const lines: string[] = [];
    const failed = await runCluster({ config, peers: 4, out: join(dir, 'out'), encryption: 'noise', cli: CLI, onLine: (i, l) => lines.push(`[${i}] ${l}`) });
    expect(failed, lines.slice(-30).join('\n')).toBe(0);
    const metrics = [0, 1, 2, 3].map((i) =>
      readFileSync(join(dir, 'out', `peer-${i}`, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Row),
    );
    // Wall time of the gossip rounds (first round's end to the last gossip round's end; the final
    // round is the merge barrier, where the fast peers do wait).
    const gossipSeconds = metrics.map((m) => m[ROUNDS - 2].wallSeconds - m[0].wallSeconds);
    // timing.slowPeers names a shard (a place in the topology), and a process's shard is its
    // position among the sorted peer ids: find the process that trains shard SLOW from its log.
    const slowProcess = lines.findIndex((l) => new RegExp(`: shard ${SLOW}/4 `).test(l));
    expect(slowProcess, lines.slice(0, 30).join('\n')).toBeGreaterThanOrEqual(0);
    const straggler = Number(/^\[(\d+)\]/.exec(lines[slowProcess])![1]);
    const fast = gossipSeconds.filter((_, i) => i !== straggler);
    const slow = gossipSeconds[straggler];
    process.stderr.write(`async e2e: gossip-round wall time fast ${fast.map((s) => s.toFixed(1)).join(', ')} s, slow ${slow.toFixed(1)} s; merged accuracy ${metrics.map((m) => m.at(-1)!.mergedAccuracy).join(', ')}\n`);
    // The straggler sleeps DELAY_MS in each of those ROUNDS − 2 rounds; a fast peer waiting for it
    // would take as long. Compared by the sleep saved, not a ratio: the machine's load slows the
    // training of every process alike but not the straggler's sleep.
    const sleptSeconds = ((ROUNDS - 2) * DELAY_MS) / 1000;
    expect(slow).toBeGreaterThanOrEqual(sleptSeconds);
    for (const s of fast) expect(s).toBeLessThan(slow - sleptSeconds / 2);
    // The fast peers mixed with each other (staleness logged) and left the straggler out once it fell behind.
    expect(lines.some((l) => l.startsWith('[') && !l.startsWith(`[${straggler}]`) && /^\[\d\] round \d+\/\d+: .*mixed 1 \(staleness -?\d+\)/.test(l))).toBe(true);
    for (const m of metrics) {
      const last = m.at(-1)!;
      expect(last.round).toBe(ROUNDS);
      expect(last.globalMerge).toBe(true);
      expect(last.mergedAccuracy!).toBeGreaterThanOrEqual(0.88);
    }
    // After the exact merge every process holds the same model.
    expect(new Set(metrics.map((m) => m.at(-1)!.mergedAccuracy)).size).toBe(1);
  }, 120_000);
});
