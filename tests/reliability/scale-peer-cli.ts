// Entry of the scale tests' peer processes: only `gossipfl peer`, bundled once with esbuild
// (packages stay external, so node_modules resolves as usual) and started with plain node.
// Sixty-four processes that each load tsx and every CLI command would spend the machine's
// cores on start-up and memory on code they never run.
import '../../src/util/polyfills.js';
import { Command } from 'commander';
import { register } from '../../src/cli/commands/peer.js';
import { GossipflError, EXIT_FAILURE } from '../../src/util/errors.js';

const program = new Command().name('gossipfl').exitOverride();
register(program);
program.parseAsync(process.argv.slice(2), { from: 'user' }).then(
  () => undefined,
  (err: unknown) => {
    process.stderr.write(`gossipfl: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof GossipflError ? err.exitCode : EXIT_FAILURE;
  },
);
