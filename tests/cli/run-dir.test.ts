import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { partialDirOf, RunDirectory } from '../../src/report/run-dir.js';
import type { RoundMetrics, RunSummary } from '../../src/report/metrics.js';

const root = mkdtempSync(join(tmpdir(), 'gossipfl-rundir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const round = { round: 1 } as RoundMetrics;
const summary = { rounds: 1, peers: 2 } as RunSummary;
const partition = { numClasses: 2, histograms: [[1, 0], [0, 1]] };

describe('staged run directory', () => {
  it('writes into a hidden partial folder and moves the files into --out on commit', () => {
    const out = join(root, 'a');
    const dir = new RunDirectory(out, { staged: true });
    expect(dir.workDir).toBe(join(root, '.a.partial'));
    dir.writeConfig({ peers: 2 });
    dir.appendRound(round);
    expect(existsSync(out)).toBe(false);
    dir.writeSummary(summary, partition);
    dir.commit();
    expect(readdirSync(out).sort()).toEqual(['config.json', 'metrics.jsonl', 'partition.json', 'summary.json']);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8')).toBe('{"round":1}\n');
    expect(existsSync(partialDirOf(out))).toBe(false);
  });

  it('discard leaves --out as it was; a stale partial folder is cleared by the next run', () => {
    const out = join(root, 'b');
    const first = new RunDirectory(out, { staged: true });
    first.appendRound(round);
    first.discard();
    expect(existsSync(out)).toBe(false);
    expect(existsSync(partialDirOf(out))).toBe(false);
    // A killed run leaves its partial folder; the next one starts from an empty one.
    mkdirSync(partialDirOf(out));
    writeFileSync(join(partialDirOf(out), 'metrics.jsonl'), '{"round":7}\n');
    const second = new RunDirectory(out, { staged: true });
    expect(readFileSync(second.metricsFile, 'utf8')).toBe('');
  });

  it('refuses a folder that holds a run unless overwrite; overwrite replaces the run and keeps other files', () => {
    const out = join(root, 'c');
    mkdirSync(out);
    writeFileSync(join(out, 'summary.json'), '{}');
    writeFileSync(join(out, 'notes.txt'), 'mine');
    expect(() => new RunDirectory(out, { staged: true })).toThrow(/already holds a run; choose another --out or pass --overwrite/);
    const dir = new RunDirectory(out, { staged: true, overwrite: true });
    dir.appendRound(round);
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe('{}'); // untouched until commit
    dir.writeSummary(summary, partition);
    dir.commit();
    expect(readdirSync(out).sort()).toEqual(['metrics.jsonl', 'notes.txt', 'partition.json', 'summary.json']);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toEqual(summary);
  });
});
