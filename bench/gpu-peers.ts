// GPU host entry for real peers (pack with gpu/pack.sh bench/gpu-peers.ts .gpu): the CLI's own
// `peer` and `cluster` commands only (the full CLI also bundles the report's native PNG
// renderer, which the pack cannot carry). Usage on the host:
//   bash .gpu/run.sh cluster --peers 4 --config cluster-cnn-4.yaml --backend webgpu --out runs
import '../src/util/polyfills.js';
import { Command } from 'commander';
import { register } from '../src/cli/commands/peer.js';

const program = new Command('gossipfl');
register(program);
await program.parseAsync(process.argv);
