// Real `gossipfl peer` processes on loopback for reliability tests: keys, ports and folders made
// up front (so peer ids and the bootstrap address are known), each process's lines kept, its
// metrics read back. Peer 0 is everyone's bootstrap peer.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { loadOrCreatePrivateKey } from '../../src/node/keys.js';
import { freePorts } from '../../src/util/free-ports.js';
import type { RoundMetrics } from '../../src/report/metrics.js';

const CLI = [process.execPath, '--import', 'tsx', 'src/cli/main.ts'];
/**
 * How long a peer waits for the others at start (and the harness for peer 0 to listen): on a
 * machine with far more runnable processes than cores, starting a peer process (transpiling,
 * loading the backend) was measured at up to 2 min, past the CLI's default of 60 s.
 */
const START_TIMEOUT_MS = 300_000;

export interface PeerProcesses {
  readonly dir: string;
  readonly configFile: string;
  readonly dirs: readonly string[];
  readonly ids: readonly string[];
  /** Every line each peer printed, in order (across restarts). */
  readonly logs: string[][];
  /** The same lines with the time this process read them (ms since the epoch). */
  readonly stamped: Array<Array<{ readonly at: number; readonly line: string }>>;
  /** The latest process of each peer. */
  readonly procs: Array<ChildProcess | undefined>;
  readonly bootstrap: string;
  /** Starts (or restarts) peer i. */
  start(i: number): ChildProcess;
  /** Starts peer 0, waits until it listens, then starts the others. */
  startAll(): Promise<void>;
  /** Exit code of peer i's latest process (128 + signal number style: 128 for a signal). */
  exit(i: number): Promise<number>;
  /** The last round peer i reported finished (1-based; 0 before any). */
  lastRound(i: number): number;
  metrics(i: number): RoundMetrics[];
  /** Kills every process still running and removes the folder. */
  cleanup(): void;
}

/** Prepares `n` peers of the run in `configYaml` in a fresh temporary folder. */
export async function preparePeers(n: number, configYaml: string, name: string): Promise<PeerProcesses> {
  const dir = mkdtempSync(join(tmpdir(), `gossipfl-${name}-`));
  const configFile = join(dir, 'run.yaml');
  writeFileSync(configFile, configYaml);
  const ports = await freePorts(n);
  const dirs = Array.from({ length: n }, (_, i) => join(dir, `peer-${i}`));
  const ids: string[] = [];
  for (const d of dirs) {
    mkdirSync(d, { recursive: true });
    ids.push(peerIdFromPrivateKey(await loadOrCreatePrivateKey(join(d, 'peer.key'))).toString());
  }
  const bootstrap = `/ip4/127.0.0.1/tcp/${ports[0]}/p2p/${ids[0]}`;
  const logs: string[][] = ids.map(() => []);
  const stamped: Array<Array<{ at: number; line: string }>> = ids.map(() => []);
  // Every line also goes to runs/reliability/logs/<name>/peer-<i>.log, kept after the test for a look.
  const logDir = join('runs', 'reliability', 'logs', name);
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  const procs: Array<ChildProcess | undefined> = ids.map(() => undefined);
  const exits = new Map<ChildProcess, Promise<number>>();
  const start = (i: number): ChildProcess => {
    const [cmd, ...args] = CLI;
    const child = spawn(
      cmd,
      [...args, 'peer', '--config', configFile, '--listen', `/ip4/127.0.0.1/tcp/${ports[i]}`, ...(i > 0 ? ['--bootstrap', bootstrap] : []), '--key', join(dirs[i], 'peer.key'), '--data-shard', `${i}/${n}`, '--out', dirs[i], '--start-timeout', String(START_TIMEOUT_MS)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const take = (b: Buffer) => {
      const lines = b.toString().split('\n').filter(Boolean);
      logs[i].push(...lines);
      const at = Date.now();
      stamped[i].push(...lines.map((line) => ({ at, line })));
      appendFileSync(join(logDir, `peer-${i}.log`), lines.map((l) => `${new Date().toISOString()} ${l}\n`).join(''));
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    exits.set(child, new Promise<number>((res) => child.on('exit', (code, signal) => res(code ?? (signal ? 128 : 1)))));
    procs[i] = child;
    return child;
  };
  const lastRound = (i: number) => Math.max(0, ...logs[i].flatMap((l) => /^round (\d+)\//.exec(l)?.[1] ?? []).map(Number));
  return {
    dir,
    configFile,
    dirs,
    ids,
    logs,
    stamped,
    procs,
    bootstrap,
    start,
    async startAll() {
      start(0);
      await until(() => logs[0].some((l) => l.includes(' listening on ')), START_TIMEOUT_MS, 'peer 0 to listen');
      for (let i = 1; i < n; i++) start(i);
    },
    exit: (i) => exits.get(procs[i]!)!,
    lastRound,
    metrics: (i) => {
      const file = join(dirs[i], 'metrics.jsonl');
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as RoundMetrics);
    },
    cleanup() {
      for (const p of procs) if (p && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once `cond()` holds (polling every 100 ms); rejects after `ms`. */
export async function until(cond: () => boolean, ms: number, what = 'a condition'): Promise<void> {
  for (const t0 = Date.now(); !cond(); ) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The gaps (s) between consecutive rounds a peer finished, from its metrics' wall clock. */
export function roundGaps(metrics: readonly RoundMetrics[]): number[] {
  return metrics.slice(1).map((m, k) => m.wallSeconds - metrics[k].wallSeconds);
}
