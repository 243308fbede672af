// `gossipfl peer`: one real peer on this machine, and `gossipfl cluster`: N local peer processes
// on loopback for trying a run on one machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { loadConfigFile } from '../../peer/config.js';
import { runPeer } from '../../node/run-peer.js';
import { loadOrCreatePrivateKey } from '../../node/keys.js';
import type { EncryptionChoice } from '../../node/options.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../compute/backend.js';
import { GossipflError } from '../../util/errors.js';
import { positiveInt } from '../options.js';

interface PeerOptions {
  config: string;
  listen: string[];
  bootstrap: string[];
  key?: string;
  psk?: string;
  dataShard?: { index: number; count: number };
  out: string;
  encryption: EncryptionChoice;
  mdns?: boolean;
  backend?: BackendChoice;
  startTimeout: number;
}

function shard(value: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`--data-shard needs i/n (e.g. 0/4), got '${value}'`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function register(program: Command): void {
  program
    .command('peer')
    .description('run one peer of a gossip run on this machine (libp2p over TCP)')
    .requiredOption('--config <file>', 'run config (YAML or JSON); every peer of the run uses the same')
    .option('--listen <multiaddr>', 'address to listen on (repeatable)', collect, [])
    .option('--bootstrap <multiaddr>', 'a peer to dial at start, /ip4/…/tcp/…/p2p/… (repeatable)', collect, [])
    .option('--key <file>', 'private key file (created if missing; keeps the peer id across restarts)')
    .option('--psk <file>', 'pre-shared key of a private network (see `gossipfl psk new`)')
    .option('--data-shard <i/n>', 'train on shard i of n of the partition (default: position among the members)', shard)
    .option('--out <dir>', 'folder for metrics.jsonl, summary.json and checkpoint.bin', 'runs/peer')
    .addOption(new Option('--encryption <kind>', 'connection encryption').choices(['noise', 'tls', 'both']).default('tls'))
    .option('--mdns', 'discover peers on the local network with mDNS')
    .addOption(new Option('--backend <name>', 'tfjs backend (overrides the config)').choices([...BACKEND_CHOICES]))
    .option('--start-timeout <ms>', 'how long to wait for the other peers at start', positiveInt('--start-timeout'), 60_000)
    .action(async (opts: PeerOptions) => {
      const config = loadConfigFile(opts.config);
      if (opts.backend) config.backend = opts.backend;
      const stop = new AbortController();
      let interrupts = 0;
      const onSignal = () => {
        interrupts++;
        if (interrupts > 1) process.exit(130);
        process.stderr.write('stopping at the end of this round (Ctrl-C again to quit now)\n');
        stop.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const summary = await runPeer({
          config,
          outDir: opts.out,
          node: {
            listen: opts.listen.length ? opts.listen : ['/ip4/0.0.0.0/tcp/0'],
            bootstrap: opts.bootstrap,
            mdns: opts.mdns ?? false,
            encryption: opts.encryption,
            ...(opts.key ? { keyFile: opts.key } : {}),
            ...(opts.psk ? { pskFile: opts.psk } : {}),
          },
          ...(opts.dataShard ? { dataShard: opts.dataShard } : {}),
          startTimeoutMs: opts.startTimeout,
          signal: stop.signal,
        });
        const acc = summary.localAccuracyMean;
        process.stdout.write(`peer done: ${summary.rounds} rounds, accuracy ${acc === null ? 'n/a' : `${(acc * 100).toFixed(2)}%`}, results in ${opts.out}/\n`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });

  program
    .command('cluster')
    .description('start N local peer processes on 127.0.0.1 that run one gossip run together')
    .requiredOption('--config <file>', 'run config (YAML or JSON)')
    .requiredOption('--peers <n>', 'number of peer processes (must equal the config\'s peers)', positiveInt('--peers'))
    .option('--out <dir>', 'folder with one sub-folder per peer', 'runs/cluster')
    .addOption(new Option('--encryption <kind>', 'connection encryption').choices(['noise', 'tls', 'both']).default('tls'))
    .addOption(new Option('--backend <name>', 'tfjs backend').choices([...BACKEND_CHOICES]))
    .action(async (opts: { config: string; peers: number; out: string; encryption: EncryptionChoice; backend?: BackendChoice }) => {
      const config = loadConfigFile(opts.config);
      if (config.peers !== opts.peers) {
        throw new GossipflError('config', `--peers ${opts.peers} but ${opts.config} has peers: ${config.peers}; make them equal`);
      }
      const code = await runCluster({ ...opts, config: resolve(opts.config) });
      if (code !== 0) throw new GossipflError('network', `cluster: ${code} peer process(es) failed; see the [peer i] lines above`);
    });
}

/** Starts the peers (peer 0 first, the others bootstrapping from it) and waits for all; returns the number that failed. */
export interface ClusterOptions {
  config: string;
  peers: number;
  out: string;
  encryption: EncryptionChoice;
  backend?: BackendChoice;
  /** How to start the gossipfl CLI (default: this process's own node, flags and script). */
  cli?: readonly string[];
  /** Gets every line a peer prints (default: stderr with a [peer i] prefix). */
  onLine?: (peer: number, line: string) => void;
}

export async function runCluster(opts: ClusterOptions): Promise<number> {
  const ports = await freePorts(opts.peers);
  const dirs = Array.from({ length: opts.peers }, (_, i) => join(opts.out, `peer-${i}`));
  const ids: string[] = [];
  for (const dir of dirs) {
    mkdirSync(dir, { recursive: true });
    ids.push(peerIdFromPrivateKey(await loadOrCreatePrivateKey(join(dir, 'peer.key'))).toString());
  }
  const bootstrap = `/ip4/127.0.0.1/tcp/${ports[0]}/p2p/${ids[0]}`;
  const start = (i: number): ChildProcess => {
    const [cmd, ...prefixArgs] = opts.cli ?? [process.execPath, ...process.execArgv, process.argv[1]];
    const child = spawn(
      cmd,
      [
        ...prefixArgs,
        'peer',
        '--config', opts.config,
        '--listen', `/ip4/127.0.0.1/tcp/${ports[i]}`,
        ...(i > 0 ? ['--bootstrap', bootstrap] : []),
        '--key', join(dirs[i], 'peer.key'),
        '--data-shard', `${i}/${opts.peers}`,
        '--out', dirs[i],
        '--encryption', opts.encryption,
        ...(opts.backend ? ['--backend', opts.backend] : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const prefix = (chunk: Buffer) =>
      chunk
        .toString()
        .split('\n')
        .filter((l) => l.length)
        .forEach((l) => (opts.onLine ? opts.onLine(i, l) : process.stderr.write(`[peer ${i}] ${l}\n`)));
    child.stdout!.on('data', prefix);
    child.stderr!.on('data', prefix);
    return child;
  };
  // Peer 0 is everyone's bootstrap: start the others once it listens, so their first dial lands.
  const first = start(0);
  await new Promise<void>((res) => {
    const onData = (chunk: Buffer) => {
      if (chunk.toString().includes(' listening on ')) {
        first.stderr!.off('data', onData);
        res();
      }
    };
    first.stderr!.on('data', onData);
    first.once('exit', () => res());
  });
  const children = [first, ...Array.from({ length: opts.peers - 1 }, (_, k) => start(k + 1))];
  const forward = () => children.forEach((c) => c.kill('SIGINT'));
  process.on('SIGINT', forward);
  const codes = await Promise.all(children.map((c) => new Promise<number>((res) => c.on('exit', (code) => res(code ?? 1)))));
  process.off('SIGINT', forward);
  return codes.filter((c) => c !== 0).length;
}

/** Ports the OS says are free now (bound to port 0 and released). */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) {
    const port = await new Promise<number>((res, rej) => {
      const s = createServer();
      s.once('error', rej);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}
