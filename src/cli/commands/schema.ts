// `gossipfl schema [--out FILE]`: the JSON Schema of a run config, for editor completion and
// validation in other tools. Built from the zod schema parseConfig validates with, so it cannot
// drift from what gossipfl accepts; `--plugin FILE` adds the variants that module registers.
import type { Command } from 'commander';
import { pluginOption } from '../plugins.js';
import { z } from 'zod';
import { currentConfigSchema } from '../../peer/config.js';
import { writeFileAtomic } from '../../util/fs.js';

type Json = { [key: string]: unknown };

/** The config's JSON Schema (draft 2020-12), as a user writes a config file; registered plug-ins included. */
export function configJsonSchema(): Json {
  const schema = z.toJSONSchema(currentConfigSchema(), { io: 'input', unrepresentable: 'any' }) as Json;
  // parseConfig fills these in before validation (topology.peers from the run's peers, the
  // schedule's default), so a file may leave them out.
  schema.required = ((schema.required as string[] | undefined) ?? []).filter((k) => k !== 'topology' && k !== 'schedule');
  const properties = schema.properties as Record<string, Json>;
  dropRequired(properties.topology, 'peers');
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', title: 'gossipfl run config', ...schema };
}

/** Removes `key` from `required` in a schema and every alternative nested in it. */
function dropRequired(node: unknown, key: string): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) dropRequired(n, key);
    return;
  }
  const o = node as Json;
  if (Array.isArray(o.required)) o.required = o.required.filter((k) => k !== key);
  for (const alt of ['oneOf', 'anyOf', 'allOf']) dropRequired(o[alt], key);
  if (o.properties) for (const v of Object.values(o.properties as Json)) dropRequired(v, key);
  if (o.items) dropRequired(o.items, key);
}

export function register(program: Command): void {
  program
    .command('schema')
    .description("print the run config's JSON Schema (for editors and other tools), built from the schema gossipfl validates with")
    .option('--out <file>', 'write it to a file instead of stdout')
    .addOption(pluginOption())
    .action((opts: { out?: string }) => {
      const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
      if (opts.out) {
        writeFileAtomic(opts.out, text);
        process.stdout.write(`wrote ${opts.out}\n`);
      } else process.stdout.write(text);
    });
}
