import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport, defaultReportPath } from '../../src/report/index.js';
import { uniqueNames } from '../../src/report/write-report.js';
import { readRun } from '../../src/report/read-run.js';
import { register } from '../../src/cli/commands/report.js';
import { InputError } from '../../src/util/errors.js';
import { writeSyntheticRun } from './fixtures.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PLOTS = ['accuracy', 'accuracy-vs-bytes', 'consensus', 'loss', 'label-histograms'];

const root = mkdtempSync(join(tmpdir(), 'gossipfl-report-'));
const gossip = join(root, 'gossip-k5');
const fedavg = join(root, 'fedavg');
afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeAll(() => {
  writeSyntheticRun(gossip, { rounds: 30, peers: 8, seed: 1, mergeEvery: 10, evalEvery: 2 });
  writeSyntheticRun(fedavg, { rounds: 30, peers: 8, seed: 2, bytesPerRound: 1_000_000 });
});

/** The HTML of one plot's figure. */
function section(html: string, id: string): string {
  const start = html.indexOf(`<figure id="${id}"`);
  expect(start).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</figure>', start));
}

function pngSize(bytes: Buffer): { width: number; height: number } {
  expect([...bytes.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('writeReport', () => {
  it('writes one self-contained HTML page overlaying several runs, and a PNG per plot', async () => {
    const out = join(root, 'compare', 'report.html');
    const result = await writeReport([gossip, fedavg], out);
    expect(result.html).toBe(out);
    expect(result.pngs).toEqual(PLOTS.map((p) => join(root, 'compare', `report-${p}.png`)));
    expect(result.warnings).toEqual([]);

    const html = readFileSync(out, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.match(/<svg /g)).toHaveLength(PLOTS.length);
    // Self-contained: no scripts, no stylesheets or images fetched from elsewhere.
    expect(html).not.toMatch(/<script|<link|<img|@import/);
    expect(html.replace(/xmlns(:xlink)?="http:\/\/www\.w3\.org\/[^"]+"/g, '')).not.toMatch(/https?:\/\//);
    // One summary row per run, with the run's numbers.
    const table = html.slice(html.indexOf('<table>'), html.indexOf('</table>'));
    expect(table.match(/<tr>/g)).toHaveLength(3);
    expect(table).toContain('<td>gossip-k5</td><td>30</td><td>8</td>');
    expect(table).toContain('<td>fedavg</td><td>30</td><td>8</td>');
    expect(table).toContain('<td>30.0 MB</td>'); // 30 rounds × 1 MB
    // The gossip run merged at rounds 10, 20, 30: its local accuracy before the last merge is shown.
    const gossipRun = readRun(gossip);
    expect(gossipRun.metrics[29].preMergeLocalAccuracyMean).toBeGreaterThan(0);
    expect(table).toContain('<th>Local acc. before last merge</th>');
    expect(table).toContain(`<td>${(gossipRun.summary.preMergeLocalAccuracyMean! * 100).toFixed(2)} %</td>`);

    for (const id of PLOTS) {
      const svg = section(html, id);
      expect(svg).toContain('<svg ');
      // Each plot draws marks (not an empty frame) and names both runs in a legend or title.
      expect(svg).toMatch(id === 'label-histograms' ? /class="mark-rect/ : /class="mark-line/);
      expect(svg).toContain('gossip-k5');
      expect(svg).toContain('fedavg');
    }
    // Merges of the gossip run are drawn as rules; the accuracy axis is in percent.
    expect(section(html, 'accuracy')).toContain('class="mark-rule');
    expect(section(html, 'accuracy')).toContain('Test accuracy (%)');
    expect(section(html, 'accuracy-vs-bytes')).toContain('log scale');

    PLOTS.forEach((id, i) => {
      const png = readFileSync(result.pngs[i]);
      const [, w, h] = section(html, id).match(/<svg [^>]*width="(\d+)" height="(\d+)"/)!;
      // Rendered at twice the size of the SVG in the page; at least a few hundred pixels each way.
      expect(pngSize(png)).toEqual({ width: 2 * Number(w), height: 2 * Number(h) });
      expect(Math.min(Number(w), Number(h))).toBeGreaterThan(300);
      expect(png.length).toBeGreaterThan(20_000);
    });
    // Nothing but the report and its PNGs is left in the folder (no temp files).
    expect(readdirSync(join(root, 'compare')).sort()).toEqual(['report.html', ...PLOTS.map((p) => `report-${p}.png`)].sort());
  });

  it('reports a truncated metrics line in the page and still plots the complete rounds', async () => {
    const dir = join(root, 'crashed');
    writeSyntheticRun(dir, { rounds: 8, peers: 4, seed: 3 });
    const file = join(dir, 'metrics.jsonl');
    const text = readFileSync(file, 'utf8').trimEnd();
    writeFileSync(file, text.slice(0, text.length - 25));
    const result = await writeReport([dir], defaultReportPath([dir]));
    expect(result.html).toBe(join(dir, 'report.html'));
    expect(result.warnings).toEqual([`crashed: ${file} line 8: incomplete last line skipped (the run probably stopped while writing it)`]);
    const html = readFileSync(result.html, 'utf8');
    expect(html).toContain('incomplete last line skipped');
    expect(html.match(/<svg /g)).toHaveLength(PLOTS.length);
  });

  it('fails with the InputError naming the missing metrics file and writes nothing', async () => {
    const dir = join(root, 'empty-run');
    mkdirSync(dir);
    const out = join(root, 'never', 'report.html');
    await expect(writeReport([gossip, dir], out)).rejects.toThrow(
      new InputError(`cannot read ${join(dir, 'metrics.jsonl')}: file not found (is this a run directory, and did the run finish?)`),
    );
    expect(existsSync(join(root, 'never'))).toBe(false);
  });

  it('gives runs that share a directory name distinct names', () => {
    const a = join(root, 'a', 'seed1');
    const b = join(root, 'b', 'seed1');
    writeSyntheticRun(a, { rounds: 2, peers: 2, seed: 4 });
    writeSyntheticRun(b, { rounds: 2, peers: 2, seed: 5 });
    expect(uniqueNames([readRun(a), readRun(b), readRun(gossip)]).map((r) => r.name)).toEqual(['a/seed1', 'b/seed1', 'gossip-k5']);
    expect(uniqueNames([readRun(a), readRun(a)]).map((r) => r.name)).toEqual(['a/seed1', 'a/seed1 (2)']);
  });
});

describe('gossipfl report', () => {
  const program = () => {
    const p = new Command().exitOverride();
    register(p);
    return p;
  };

  it('writes DIR/report.html by default and FILE with --out', async () => {
    const dir = join(root, 'cli-run');
    writeSyntheticRun(dir, { rounds: 5, peers: 3, seed: 6 });
    await program().parseAsync(['report', dir], { from: 'user' });
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('cli-run');
    unlinkSync(join(dir, 'report.html'));
    const out = join(root, 'cli-out', 'runs.html');
    await program().parseAsync(['report', dir, gossip, '--out', out], { from: 'user' });
    expect(readFileSync(out, 'utf8')).toContain('gossip-k5');
    expect(existsSync(join(root, 'cli-out', 'runs-consensus.png'))).toBe(true); // named after the report
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
  });

  it('defaults to ./report.html for several runs', () => {
    expect(defaultReportPath(['x/r1'])).toBe(join('x/r1', 'report.html'));
    expect(defaultReportPath(['x/r1', 'x/r2'])).toBe('report.html');
  });
});
