// Many real peer processes for the scale and network-namespace tests: one esbuild bundle of
// `gossipfl peer` started with plain node (optionally inside a wrapper such as
// `ip netns exec NAME`), every line stamped, peak RSS sampled from /proc, and the numbers the
// tests report (time to membership, round time, connections, memory) read back from the logs,
// metrics.jsonl and summary.json of each peer.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { loadOrCreatePrivateKey } from '../../src/node/keys.js';
import type { RoundMetrics, RunSummary } from '../../src/report/metrics.js';

/** The line a peer prints once it listens (a warning about listening without a PSK also says "listening on"). */
const LISTENING = /^peer \S+ listening on /;

/** Where the bundle goes: under node_modules, so its bare imports resolve to the repository's packages. */
const BUNDLE = resolve('node_modules/.cache/gossipfl-scale/peer.mjs');

/** Bundles tests/reliability/scale-peer-cli.ts (about 5 s); returns the file to run with node. */
export async function bundlePeerCli(): Promise<string> {
  // Imported here: a packed scale run (scale-main.ts) brings its peer bundle and has no esbuild.
  const { build } = await import('esbuild');
  await build({
    entryPoints: [resolve('tests/reliability/scale-peer-cli.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile: BUNDLE,
    logLevel: 'warning',
  });
  return BUNDLE;
}

/** How one peer process is started. */
export interface PeerLaunch {
  readonly listen: string;
  /** A bootstrap multiaddr (with /p2p/); none for the first peer. */
  readonly bootstrap?: string;
  /** A command the node process runs under, e.g. ['ip', 'netns', 'exec', 'ns-1']. */
  readonly wrap?: readonly string[];
  /** The `--data-shard` i/n (default: its index of the fleet's count). */
  readonly shard?: string;
}

/** One peer's stamped lines, process and peak memory. */
interface PeerState {
  proc?: ChildProcess;
  exit?: Promise<number>;
  readonly lines: Array<{ readonly at: number; readonly line: string }>;
  spawnedAt: number;
  peakRssKb: number;
}

/** What a scale run measured (times in seconds, memory in MiB). */
export interface FleetReport {
  readonly peers: number;
  /** From the first process started to the last one listening. */
  readonly startSeconds: number;
  /** From the first process started until every peer had accepted all the others. */
  readonly membershipSeconds: number;
  /** From the last process listening until every peer had accepted all the others. */
  readonly membershipAfterListenSeconds: number;
  /** Per peer the median gap between consecutive rounds (metrics wall clock): median and largest over peers. */
  readonly roundSecondsMedian: number;
  readonly roundSecondsMax: number;
  /** Connected peers at the round boundaries, per peer (mean over its rounds): mean and largest over peers. */
  readonly connectionsMean: number;
  readonly connectionsMaxOfMeans: number;
  /** Largest count at any round boundary of any peer, and the largest ever seen (start-up: the bootstrap peer). */
  readonly connectionsMaxAtRounds: number;
  readonly connectionsMaxSeen: number;
  readonly dialsOnDemandTotal: number;
  /** Peak RSS per process: median and largest. */
  readonly rssMiBMedian: number;
  readonly rssMiBMax: number;
}

/** A set of peer processes of one run in `dir`, each with a folder peer-i holding its key, metrics and summary. */
export class PeerFleet {
  readonly dirs: string[];
  readonly ids: string[] = [];
  private readonly peers: PeerState[];
  private sampler: NodeJS.Timeout | undefined;

  private constructor(
    readonly dir: string,
    readonly configFile: string,
    readonly n: number,
    private readonly bundle: string,
    private readonly startTimeoutMs: number,
  ) {
    this.dirs = Array.from({ length: n }, (_, i) => join(dir, `peer-${i}`));
    this.peers = this.dirs.map(() => ({ lines: [], spawnedAt: 0, peakRssKb: 0 }));
  }

  /** Makes the peers' folders and keys (so peer ids, and a bootstrap address, are known before any starts). */
  static async prepare(dir: string, configFile: string, n: number, bundle: string, startTimeoutMs: number): Promise<PeerFleet> {
    const fleet = new PeerFleet(dir, configFile, n, bundle, startTimeoutMs);
    for (const d of fleet.dirs) {
      mkdirSync(d, { recursive: true });
      fleet.ids.push(peerIdFromPrivateKey(await loadOrCreatePrivateKey(join(d, 'peer.key'))).toString());
    }
    fleet.sampler = setInterval(() => fleet.sampleRss(), 1000);
    fleet.sampler.unref();
    return fleet;
  }

  /** Starts peer i. */
  start(i: number, launch: PeerLaunch): void {
    const args = [
      this.bundle, 'peer', '--config', this.configFile, '--listen', launch.listen,
      ...(launch.bootstrap ? ['--bootstrap', launch.bootstrap] : []),
      '--key', join(this.dirs[i], 'peer.key'), '--data-shard', launch.shard ?? `${i}/${this.n}`, '--out', this.dirs[i],
      '--start-timeout', String(this.startTimeoutMs),
    ];
    const [cmd, ...rest] = [...(launch.wrap ?? []), process.execPath, ...args];
    const child = spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    const p = this.peers[i];
    p.proc = child;
    p.spawnedAt = Date.now();
    // Also kept in peer-i/peer.log, to follow a long run while it goes.
    const log = join(this.dirs[i], 'peer.log');
    const take = (b: Buffer) => {
      const at = Date.now();
      for (const line of b.toString().split('\n')) if (line) p.lines.push({ at, line });
      appendFileSync(log, b);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    p.exit = new Promise<number>((res) => child.on('exit', (code, signal) => res(code ?? (signal ? 128 : 1))));
  }

  /** The address peer i printed that matches `prefix` (e.g. its listen address), once it listens. */
  async addressOf(i: number, prefix: string, timeoutMs: number): Promise<string> {
    const find = () => this.lines(i).flatMap((l) => (LISTENING.test(l) ? l.split(' ').filter((a) => a.startsWith(prefix)) : []))[0];
    await until(() => find() !== undefined || this.peers[i].proc?.exitCode != null, timeoutMs, `peer ${i} to listen`);
    const addr = find();
    if (!addr) throw new Error(`peer ${i} exited before it listened:\n${this.tail(i)}`);
    return addr;
  }

  /** Every peer's stamped lines (ms since the epoch), for the skip checks of skips.ts. */
  get stamped(): ReadonlyArray<ReadonlyArray<{ readonly at: number; readonly line: string }>> {
    return this.peers.map((p) => p.lines);
  }

  lines(i: number): string[] {
    return this.peers[i].lines.map((l) => l.line);
  }

  /** The last lines of peer i, for failure messages. */
  tail(i: number, count = 15): string {
    return this.lines(i).slice(-count).map((l) => `[peer ${i}] ${l}`).join('\n');
  }

  /** Exit codes of every peer, or a timeout error naming the peers still running. */
  async exits(timeoutMs: number): Promise<number[]> {
    const all = Promise.all(this.peers.map((p) => p.exit ?? Promise.resolve(-1)));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, rej) => {
      timer = setTimeout(() => {
        const running = this.peers.flatMap((p, i) => (p.proc && p.proc.exitCode === null && p.proc.signalCode === null ? [i] : []));
        rej(new Error(`peers ${running.join(', ')} still running after ${timeoutMs} ms:\n${running.slice(0, 3).map((i) => this.tail(i)).join('\n')}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([all, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  metrics(i: number): RoundMetrics[] {
    const file = join(this.dirs[i], 'metrics.jsonl');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as RoundMetrics);
  }

  summary(i: number): RunSummary {
    return JSON.parse(readFileSync(join(this.dirs[i], 'summary.json'), 'utf8')) as RunSummary;
  }

  /** When peer i had accepted `others` distinct peers (ms since the epoch), or undefined. */
  acceptedAllAt(i: number, others: number): number | undefined {
    const seen = new Set<string>();
    for (const { at, line } of this.peers[i].lines) {
      const m = /^peer (\S+) accepted/.exec(line);
      if (m && m[1] !== this.ids[i]) seen.add(m[1]);
      if (seen.size >= others) return at;
    }
    return undefined;
  }

  listenedAt(i: number): number | undefined {
    return this.peers[i].lines.find((l) => LISTENING.test(l.line))?.at;
  }

  /** The numbers of a finished run. */
  report(): FleetReport {
    const n = this.n;
    const idx = [...Array(n).keys()];
    const t0 = Math.min(...this.peers.map((p) => p.spawnedAt));
    const listened = idx.map((i) => this.listenedAt(i) ?? NaN);
    const accepted = idx.map((i) => this.acceptedAllAt(i, n - 1) ?? NaN);
    const lastListen = Math.max(...listened);
    const allIn = Math.max(...accepted);
    const roundMedians = idx.map((i) => median(gaps(this.metrics(i))));
    const conns = idx.map((i) => this.summary(i).connections ?? {});
    const num = (c: Readonly<Record<string, number>>, k: string) => c[k] ?? NaN;
    const means = conns.map((c) => num(c, 'meanAtRounds'));
    const rss = this.peers.map((p) => p.peakRssKb / 1024);
    return {
      peers: n,
      startSeconds: (lastListen - t0) / 1000,
      membershipSeconds: (allIn - t0) / 1000,
      membershipAfterListenSeconds: Math.max(0, allIn - lastListen) / 1000,
      roundSecondsMedian: median(roundMedians),
      roundSecondsMax: Math.max(...roundMedians),
      connectionsMean: means.reduce((a, b) => a + b, 0) / n,
      connectionsMaxOfMeans: Math.max(...means),
      connectionsMaxAtRounds: Math.max(...conns.map((c) => num(c, 'maxAtRounds'))),
      connectionsMaxSeen: Math.max(...conns.map((c) => num(c, 'maxSeen'))),
      dialsOnDemandTotal: conns.reduce((a, c) => a + num(c, 'dialsOnDemand'), 0),
      rssMiBMedian: median(rss),
      rssMiBMax: Math.max(...rss),
    };
  }

  /** Kills every peer still running and stops sampling. */
  stop(): void {
    clearInterval(this.sampler);
    for (const p of this.peers) if (p.proc && p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
  }

  /** Peak RSS (VmHWM) of each running process; under a wrapper the node process is the wrapper's child after exec, same pid. */
  private sampleRss(): void {
    for (const p of this.peers) {
      const pid = p.proc?.pid;
      if (pid === undefined || p.proc!.exitCode !== null) continue;
      try {
        const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) p.peakRssKb = Math.max(p.peakRssKb, Number(m[1]));
      } catch {
        // exited between the check and the read
      }
    }
  }
}

/** Gaps (s) between consecutive finished rounds. */
function gaps(metrics: readonly RoundMetrics[]): number[] {
  return metrics.slice(1).map((m, k) => m.wallSeconds - metrics[k].wallSeconds);
}

function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Resolves once `cond()` holds (polling every 100 ms); rejects after `ms`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  for (const t0 = Date.now(); !cond(); ) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
