// End to end: real OS processes on 127.0.0.1, each a `gossipfl peer`, training MNIST together.
import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { runCluster } from '../../src/cli/commands/cluster.js';
import { freePorts } from '../../src/util/free-ports.js';
import { loadOrCreatePrivateKey } from '../../src/node/keys.js';

const CLI = [process.execPath, '--import', 'tsx', 'src/cli/main.ts'];

function writeConfig(dir: string, extra: string): string {
  const file = join(dir, 'run.yaml');
  writeFileSync(
    file,
    `name: e2e
seed: 7
peers: 4
backend: wasm
data: { dataset: mnist, train: 8000, test: 1000, partition: { kind: iid } }
model: { kind: mlp, hidden: [64] }
training: { batchSize: 32, optimizer: { kind: sgd, lr: 0.1 } }
topology: { name: ring }
${extra}
`,
  );
  return file;
}

const readMetrics = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { round: number; activePeers: number; mergedAccuracy: number | null; localAccuracyMean: number | null; globalMerge: boolean });

describe('real peer processes on loopback', () => {
  it('4 processes gossip over a ring and reach ≥ 90% merged accuracy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gossipfl-e2e-'));
    const config = writeConfig(dir, 'rounds: 25\nschedule: { localSteps: 20, merge: { final: true } }\neval: { every: 25 }');
    const lines: string[] = [];
    const failed = await runCluster({ config, peers: 4, out: join(dir, 'out'), encryption: 'tls', cli: CLI, onLine: (i, l) => lines.push(`[${i}] ${l}`) });
    expect(failed, lines.slice(-20).join('\n')).toBe(0);
    const finals = [0, 1, 2, 3].map((i) => readMetrics(join(dir, 'out', `peer-${i}`)).at(-1)!);
    for (const m of finals) {
      expect(m.round).toBe(25);
      expect(m.globalMerge).toBe(true);
      expect(m.mergedAccuracy!).toBeGreaterThanOrEqual(0.9);
    }
    // After the exact merge every process holds the same model, so they score the same.
    expect(new Set(finals.map((m) => m.mergedAccuracy)).size).toBe(1);
  }, 180_000);

  it('a peer killed mid-run: the other 3 finish, and it restarts from its checkpoint and rejoins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gossipfl-e2e-'));
    const config = writeConfig(dir, 'rounds: 40\nschedule: { localSteps: 10, merge: { final: true } }\nheterogeneity: { deadlineMs: 1500 }\neval: { every: 10 }');
    const ports = await freePorts(4);
    const dirs = [0, 1, 2, 3].map((i) => join(dir, `peer-${i}`));
    const ids: string[] = [];
    for (const d of dirs) {
      mkdirSync(d, { recursive: true });
      ids.push(peerIdFromPrivateKey(await loadOrCreatePrivateKey(join(d, 'peer.key'))).toString());
    }
    const bootstrap = `/ip4/127.0.0.1/tcp/${ports[0]}/p2p/${ids[0]}`;
    const logs: string[][] = [[], [], [], []];
    const start = (i: number): ChildProcess => {
      const [cmd, ...args] = CLI;
      const child = spawn(cmd, [
        ...args, 'peer', '--config', config, '--listen', `/ip4/127.0.0.1/tcp/${ports[i]}`,
        ...(i > 0 ? ['--bootstrap', bootstrap] : []), '--key', join(dirs[i], 'peer.key'), '--data-shard', `${i}/4`, '--out', dirs[i],
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      const take = (b: Buffer) => logs[i].push(...b.toString().split('\n').filter(Boolean));
      child.stdout!.on('data', take);
      child.stderr!.on('data', take);
      return child;
    };
    const exited = (c: ChildProcess) => new Promise<number>((res) => c.on('exit', (code, signal) => res(code ?? (signal ? 128 : 1))));
    const until = async (what: () => boolean, ms: number) => {
      const t0 = Date.now();
      while (!what()) {
        if (Date.now() - t0 > ms) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const first = start(0);
    await until(() => logs[0].some((l) => l.includes(' listening on ')), 30_000);
    const others = [1, 2, 3].map(start);
    const peers = [first, ...others];
    // Kill peer 3 hard once it has checkpointed a few rounds.
    await until(() => logs[3].some((l) => /^round 5\//.test(l)), 90_000);
    peers[3].kill('SIGKILL');
    expect(await exited(peers[3])).not.toBe(0);
    expect(existsSync(join(dirs[3], 'checkpoint.bin'))).toBe(true);
    const restarted = start(3);
    const dump = setInterval(() => writeFileSync(join(dir, 'peer-logs.txt'), logs.map((l, i) => l.map((x) => `[${i}] ${x}`).join('\n')).join('\n')), 2000);
    const codes = await Promise.all([exited(peers[0]), exited(peers[1]), exited(peers[2]), exited(restarted)]).finally(() => clearInterval(dump));
    expect(codes, logs.map((l, i) => `[${i}] ${l.slice(-6).join('\n')}`).join('\n')).toEqual([0, 0, 0, 0]);
    expect(logs[3].some((l) => l.includes('resuming after round'))).toBe(true);
    // Back in the run: the restarted peer ends in a round with all four members, as do the others.
    expect(readMetrics(dirs[3]).at(-1)!.activePeers).toBe(4);
    for (const d of dirs) {
      const m = readMetrics(d);
      expect(m.at(-1)!.round).toBe(40);
      expect(m.at(-1)!.mergedAccuracy!).toBeGreaterThan(0.85);
    }
  }, 240_000);
});
