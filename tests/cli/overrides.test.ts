import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyOverrides, parseOverride } from '../../src/peer/overrides.js';
import { loadConfigFile } from '../../src/peer/config.js';

const root = mkdtempSync(join(tmpdir(), 'gossipfl-set-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('--set key.path=value', () => {
  it('reads values as YAML', () => {
    expect(parseOverride('data.partition.alpha=0.1')).toEqual({ path: ['data', 'partition', 'alpha'], value: 0.1 });
    expect(parseOverride('name=ring a=b')).toEqual({ path: ['name'], value: 'ring a=b' });
    expect(parseOverride('schedule.merge.rounds=[5, 10]').value).toEqual([5, 10]);
    expect(parseOverride('data.partition={ kind: iid }').value).toEqual({ kind: 'iid' });
    expect(parseOverride('allowDisconnected=true').value).toBe(true);
    expect(parseOverride('name=').value).toBe('');
  });

  it('sets nested keys without touching the rest, creating sections, later overrides winning', () => {
    const raw = { peers: 4, data: { dataset: 'mnist', partition: { kind: 'dirichlet', alpha: 1 } }, list: [{ a: 1 }, { a: 2 }] };
    const out = applyOverrides(raw, ['data.partition.alpha=0.1', 'training.optimizer.lr=0.2', 'peers=8', 'peers=6', 'list.1.a=5']);
    expect(out).toEqual({
      peers: 6,
      data: { dataset: 'mnist', partition: { kind: 'dirichlet', alpha: 0.1 } },
      training: { optimizer: { lr: 0.2 } },
      list: [{ a: 1 }, { a: 5 }],
    });
    expect(raw.data.partition.alpha).toBe(1); // the input is not changed
  });

  it('refuses malformed overrides with the override named', () => {
    expect(() => parseOverride('rounds')).toThrow('--set rounds: expected key.path=value');
    expect(() => parseOverride('=3')).toThrow('expected key.path=value');
    expect(() => parseOverride('data..alpha=3')).toThrow("the key 'data..alpha' has an empty part");
    expect(() => parseOverride('name=[1, 2')).toThrow('--set name=[1, 2: the value is not valid YAML');
    expect(() => applyOverrides({ peers: 4 }, ['peers.n=2'])).toThrow('--set peers.n: peers is 4, not a section, so it has no key n');
    expect(() => applyOverrides({ l: [1] }, ['l.x=2'])).toThrow("--set l.x: l is a list of 1; index it with 0..1 instead of 'x'");
  });

  it('validates the overridden config like the file, naming the override', () => {
    const path = join(root, 'run.yaml');
    writeFileSync(path, 'peers: 4\ndata: { dataset: mnist, train: 400, test: 100, partition: { kind: dirichlet, alpha: 1 } }\n');
    const c = loadConfigFile(path, ['data.partition.alpha=0.1', 'rounds=3']);
    expect(c.data.partition).toEqual({ kind: 'dirichlet', alpha: 0.1 });
    expect(c.rounds).toBe(3);
    expect(() => loadConfigFile(path, ['data.partition.alpha=-1'])).toThrow(/run\.yaml with --set data\.partition\.alpha=-1: invalid configuration — data\.partition\.alpha: /);
    expect(() => loadConfigFile(path, ['mode=federated', 'topology.name=ring'])).toThrow('topology is set but mode is federated');
  });
});
