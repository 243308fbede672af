// `gossipfl cluster`: N local peer processes on loopback that run one gossip run together, for
// trying a run on one machine. `--psk new` (or a key file) makes it a private network. A
// `mode: federated` run gets one more process that serves (`peer --serve`, folder server/). Each
// process trains the shard of its place in the topology, so the cluster runs what `simulate` runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { loadConfigFile } from '../../peer/config.js';
import { preflight } from '../../peer/preflight.js';
import { setOption } from './simulate.js';
import { peerIdOfKeyFile, readPskFile, writeNewPskFile } from '../../node/keys.js';
import type { EncryptionChoice, TransportChoice } from '../../node/options.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../compute/backend.js';
import { GossipflError } from '../../util/errors.js';
import { freePorts } from '../../util/free-ports.js';
import { positiveInt } from '../options.js';
import { pluginArgs, pluginOption } from '../plugins.js';
import { REPORT_FILE, writeReport } from '../../report/write-report.js';

export function register(program: Command): void {
  program
    .command('cluster')
    .description('start N local peer processes on 127.0.0.1 that run one gossip run together')
    .requiredOption('--config <file>', 'run config (YAML or JSON)')
    .option('--peers <n>', 'number of peer processes (default: the config\'s peers; must equal them)', positiveInt('--peers'))
    .option('--out <dir>', 'folder with one sub-folder per peer (each a run folder with its report.html) and report.html over all of them', 'runs/cluster')
    .addOption(new Option('--encryption <kind>', 'connection encryption').choices(['noise', 'tls', 'both']).default('tls'))
    .addOption(new Option('--backend <name>', 'tfjs backend').choices([...BACKEND_CHOICES]))
    .addOption(new Option('--transport <kind>', 'TCP, QUIC or both (QUIC uses the same port numbers over UDP)').choices(['tcp', 'quic', 'both']).default('tcp'))
    .option('--psk <file|new>', 'pre-shared key of a private network for all peers: a key file, or "new" to write a fresh one to <out>/swarm.key')
    .addOption(setOption())
    .addOption(pluginOption())
    .action(async (opts: { config: string; peers?: number; out: string; encryption: EncryptionChoice; transport: TransportChoice; backend?: BackendChoice; psk?: string; set?: string[]; plugin?: string[] }) => {
      const config = loadConfigFile(opts.config, opts.set ?? []);
      preflight(config);
      if (opts.peers !== undefined && config.peers !== opts.peers) {
        throw new GossipflError('config', `--peers ${opts.peers} but ${opts.config} has peers: ${config.peers}; make them equal or leave --peers out`);
      }
      const psk = opts.psk === undefined ? undefined : clusterPsk(opts.psk, opts.out);
      const serve = config.mode === 'federated';
      const code = await runCluster({ ...opts, peers: config.peers, config: resolve(opts.config), plugins: opts.plugin ?? [], serve, ...(psk ? { psk } : {}) });
      if (code !== 0) throw new GossipflError('network', `cluster: ${code} peer process(es) failed; see the [peer i] lines above`);
      // One report over every process's run folder, each a run of its own (named peer-i, server).
      const report = await writeReport(clusterDirs(opts.out, config.peers, serve), join(opts.out, REPORT_FILE));
      for (const warning of report.warnings) process.stderr.write(`warning: ${warning}\n`);
      process.stdout.write(`cluster: ${config.peers} peers${serve ? ' and a server' : ''} finished; report of all of them in ${report.html}\n`);
    });
}

/** Starts the peers (peer 0 first, the others bootstrapping from it) and waits for all; returns the number that failed. */
export interface ClusterOptions {
  config: string;
  /** `--set key.path=value` overrides every peer applies to the config. */
  set?: readonly string[];
  peers: number;
  out: string;
  encryption: EncryptionChoice;
  /** Default tcp. */
  transport?: TransportChoice;
  backend?: BackendChoice;
  /** Plug-in modules every peer imports (`--plugin`; already loaded by this process to check the config). */
  plugins?: readonly string[];
  /** Pre-shared key file every peer uses (a private network). */
  psk?: string;
  /** Start one more process that serves the run (mode federated); the clients then take their shards by position. */
  serve?: boolean;
  /** How to start the gossipfl CLI (default: this process's own node, flags and script). */
  cli?: readonly string[];
  /** Gets every line a peer prints (default: stderr with a [peer i] prefix). */
  onLine?: (peer: number, line: string) => void;
}

export async function runCluster(opts: ClusterOptions): Promise<number> {
  const processes = opts.peers + (opts.serve ? 1 : 0);
  const ports = await freePorts(processes);
  const dirs = clusterDirs(opts.out, opts.peers, opts.serve === true);
  const ids: string[] = [];
  for (const dir of dirs) {
    mkdirSync(dir, { recursive: true });
    ids.push(await peerIdOfKeyFile(join(dir, 'peer.key')));
  }
  const transport = opts.transport ?? 'tcp';
  const tcpAddr = (port: number) => `/ip4/127.0.0.1/tcp/${port}`;
  const quicAddr = (port: number) => `/ip4/127.0.0.1/udp/${port}/quic-v1`;
  const listenOn = (port: number) => (transport === 'tcp' ? [tcpAddr(port)] : transport === 'quic' ? [quicAddr(port)] : [tcpAddr(port), quicAddr(port)]);
  const bootstrap = `${transport === 'quic' ? quicAddr(ports[0]) : tcpAddr(ports[0])}/p2p/${ids[0]}`;
  // A member's place in the topology is its position among the sorted peer ids; training on the
  // shard of that position makes each process the simulator's peer of that index (the same run).
  const sortedIds = ids.slice(0, opts.peers).sort();
  const start = (i: number): ChildProcess => {
    const [cmd, ...prefixArgs] = opts.cli ?? [process.execPath, ...process.execArgv, process.argv[1]];
    const child = spawn(
      cmd,
      [
        ...prefixArgs,
        'peer',
        '--config', opts.config,
        ...(opts.set ?? []).flatMap((o) => ['--set', o]),
        ...pluginArgs(opts.plugins),
        ...listenOn(ports[i]).flatMap((a) => ['--listen', a]),
        ...(i > 0 ? ['--bootstrap', bootstrap] : []),
        '--key', join(dirs[i], 'peer.key'),
        // Federated clients train on the shard of their position among the clients (the server weighs uploads by it).
        ...(opts.serve ? (i === opts.peers ? ['--serve'] : []) : ['--data-shard', `${sortedIds.indexOf(ids[i])}/${opts.peers}`]),
        '--out', dirs[i],
        '--encryption', opts.encryption,
        '--transport', transport,
        ...(opts.backend ? ['--backend', opts.backend] : []),
        ...(opts.psk ? ['--psk', opts.psk] : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const prefix = (chunk: Buffer) =>
      chunk
        .toString()
        .split('\n')
        .filter((l) => l.length)
        .forEach((l) => (opts.onLine ? opts.onLine(i, l) : process.stderr.write(`[${i === opts.peers ? 'server' : `peer ${i}`}] ${l}\n`)));
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
  const children = [first, ...Array.from({ length: processes - 1 }, (_, k) => start(k + 1))];
  const forward = () => children.forEach((c) => c.kill('SIGINT'));
  process.on('SIGINT', forward);
  const codes = await Promise.all(children.map((c) => new Promise<number>((res) => c.on('exit', (code) => res(code ?? 1)))));
  process.off('SIGINT', forward);
  return codes.filter((c) => c !== 0).length;
}

/** The run folders of a cluster's processes: peer-0 … peer-(n−1), and server/ when one serves. */
export function clusterDirs(out: string, peers: number, serve: boolean): string[] {
  return Array.from({ length: peers + (serve ? 1 : 0) }, (_, i) => join(out, i === peers ? 'server' : `peer-${i}`));
}

/** The key file for `--psk`: "new" writes a fresh key to <out>/swarm.key (replacing one from an earlier run); a path is checked now, before any peer starts. */
export function clusterPsk(value: string, out: string): string {
  if (value !== 'new') {
    readPskFile(value);
    return resolve(value);
  }
  const file = resolve(join(out, 'swarm.key'));
  mkdirSync(out, { recursive: true });
  rmSync(file, { force: true });
  writeNewPskFile(file);
  return file;
}
