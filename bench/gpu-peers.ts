// GPU host entry for real peers (pack with scripts/pack-gpu.sh bench/gpu-peers.ts .gpu): the CLI's own
// `peer` and `cluster` commands only, a smaller bundle than the whole CLI (which packs too, as
// src/cli/main.ts). Usage on the host, from the repository root:
//   bash .gpu/run.sh cluster --peers 4 --config bench/gpu-sim/cluster-cnn-4.yaml --backend webgpu --out runs
import '../src/util/polyfills.js';
import { Command } from 'commander';
import { register } from '../src/cli/commands/peer.js';

const program = new Command('gossipfl');
register(program);
await program.parseAsync(process.argv);
