// The layer rules of the source tree (docs/architecture.md): which folder of src/ may import
// which, that only compute/ touches tfjs and only node/ touches libp2p, and that no two
// folders import each other (directly or around a longer cycle), type-only imports included.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Which folders each folder may import (util and params are leaves everyone may use). */
const ALLOWED: Record<string, readonly string[]> = {
  util: [],
  params: ['util'],
  compute: ['util'],
  data: ['util'],
  topology: ['util'],
  compression: ['params', 'util'],
  aggregation: ['params', 'util'],
  schedule: ['util'],
  report: ['util'],
  privacy: ['params', 'util'],
  model: ['compute', 'params', 'data', 'util'],
  peer: ['compute', 'model', 'data', 'topology', 'compression', 'aggregation', 'schedule', 'privacy', 'params', 'report', 'util'],
  sim: ['peer', 'compute', 'model', 'data', 'topology', 'compression', 'aggregation', 'schedule', 'privacy', 'params', 'report', 'util'],
  node: ['peer', 'compute', 'model', 'data', 'topology', 'compression', 'aggregation', 'schedule', 'privacy', 'params', 'report', 'util'],
  // Sweeps run simulations in worker processes: everything but the network.
  sweep: ['sim', 'peer', 'compute', 'model', 'data', 'topology', 'compression', 'aggregation', 'schedule', 'privacy', 'params', 'report', 'util'],
};

interface Import {
  readonly file: string;
  readonly spec: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every module specifier a file names: static imports and re-exports (type-only too) and dynamic import() of a string. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm),
    ...text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]);
  return specs.map((spec) => ({ file, spec }));
}

/** The top folder of src/ a file is in ('' for src/index.ts). */
function folderOf(file: string): string {
  const rel = relative(src, file).split(sep);
  return rel.length > 1 ? rel[0] : '';
}

const imports = sourceFiles(src).flatMap(importsOf);

function folderEdges(): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const { file, spec } of imports) {
    if (!spec.startsWith('.')) continue;
    const from = folderOf(file);
    const to = folderOf(resolve(dirname(file), spec));
    if (!from || !to || from === to) continue;
    if (!edges.has(from)) edges.set(from, new Set());
    edges.get(from)!.add(to);
  }
  return edges;
}

describe('layer rules', () => {
  it('each folder imports only the folders below it', () => {
    const broken: string[] = [];
    for (const { file, spec } of imports) {
      if (!spec.startsWith('.')) continue;
      const from = folderOf(file);
      const to = folderOf(resolve(dirname(file), spec));
      const allowed = ALLOWED[from];
      if (!allowed || !to || from === to) continue;
      if (!allowed.includes(to)) broken.push(`${relative(src, file)} imports ${spec} (${from} may not import ${to})`);
    }
    expect(broken).toEqual([]);
  });

  it('only compute/ imports tfjs and only node/ imports libp2p', () => {
    const broken = imports.flatMap(({ file, spec }) => {
      const folder = folderOf(file);
      if (spec.startsWith('@tensorflow/') && folder !== 'compute') return [`${relative(src, file)} imports ${spec}`];
      if ((spec === 'libp2p' || spec.startsWith('@libp2p/') || spec.startsWith('@chainsafe/') || spec.startsWith('@multiformats/')) && folder !== 'node') {
        return [`${relative(src, file)} imports ${spec}`];
      }
      return [];
    });
    expect(broken).toEqual([]);
  });

  it('has no cycles between folders', () => {
    const edges = folderEdges();
    const cycles: string[] = [];
    const visit = (node: string, path: string[]): void => {
      for (const next of edges.get(node) ?? []) {
        const at = path.indexOf(next);
        if (at >= 0) cycles.push([...path.slice(at), next].join(' → '));
        else visit(next, [...path, next]);
      }
    };
    for (const start of edges.keys()) visit(start, [start]);
    expect([...new Set(cycles)]).toEqual([]);
  });
});
