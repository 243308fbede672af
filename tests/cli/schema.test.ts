import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import YAML from 'yaml';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { configJsonSchema } from '../../src/cli/commands/schema.js';
import { DEFAULT_CONFIG, parseConfig } from '../../src/peer/config.js';

afterEach(() => vi.restoreAllMocks());

const studyConfigs = readdirSync('simulations', { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.yaml') && !f.includes('sweep'))
  .map((f) => join('simulations', f));

describe('gossipfl schema', () => {
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(configJsonSchema());

  it('prints the JSON Schema on stdout', async () => {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
    expect(await main(['schema'])).toBe(0);
    vi.restoreAllMocks();
    const schema = JSON.parse(out);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['peers', 'data', 'topology', 'training', 'allowDisconnected']));
  });

  it('accepts every shipped study config and the default run (topology.peers left out)', () => {
    expect(studyConfigs.length).toBeGreaterThan(5);
    for (const f of studyConfigs) {
      const raw = YAML.parse(readFileSync(f, 'utf8'));
      expect(validate(raw), `${f}: ${JSON.stringify(validate.errors)}`).toBe(true);
      parseConfig(raw, f); // and gossipfl agrees
    }
    expect(validate(DEFAULT_CONFIG)).toBe(true);
    expect(validate({ topology: { name: 'ring' }, data: { dataset: 'fashion-mnist' } })).toBe(true);
  });

  it('refuses what parseConfig refuses: unknown keys, wrong types, out-of-range values, unknown variants', () => {
    for (const bad of [
      { peerz: 4 },
      { peers: 'four' },
      { peers: 1 },
      { data: { dataset: 'cifar' } },
      { data: { dataset: 'fashion-mnist', train: 70000 } },
      { training: { optimizer: { kind: 'sgd' } } },
      { topology: { name: 'ring', extra: 1 } },
    ]) {
      expect(validate(bad), JSON.stringify(bad)).toBe(false);
      expect(() => parseConfig(bad)).toThrow();
    }
  });
});
