#!/usr/bin/env node
// The `gossipfl` command. Each subcommand lives in its own module under ./commands and
// registers itself on the program; this file only wires them and turns errors into one line.
import '../util/polyfills.js';
import { Command, CommanderError } from 'commander';
import { GossipflError, EXIT_FAILURE, EXIT_USAGE } from '../util/errors.js';
import { commands } from './commands/index.js';
import { loadPluginsBeforeAction } from './plugins.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('gossipfl')
    .description('Federated and decentralized learning over a gossip topology')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of commands) register(program);
  loadPluginsBeforeAction(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    return reportError(err);
  }
}

/** Prints one actionable line for an error and returns the exit code to use. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (or help/version, which exit 0).
    return err.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (err instanceof GossipflError) {
    process.stderr.write(`gossipfl: ${err.message}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`gossipfl: unexpected error: ${message}\n`);
  if (process.env.GOSSIPFL_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return EXIT_FAILURE;
}

const invokedDirectly = (() => {
  const entry = process.argv[1] ?? '';
  return /(?:^|[\\/])(?:main\.(?:ts|js|mjs)|gossipfl)$/.test(entry);
})();

if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.exitCode = reportError(err);
    },
  );
}
