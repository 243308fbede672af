import { mkdtempSync, rmSync, writeFileSync, readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRun, parseMetricsLines } from '../../src/report/read-run.js';
import { InputError } from '../../src/util/errors.js';
import { writeSyntheticRun } from './fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'gossipfl-read-run-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
function freshRun(rounds = 6): { dir: string; lines: string[] } {
  const dir = join(root, `run-${++counter}`);
  writeSyntheticRun(dir, { rounds, peers: 4, seed: counter, mergeEvery: 3 });
  const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trimEnd().split('\n');
  return { dir, lines };
}

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('readRun', () => {
  it('reads all three files of a complete run', () => {
    const { dir } = freshRun(6);
    const run = readRun(dir);
    expect(run.name).toBe(`run-${counter}`);
    expect(run.metrics.map((m) => m.round)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(run.metrics.filter((m) => m.globalMerge).map((m) => m.round)).toEqual([3, 6]);
    expect(run.summary.peers).toBe(4);
    expect(run.partition?.histograms).toHaveLength(4);
    expect(run.warnings).toEqual([]);
  });

  it('names the run by the summary label when there is one', () => {
    const dir = join(root, 'labelled');
    writeSyntheticRun(dir, { rounds: 2, peers: 2, seed: 9, label: 'choco top-1%' });
    expect(readRun(dir).name).toBe('choco top-1%');
  });

  it('skips a partially written last line with a warning that names file and line', () => {
    const { dir, lines } = freshRun(6);
    const cut = lines[5].slice(0, Math.floor(lines[5].length / 2));
    writeFileSync(join(dir, 'metrics.jsonl'), [...lines.slice(0, 5), cut].join('\n'));
    const run = readRun(dir);
    expect(run.metrics.map((m) => m.round)).toEqual([1, 2, 3, 4, 5]);
    expect(run.warnings).toHaveLength(1);
    expect(run.warnings[0]).toContain(`${join(dir, 'metrics.jsonl')} line 6: incomplete last line skipped`);
  });

  it('refuses a corrupt line that is not the last, naming file and line', () => {
    const { dir, lines } = freshRun(4);
    lines[1] = lines[1].slice(0, 20);
    writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
    expect(errorOf(() => readRun(dir)).message).toMatch(/metrics\.jsonl line 2: not valid JSON/);
  });

  it('names the field of a record that does not fit the schema', () => {
    const { dir, lines } = freshRun(3);
    const bad = { ...JSON.parse(lines[2]), bytesSent: 'many' };
    writeFileSync(join(dir, 'metrics.jsonl'), [lines[0], lines[1], JSON.stringify(bad)].join('\n'));
    expect(errorOf(() => readRun(dir)).message).toMatch(/metrics\.jsonl line 3: not a round record, field 'bytesSent'/);
  });

  it('refuses rounds that do not increase', () => {
    const { dir, lines } = freshRun(3);
    writeFileSync(join(dir, 'metrics.jsonl'), [lines[0], lines[1], lines[0]].join('\n'));
    expect(errorOf(() => readRun(dir)).message).toContain('line 3: round 1 does not follow round 2');
  });

  it('reports a missing metrics file by name', () => {
    const { dir } = freshRun(2);
    unlinkSync(join(dir, 'metrics.jsonl'));
    expect(errorOf(() => readRun(dir)).message).toBe(
      `cannot read ${join(dir, 'metrics.jsonl')}: file not found (is this a run directory, and did the run finish?)`,
    );
  });

  it('reports a missing or corrupt summary by name', () => {
    const { dir } = freshRun(2);
    writeFileSync(join(dir, 'summary.json'), '{"rounds": 2, "peers": ');
    expect(errorOf(() => readRun(dir)).message).toMatch(/summary\.json: not valid JSON/);
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ rounds: 2, peers: 4, bytesSent: 1, wallSeconds: 1, backend: 'cpu' }));
    expect(errorOf(() => readRun(dir)).message).toMatch(/summary\.json: field 'localAccuracyMean'/);
    unlinkSync(join(dir, 'summary.json'));
    expect(errorOf(() => readRun(dir)).message).toContain('summary.json: file not found');
  });

  it('treats partition.json as optional but validates it when present', () => {
    const { dir } = freshRun(2);
    writeFileSync(join(dir, 'partition.json'), JSON.stringify({ numClasses: 3, histograms: [[1, 2, 3], [4, 5]] }));
    expect(errorOf(() => readRun(dir)).message).toMatch(/partition\.json: field 'histograms\.1': has 2 class counts, numClasses is 3/);
    unlinkSync(join(dir, 'partition.json'));
    const run = readRun(dir);
    expect(run.partition).toBeNull();
    expect(run.warnings[0]).toContain('partition.json not found');
  });

  it('refuses a directory that does not exist', () => {
    expect(errorOf(() => readRun(join(root, 'nope'))).message).toMatch(/run directory .*nope does not exist/);
  });
});

describe('parseMetricsLines', () => {
  const record = (round: number, extra: object = {}) =>
    JSON.stringify({
      round,
      activePeers: 2,
      localAccuracyMean: null,
      localAccuracyStd: null,
      localAccuracyMin: null,
      localAccuracyMax: null,
      mergedAccuracy: 0.5,
      mergedLoss: 1,
      trainLoss: 1.5,
      consensusDistance: 0.25,
      bytesSent: 10,
      bytesReceived: 10,
      bytesSentTotal: 10 * round,
      globalMerge: false,
      simSeconds: round,
      wallSeconds: round,
      ...extra,
    });

  it('reads a diverged loss (NaN, written by JSON as null) back as NaN and ignores blank lines and unknown fields', () => {
    const warnings: string[] = [];
    const rows = parseMetricsLines(`${record(1)}\n\n${record(2, { trainLoss: null, extraField: 7 })}\n\n`, 'm.jsonl', warnings);
    expect(rows.map((r) => r.round)).toEqual([1, 2]);
    expect(rows[1].trainLoss).toBeNaN();
    expect('extraField' in rows[1]).toBe(false);
    expect(warnings).toEqual([]);
  });

  it('reads per-peer bytes and the server\'s, refusing a negative count or a list of the wrong length', () => {
    const perPeer = { peer: [0, 1], trainLoss: [1, 1], accuracy: [null, null], loss: [null, null], bytesSent: [3, 4], bytesReceived: [5, 0], server: { bytesSent: 5, bytesReceived: 7 } };
    expect(parseMetricsLines(record(1, { perPeer }), 'm.jsonl', [])[0].perPeer).toEqual(perPeer);
    expect(() => parseMetricsLines(record(1, { perPeer: { ...perPeer, server: { bytesSent: -1, bytesReceived: 7 } } }), 'm.jsonl', [])).toThrow(/field 'perPeer.server.bytesSent'/);
    expect(() => parseMetricsLines(record(1, { perPeer: { ...perPeer, bytesSent: [3] } }), 'm.jsonl', [])).toThrow(/field 'perPeer.bytesSent': has 1 entries for 2 peers/);
  });

  it('refuses accuracies outside [0, 1] and a file without any complete record', () => {
    expect(() => parseMetricsLines(record(1, { mergedAccuracy: 91.5 }), 'm.jsonl', [])).toThrow(/line 1: .*field 'mergedAccuracy'/);
    expect(() => parseMetricsLines('{"round": 1, "activePe', 'm.jsonl', [])).toThrow('m.jsonl holds no complete round record');
    expect(() => parseMetricsLines('', 'm.jsonl', [])).toThrow(InputError);
  });
});
