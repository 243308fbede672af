// `gossipfl serve-page`: one Node peer of a run that also listens on WebSockets, plus the page a
// browser opens to join the same run as a peer (one command, one link to hand out).
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { loadConfigFile } from '../../peer/config.js';
import { preflight } from '../../peer/preflight.js';
import { loadDataSource } from '../../data/source.js';
import { runPeer } from '../../node/run-peer.js';
import { checkOutDir, exposureWarning } from '../../node/preflight.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../compute/backend.js';
import { buildBrowserBundle } from '../../browser/build.js';
import { servePage, type PageServer } from '../../browser/serve.js';
import type { RunInfo } from '../../browser/tab.js';
import { ConfigError } from '../../util/errors.js';
import { setOption } from './simulate.js';
import { positiveInt } from '../options.js';

interface ServePageOptions {
  config: string;
  host: string;
  port: number;
  tcpPort: number;
  wsPort: number;
  bootstrap: string[];
  key?: string;
  psk?: string;
  out: string;
  backend?: BackendChoice;
  startTimeout: number;
  set?: string[];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];
const port = (flag: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${flag} needs a port number 0-65535 (0: any free port), got '${value}'`);
  return n;
};

export function register(program: Command): void {
  program
    .command('serve-page')
    .description('run one peer of a run (TCP and WebSockets) and serve the page a browser opens to join the run as another peer')
    .requiredOption('--config <file>', 'run config (YAML or JSON); the Node peers use the same, the page gets it from here')
    .option('--host <ip>', 'address for the page, the TCP and the WebSocket listeners (0.0.0.0: every interface)', '127.0.0.1')
    .option('--port <n>', 'HTTP port of the page', port('--port'), 8080)
    .option('--tcp-port <n>', 'TCP port of the peer (other Node peers bootstrap here)', port('--tcp-port'), 0)
    .option('--ws-port <n>', 'WebSocket port of the peer (browsers dial here)', port('--ws-port'), 0)
    .option('--bootstrap <multiaddr>', 'a peer of the run to dial at start (repeatable)', collect, [])
    .option('--key <file>', 'private key file (created if missing)')
    .option('--psk <file>', 'pre-shared key of a private network; the page then asks each user for the key file')
    .option('--out <dir>', 'folder for the peer\'s metrics, checkpoint and the built page', 'runs/page')
    .addOption(new Option('--backend <name>', 'tfjs backend of this peer (overrides the config)').choices([...BACKEND_CHOICES]))
    .option('--start-timeout <ms>', 'how long to wait for the other peers (browsers included) at start', positiveInt('--start-timeout'), 600_000)
    .addOption(setOption())
    .action(async (opts: ServePageOptions) => {
      const config = loadConfigFile(opts.config, opts.set ?? []);
      preflight(config);
      if (opts.backend) config.backend = opts.backend;
      checkOutDir(opts.out);
      const ip = opts.host.includes(':') ? 'ip6' : 'ip4';
      const listen = [`/${ip}/${opts.host}/tcp/${opts.tcpPort}`, `/${ip}/${opts.host}/tcp/${opts.wsPort}/ws`];
      const exposed = exposureWarning(listen, opts.psk);
      if (exposed) process.stderr.write(`${exposed}\n`);
      const build = await buildBrowserBundle(join(opts.out, 'page'));
      const { train } = loadDataSource(config.data, config.seed);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let info: RunInfo | undefined;
      // The page listens first: a port in use fails here, before the peer joins the run.
      const page: PageServer = await servePage(build, () => info, opts.host, opts.port);
      try {
        const summary = await runPeer({
          config,
          outDir: opts.out,
          // Browsers offer noise only; Node peers keep TLS first.
          node: { listen, bootstrap: opts.bootstrap, encryption: 'both', ...(opts.key ? { keyFile: opts.key } : {}), ...(opts.psk ? { pskFile: opts.psk } : {}) },
          startTimeoutMs: opts.startTimeout,
          signal: stop.signal,
          onListening: (_id, addresses) => {
            info = {
              config,
              bootstrap: addresses.filter((a) => a.includes('/ws/')),
              shape: { featureShape: train.featureShape, numClasses: train.numClasses },
              psk: opts.psk !== undefined,
              scale: config.data.dataset === 'csv' ? 1 / 255 : 1,
            };
            const tcp = addresses.filter((a) => !a.includes('/ws/'));
            process.stdout.write(`open ${page.url} in a browser to join run ${config.name} (${config.peers} peers in all)\nother Node peers: gossipfl peer --config ${opts.config} --encryption both --bootstrap ${tcp[0] ?? addresses[0]}\n`);
          },
        });
        const acc = summary.localAccuracyMean;
        process.stdout.write(`peer done: ${summary.rounds} rounds, accuracy ${acc === null ? 'n/a' : `${(acc * 100).toFixed(2)}%`}, results in ${opts.out}/\n`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await page.close();
      }
    });
}
