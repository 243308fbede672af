// Two real peers, started from code (not the CLI), on loopback: each is a libp2p node with its
// own model, shard of the data and transport; they train, exchange compressed updates over TCP,
// and end with one global merge. The same code runs on two machines: give the second peer the
// first one's address as `bootstrap` (see docs/peers.md).
//
//   npx tsx examples/two-peers-powersgd.ts [--quick] [--method powersgd|int8|fp16|identity]
//
// With PowerSGD (a group method: the peers agree on a shared projection every round) the run is
// mode all-reduce, a serverless all-reduce of each round's change;
// with int8, fp16 or identity it is gossip over the complete graph.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { node, parseConfig, type RunSummary } from '../src/index.js'; // in your project: 'gossipfl'

const { values: args } = parseArgs({ options: { quick: { type: 'boolean' }, method: { type: 'string', default: 'powersgd' } } });
const quick = args.quick ?? false; // a tiny setting, for CI
const lowRank = args.method === 'powersgd';
const config = parseConfig({
  name: `two peers, ${args.method}`,
  peers: 2,
  rounds: quick ? 2 : 10,
  backend: quick ? 'cpu' : 'auto',
  data: { dataset: 'mnist', train: quick ? 400 : 8000, test: quick ? 200 : 2000, partition: { kind: 'dirichlet', alpha: 0.5 } },
  model: { kind: 'mlp', hidden: [64] },
  mode: lowRank ? 'all-reduce' : 'gossip',
  topology: { name: 'complete' },
  compression: { method: args.method as 'powersgd', ...(lowRank ? { rank: 4 } : {}) },
  schedule: { localSteps: quick ? 2 : 10, merge: { final: true } },
});

const out = mkdtempSync(join(tmpdir(), 'gossipfl-two-peers-'));
const log = (who: string) => (line: string) => console.log(`[${who}] ${line}`);
const listen = ['/ip4/127.0.0.1/tcp/0']; // port 0: the OS picks a free port

// The first peer listens; the second starts once it knows the first one's address.
let firstAddress!: (address: string) => void;
const addressOfFirst = new Promise<string>((resolve) => (firstAddress = resolve));
const first = node.runPeer({
  config,
  node: { listen, mdns: false },
  outDir: join(out, 'a'),
  onListening: (id, addresses) => firstAddress(addresses.find((a) => a.includes('/tcp/')) ?? `${addresses[0]}/p2p/${id}`),
  log: log('a'),
});
const second = addressOfFirst.then((address) =>
  node.runPeer({ config, node: { listen, bootstrap: [address], mdns: false }, outDir: join(out, 'b'), log: log('b') }),
);
const summaries: RunSummary[] = await Promise.all([first, second]).catch((err: Error) => {
  console.error(`two-peers: ${err.message}`);
  process.exit(1);
});
summaries.forEach((s, i) => console.log(`peer ${'ab'[i]}: merged model ${((s.mergedAccuracy ?? 0) * 100).toFixed(1)}%, ${s.bytesSent} bytes sent`));
console.log(`run folders: ${out}`);
