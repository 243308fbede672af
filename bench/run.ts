// `npm run bench [-- SUITE...] [--quick]`: runs the benchmark suites, prints a table and
// writes bench/results/latest.json.
import '../src/util/polyfills.js';
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import type { BenchRow, BenchSuite } from './lib.js';
import { suites } from './suites.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const wanted = args.filter((a) => !a.startsWith('--'));
const unknown = wanted.filter((w) => !suites.some((s) => s.name === w));
if (unknown.length) {
  console.error(`bench: unknown suite(s) ${unknown.join(', ')}; available: ${suites.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const chosen: BenchSuite[] = wanted.length ? suites.filter((s) => wanted.includes(s.name)) : suites;

const rows: BenchRow[] = [];
for (const suite of chosen) {
  process.stderr.write(`bench: ${suite.name}...\n`);
  const got = await suite.run({ quick });
  rows.push(...got);
  printTable(got);
}

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, 'results');
mkdirSync(outDir, { recursive: true });
const result = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  quick,
  rows,
};
const file = join(outDir, 'latest.json');
writeFileSync(`${file}.tmp`, JSON.stringify(result, null, 2));
renameSync(`${file}.tmp`, file);
process.stderr.write(`bench: wrote ${file}\n`);

function printTable(rs: BenchRow[]): void {
  const fmt = (x: number | undefined) =>
    x === undefined ? '' : Math.abs(x) >= 1000 ? x.toExponential(3) : Number(x.toPrecision(4)).toString();
  const table = rs.map((r) => ({
    suite: r.suite,
    name: r.name,
    value: fmt(r.value),
    unit: r.unit,
    'vs baseline': r.ratio === undefined ? '' : `${fmt(r.ratio)}× ${r.baseline ?? ''}`,
    note: r.note ?? '',
  }));
  console.table(table);
}
