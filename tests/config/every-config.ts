// Every run config the repository ships, parsed: each YAML under simulations/ and examples/ (a
// sweep file gives one config per cell), the embedded default and the empty config. The
// committed snapshot (parsed-configs.json) pins what they parse to, so a change to the schema
// or its registries that changes any RunConfig shows up as a failing test.
//   npx tsx tests/config/every-config.ts   rewrites the snapshot on purpose
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import YAML from 'yaml';
import { DEFAULT_CONFIG, loadConfigFile, parseConfig } from '../../src/peer/config.js';
import { loadSweepFile } from '../../src/sweep/spec.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SNAPSHOT_PATH = fileURLToPath(new URL('./parsed-configs.json', import.meta.url));

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return yamlFiles(path);
      return /\.ya?ml$/.test(name) ? [path] : [];
    });
}

/** What the shipped configs parse to: label → RunConfig, and the labels refused with their errors. */
export interface EveryConfig {
  readonly parsed: Record<string, unknown>;
  readonly refused: Record<string, string>;
}

/** Parses every shipped config, in a stable order; a refused file or sweep is recorded, not thrown. */
export function parseEveryConfig(): EveryConfig {
  const parsed: Record<string, unknown> = {
    '(empty config)': parseConfig({}),
    '(DEFAULT_CONFIG)': parseConfig(DEFAULT_CONFIG),
  };
  const refused: Record<string, string> = {};
  for (const file of [...yamlFiles(join(ROOT, 'simulations')), ...yamlFiles(join(ROOT, 'examples'))]) {
    const label = relative(ROOT, file).split('\\').join('/');
    const raw = YAML.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    try {
      // A sweep file names its seeds; a run config never has a `seeds` key.
      if (raw && 'seeds' in raw) {
        for (const cell of loadSweepFile(file).cells) parsed[`${label}#${cell.id}`] = cell.config;
      } else parsed[label] = loadConfigFile(file);
    } catch (err) {
      refused[label] = (err as Error).message.replace(ROOT, '');
    }
  }
  return { parsed, refused };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const all = parseEveryConfig();
  writeFileSync(SNAPSHOT_PATH, `${JSON.stringify(all.parsed, null, 1)}\n`);
  process.stdout.write(`wrote ${relative(ROOT, SNAPSHOT_PATH)} (${Object.keys(all.parsed).length} configs; refused: ${Object.keys(all.refused).join(', ') || 'none'})\n`);
}
