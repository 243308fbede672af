import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEdgeList, readEdgeList } from '../../src/topology/edge-list.js';
import { InputError } from '../../src/util/errors.js';

describe('edge lists', () => {
  it('reads "i j" lines with comments and blank lines; n is the largest index + 1', () => {
    const l = parseEdgeList('# a path\n0 1\n\n1 2   # middle\n2\t3\n');
    expect(l.n).toBe(4);
    expect(l.edges).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(l.weights).toBeUndefined();
    expect(parseEdgeList('0 1', { peers: 5 }).n).toBe(5);
  });

  it('reads weights when every line has one', () => {
    expect(parseEdgeList('0 1 0.25\n1 2 0.5').weights).toEqual([0.25, 0.5]);
    expect(() => parseEdgeList('0 1 0.25\n1 2')).toThrow(/line 2: lacks a weight/);
    expect(() => parseEdgeList('0 1 1.5')).toThrow(/\(0, 1\]/);
  });

  it('names the line of each kind of bad input', () => {
    expect(() => parseEdgeList('0 1\n2 2')).toThrow(/line 2: self-loop 2–2/);
    expect(() => parseEdgeList('0 1\n1 7', { peers: 4 })).toThrow(/line 2: peer 7 is out of range for 4 peers/);
    expect(() => parseEdgeList('0 1\n1 0')).toThrow(/line 2: edge 1–0 repeats line 1/);
    expect(() => parseEdgeList('0 -1')).toThrow(/"-1" is not a peer index/);
    expect(() => parseEdgeList('0 1 2 3')).toThrow(/expected "i j"/);
    expect(() => parseEdgeList('# nothing\n')).toThrow(/no edges/);
    expect(() => parseEdgeList('0 x')).toThrow(InputError);
  });

  const dir = mkdtempSync(join(tmpdir(), 'gossipfl-edges-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file and names it in errors', () => {
    const file = join(dir, 'ring.txt');
    writeFileSync(file, '0 1\n1 2\n2 0\n');
    expect(readEdgeList(file).n).toBe(3);
    writeFileSync(file, '0 1\n1 1\n');
    expect(() => readEdgeList(file)).toThrow(`${file} line 2: self-loop`);
    expect(() => readEdgeList(join(dir, 'missing.txt'))).toThrow(/cannot read edge list .*ENOENT/);
  });
});
