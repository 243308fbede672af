// `gossipfl peer`: one real peer on this machine.
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfigFile } from '../../peer/config.js';
import { preflight } from '../../peer/preflight.js';
import { setOption } from './simulate.js';
import { runPeer } from '../../node/run-peer.js';
import { checkOutDir, exposureWarning } from '../../node/preflight.js';
import type { EncryptionChoice, TransportChoice } from '../../node/options.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../compute/backend.js';
import { positiveInt } from '../options.js';
import { pluginOption } from '../plugins.js';

interface PeerOptions {
  config: string;
  listen: string[];
  bootstrap: string[];
  key?: string;
  psk?: string;
  dataShard?: { index: number; count: number };
  out: string;
  encryption: EncryptionChoice;
  transport: TransportChoice;
  mdns?: boolean;
  backend?: BackendChoice;
  startTimeout: number;
  serve?: boolean;
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
    .addOption(new Option('--transport <kind>', 'TCP, QUIC (UDP, TLS 1.3 built in; listen on /ip4/…/udp/<port>/quic-v1) or both').choices(['tcp', 'quic', 'both']).default('tcp'))
    .option('--mdns', 'discover peers on the local network with mDNS')
    .addOption(new Option('--backend <name>', 'tfjs backend (overrides the config)').choices([...BACKEND_CHOICES]))
    .option('--serve', 'serve a mode: federated run: aggregate the clients\' uploads and send the global model (trains nothing; one per run)')
    .option('--start-timeout <ms>', 'how long to wait for the other peers at start', positiveInt('--start-timeout'), 60_000)
    .addOption(setOption())
    .addOption(pluginOption())
    .action(async (opts: PeerOptions & { set?: string[] }) => {
      const config = loadConfigFile(opts.config, opts.set ?? []);
      preflight(config);
      if (opts.backend) config.backend = opts.backend;
      // Before anything joins: a folder we cannot write would fail only after the others counted on us.
      checkOutDir(opts.out);
      const listen = opts.listen.length ? opts.listen : defaultListen(opts.transport);
      const exposed = exposureWarning(listen, opts.psk);
      if (exposed) process.stderr.write(`${exposed}\n`);
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
            listen,
            bootstrap: opts.bootstrap,
            mdns: opts.mdns ?? false,
            encryption: opts.encryption,
            transport: opts.transport,
            ...(opts.key ? { keyFile: opts.key } : {}),
            ...(opts.psk ? { pskFile: opts.psk } : {}),
          },
          ...(opts.dataShard ? { dataShard: opts.dataShard } : {}),
          startTimeoutMs: opts.startTimeout,
          signal: stop.signal,
          ...(opts.serve ? { serve: true } : {}),
        });
        const acc = opts.serve ? summary.mergedAccuracy : summary.localAccuracyMean;
        const what = opts.serve ? 'server done: global model accuracy' : 'peer done: accuracy';
        process.stdout.write(`${what.replace(':', `: ${summary.rounds} rounds,`)} ${acc === null ? 'n/a' : `${(acc * 100).toFixed(2)}%`}, results in ${opts.out}/\n`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

/** Every interface, a port the OS picks, on each chosen transport. */
function defaultListen(transport: TransportChoice): string[] {
  const tcp = '/ip4/0.0.0.0/tcp/0';
  const quic = '/ip4/0.0.0.0/udp/0/quic-v1';
  return transport === 'tcp' ? [tcp] : transport === 'quic' ? [quic] : [tcp, quic];
}
