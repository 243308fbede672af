// npm run test:reliability: runs the long reliability suite and prints one table of what it
// injected and what it found (faults, inputs, crashes, data lost, accuracy cost).
// Usage: tsx tests/reliability/run.ts [vitest filters...]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RESULTS_FILE, type ReliabilityRow } from './record.js';

const t0 = performance.now();
rmSync(RESULTS_FILE, { force: true });
const vitest = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'tests/reliability/vitest.long.config.ts', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, GOSSIPFL_RELIABILITY_RESULTS: RESULTS_FILE },
});
const rows: ReliabilityRow[] = existsSync(RESULTS_FILE)
  ? readFileSync(RESULTS_FILE, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ReliabilityRow)
  : [];
const table = renderTable(rows, (performance.now() - t0) / 1000);
process.stdout.write(`\n${table}\n`);
writeFileSync(join(dirname(RESULTS_FILE), 'summary.md'), `${table}\n`);
const bad = rows.filter((r) => r.crashes > 0 || r.dataLost > 0);
process.exitCode = vitest.status !== 0 || bad.length > 0 || rows.length === 0 ? 1 : 0;

function renderTable(rs: readonly ReliabilityRow[], seconds: number): string {
  const header = ['check', 'faults injected', 'inputs tried', 'crashes', 'data lost', 'accuracy cost', 'time', 'notes'];
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const n = (x: number) => x.toLocaleString('en-US');
  const body = rs.map((r) => [
    r.check,
    n(r.faults),
    n(r.inputs),
    String(r.crashes),
    String(r.dataLost),
    r.accuracyCostPts === null ? 'none (model unchanged)' : `${r.accuracyCostPts.toFixed(1)} pts`,
    `${r.seconds.toFixed(0)} s`,
    r.notes,
  ]);
  const sum = (k: 'faults' | 'inputs' | 'crashes' | 'dataLost') => rs.reduce((s, r) => s + r[k], 0);
  const total = ['**total**', n(sum('faults')), n(sum('inputs')), `**${sum('crashes')}**`, `**${sum('dataLost')}**`, '', `${seconds.toFixed(0)} s (suite)`, ''];
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...body.map(line), line(total)].join('\n');
}
