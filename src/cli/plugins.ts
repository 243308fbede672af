// `--plugin FILE`: a user's module that registers datasets, models, topologies, aggregation rules
// or compressors (docs/plugins.md). It is imported before the command reads its config, so the
// config can name what it registers. A file that is missing, throws on import or registers
// nothing is refused naming it, before the command writes anything.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Option, type Command } from 'commander';
import { ConfigError } from '../util/errors.js';
import { registryGeneration } from '../util/registry.js';
import { datasetRegistry } from '../data/registry.js';
import { modelRegistry } from '../model/registry.js';
import { topologyRegistry } from '../topology/registry.js';
import { aggregationRegistry } from '../aggregation/registry.js';
import { compressorRegistry } from '../compression/registry.js';
import { collect } from './options.js';

/** A loaded plug-in module and what it registered (e.g. "aggregation rule 'half-step'"). */
export interface LoadedPlugin {
  readonly file: string;
  readonly registered: readonly string[];
}

/** Every registry a plug-in module may add to, with what its entries are called in messages. */
const REGISTRIES: readonly (readonly [string, { names(): string[] }])[] = [
  ['dataset', datasetRegistry],
  ['model', modelRegistry],
  ['topology', topologyRegistry],
  ['aggregation rule', aggregationRegistry],
  ['compressor', compressorRegistry],
];

/** Modules already imported by this process: a second import is a no-op for Node, so it must not count as "registered nothing". */
const loaded = new Map<string, LoadedPlugin>();

/** The repeatable `--plugin FILE` option. */
export function pluginOption(): Option {
  return new Option('--plugin <file>', 'a module (.js, .mjs or .ts) that registers plug-ins, imported before the config is read (repeatable; see docs/plugins.md)').argParser(collect).default([]);
}

/** The absolute paths of `--plugin` files, as child processes get them (their working directory may differ). */
export function pluginArgs(files: readonly string[] | undefined): string[] {
  return (files ?? []).flatMap((f) => ['--plugin', resolve(f)]);
}

/** Imports each module in order; throws a ConfigError naming the file when one cannot be used. */
export async function loadPlugins(files: readonly string[]): Promise<LoadedPlugin[]> {
  const out: LoadedPlugin[] = [];
  for (const file of files) out.push(await loadPlugin(file));
  return out;
}

async function loadPlugin(file: string): Promise<LoadedPlugin> {
  const path = resolve(file);
  const known = loaded.get(path);
  if (known) return known;
  if (!existsSync(path) || !statSync(path).isFile()) throw new ConfigError(`--plugin ${file}: no such file; give the path of a module that registers plug-ins`);
  const before = registryGeneration();
  const names = REGISTRIES.map(([, r]) => new Set(r.names()));
  try {
    await import(pathToFileURL(path).href);
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ConfigError(`--plugin ${file}: importing it failed: ${why}`, { cause: err });
  }
  const registered = REGISTRIES.flatMap(([kind, r], i) => r.names().filter((n) => !names[i].has(n)).map((n) => `${kind} '${n}'`));
  if (registryGeneration() === before || registered.length === 0) {
    throw new ConfigError(
      `--plugin ${file}: the module registered nothing; call e.g. aggregationRegistry.register(defineRule({…})) when it is imported, ` +
        'from the same gossipfl the command runs (see docs/plugins.md)',
    );
  }
  const plugin = { file, registered };
  loaded.set(path, plugin);
  return plugin;
}

/** Loads the `--plugin` files of whichever command is about to run, before its action reads a config. */
export function loadPluginsBeforeAction(program: Command): void {
  program.hook('preAction', async (_program, action) => {
    const files = action.opts().plugin as string[] | undefined;
    if (files?.length) await loadPlugins(files);
  });
}
