// Generates docs/config.md from the zod schema that validates run configs (configSchema), through
// zod's JSON Schema export, so the reference cannot drift from what parseConfig accepts:
// tests/config-doc.test.ts regenerates it in memory and compares it with the committed file.
//
//   npm run docs:config            write docs/config.md
//   npm run docs:config -- --check exit 1 if docs/config.md is stale
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import YAML from 'yaml';
import { configSchema, parseConfig } from '../src/peer/config.js';
import { renderRegistries } from './registry-doc.js';

/** The subset of JSON Schema that zod emits for configSchema. */
interface JsonSchema {
  type?: string;
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
}

/** Where the generated file lives, relative to the repository root. */
export const CONFIG_DOC_PATH = fileURLToPath(new URL('../docs/config.md', import.meta.url));

/** A nested section to render: a key path and the schema found there. */
interface Pending {
  readonly path: string;
  readonly schema: JsonSchema;
}

/** Renders the whole reference; pure, so the test can compare it with the committed file. */
export function renderConfigDoc(): string {
  const root = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from configSchema (src/peer/config.ts) and the plug-in registries by `npm run docs:config`. Do not edit by hand: a test fails when this file and the schema or a registry disagree. -->',
    '',
    'A run config is one YAML or JSON file (`gossipfl simulate run.yaml`) or the same object passed to',
    '`parseConfig` in code. Every key is optional unless marked **required**; unknown keys are refused',
    'with an error naming their path. Sections that are "one of" several shapes pick their shape with the',
    'key shown in their heading (`dataset`, `kind`, `name`, `shape`). A default marked "(filled in)" is',
    "not in the schema itself: parseConfig fills it in before validation (from `peers`, for the topology).",
    '',
    '## Top level',
    '',
  ];
  const effective = parseConfig({}, 'empty config') as unknown as Record<string, unknown>;
  const ctx: Context = { effective, rendered: new Map(), done: new Set() };
  const children: Pending[] = [];
  out.push(...objectTable(root, '', children, ctx));
  for (const child of children) out.push(...section(child, ctx));
  out.push(...renderRegistries());
  out.push(
    '## Effective defaults',
    '',
    'An empty config file is the same as this one (`parseConfig({})`). `topology.peers` follows `peers`.',
    '',
    '```yaml',
    YAML.stringify(effective).trimEnd(),
    '```',
    '',
  );
  return out.join('\n');
}

/** What the renderer remembers across sections. */
interface Context {
  /** The config an empty file gives, for defaults that parseConfig fills in outside the schema. */
  readonly effective: Record<string, unknown>;
  /** Schema text → the first path rendered with it, so a shape that recurs is written once. */
  readonly rendered: Map<string, string>;
  /** Paths already written (a union's variants may each reach the same nested path). */
  readonly done: Set<string>;
}

/** Headings are anchored by key path, e.g. `data.partition` → #data-partition. */
function anchor(path: string): string {
  return path.replace(/\[\]/g, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();
}

function section(p: Pending, ctx: Context): string[] {
  const key = JSON.stringify(p.schema);
  if (ctx.done.has(p.path)) return [];
  ctx.done.add(p.path);
  const seen = ctx.rendered.get(key);
  const lines = [`<a id="${anchor(p.path)}"></a>`, `## \`${p.path}\``, ''];
  if (p.schema.description) lines.push(sentence(p.schema.description), '');
  if (seen !== undefined) {
    lines.push(`Same shape as [\`${seen}\`](#${anchor(seen)}).`, '');
    return lines;
  }
  ctx.rendered.set(key, p.path);
  const children: Pending[] = [];
  const variants = unionOf(p.schema);
  if (!variants) {
    lines.push(...objectTable(p.schema, p.path, children, ctx));
  } else {
    const tag = discriminator(variants);
    lines.push(`One of ${variants.length}, chosen by \`${tag}\`:`, '');
    for (const v of variants) {
      lines.push(`### \`${p.path}\` with \`${tag}: ${String(v.properties?.[tag]?.const)}\``, '');
      const about = v.description ?? v.properties?.[tag]?.description;
      if (about) lines.push(sentence(about), '');
      lines.push(...objectTable(v, p.path, children, ctx, tag));
    }
  }
  for (const child of children) lines.push(...section(child, ctx));
  return lines;
}

/** A markdown table of an object's keys; nested objects and unions become child sections. */
function objectTable(schema: JsonSchema, path: string, children: Pending[], ctx: Context, skip?: string): string[] {
  const props = Object.entries(schema.properties ?? {}).filter(([k]) => k !== skip);
  if (props.length === 0) return ['No other keys.', ''];
  const required = new Set(schema.required ?? []);
  const rows = ['| key | type | default | description |', '|---|---|---|---|'];
  for (const [k, s] of props) {
    const full = path ? `${path}.${k}` : k;
    const nested = nestedSection(s, full);
    if (nested) children.push(nested);
    const type = nested ? `${typeOf(s)}, see [below](#${anchor(nested.path)})` : typeOf(s);
    // A variant's keys (skip set) or a list item's have no single effective value.
    const filled = skip === undefined && !full.includes('[]') ? lookup(ctx.effective, full) : undefined;
    const dflt =
      s.default !== undefined
        ? code(JSON.stringify(s.default))
        : filled !== undefined
          ? `${code(JSON.stringify(filled))} (filled in)`
          : required.has(k)
            ? '**required**'
            : '';
    rows.push(`| \`${k}\` | ${type} | ${dflt} | ${cell(s.description ?? '')} |`);
  }
  return [...rows, ''];
}

/** The value at a dotted path of a plain object, or undefined. */
function lookup(obj: Record<string, unknown>, path: string): unknown {
  let at: unknown = obj;
  for (const part of path.split('.')) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** A schema description (a lower-case fragment) as a sentence. */
function sentence(text: string): string {
  const s = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

/** The section a key opens, if its value is an object, a union of objects, or a list of either. */
function nestedSection(s: JsonSchema, path: string): Pending | undefined {
  if (unionOf(s) || s.properties) return { path, schema: s };
  if (s.type === 'array' && s.items && (unionOf(s.items) || s.items.properties)) {
    return { path: `${path}[]`, schema: { ...s.items, ...(s.description ? { description: s.description } : {}) } };
  }
  return undefined;
}

/** The object variants of a discriminated union, or undefined for anything else. */
function unionOf(s: JsonSchema): JsonSchema[] | undefined {
  const options = s.oneOf ?? s.anyOf;
  return options && options.every((o) => o.properties) ? options : undefined;
}

/** The key every variant fixes to a constant (`kind`, `name`, `dataset`, `shape`). */
function discriminator(variants: JsonSchema[]): string {
  const keys = Object.keys(variants[0].properties ?? {}).filter((k) => variants.every((v) => v.properties?.[k]?.const !== undefined));
  if (keys.length !== 1) throw new Error(`config-doc: cannot find the one discriminating key of a union (candidates: ${keys.join(', ') || 'none'})`);
  return keys[0];
}

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return code(JSON.stringify(s.const));
  if (s.enum) return s.enum.map((e) => code(JSON.stringify(e))).join(' \\| ');
  const options = s.oneOf ?? s.anyOf;
  if (options) return unionOf(s) ? 'one of' : options.map(typeOf).join(' \\| ');
  if (s.type === 'array') {
    if (s.prefixItems) return `[${s.prefixItems.map(typeOf).join(', ')}]`;
    const item = s.items ? typeOf(s.items) : 'any';
    const itemType = /\s/.test(item) ? `(${item})` : item;
    return `${itemType}[]${s.minItems ? ` (≥ ${s.minItems} items)` : ''}`;
  }
  if (s.type === 'object') return 'object';
  if (s.type === 'integer' || s.type === 'number') return `${s.type}${bounds(s)}`;
  if (s.type === 'string') return s.minLength ? 'string (non-empty)' : 'string';
  return s.type ?? 'any';
}

function bounds(s: JsonSchema): string {
  const parts: string[] = [];
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  else if (s.minimum !== undefined && s.minimum > Number.MIN_SAFE_INTEGER) parts.push(`≥ ${s.minimum}`);
  if (s.exclusiveMaximum !== undefined) parts.push(`< ${s.exclusiveMaximum}`);
  else if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) parts.push(`≤ ${s.maximum}`);
  return parts.length ? ` ${parts.join(', ')}` : '';
}

function code(text: string): string {
  return `\`${text.replace(/\|/g, '\\|')}\``;
}

/** Table cells cannot hold a raw pipe or a line break. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = renderConfigDoc();
  if (process.argv.includes('--check')) {
    const current = readFileSync(CONFIG_DOC_PATH, 'utf8');
    if (current !== text) {
      process.stderr.write('docs/config.md is out of date with configSchema; run `npm run docs:config`\n');
      process.exitCode = 1;
    }
  } else {
    writeFileSync(CONFIG_DOC_PATH, text);
    // Rows whose last cell is empty: keys the schema gives no .describe() text.
    const bare = text.split('\n').filter((line) => line.startsWith('| `') && line.endsWith('|  |')).length;
    process.stdout.write(`wrote docs/config.md (${text.length} characters; ${bare} keys have no description in the schema)\n`);
  }
}
