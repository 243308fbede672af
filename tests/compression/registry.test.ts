// The compression registry: every method on the wire is registered once, what derives from the
// registry agrees with the methods' kinds, and a parameter a method does not read is refused.
import { describe, expect, it } from 'vitest';
import { COMPRESSION_METHODS, GROUP_METHODS, METHOD_NAMES, METHODS, WHOLE_MODEL_METHODS, buildCompressor, methodEntry } from '../../src/compression/index.js';
import { parseConfig } from '../../src/peer/config.js';

describe('compression registry', () => {
  it('registers every wire method exactly once, in wire order', () => {
    expect(COMPRESSION_METHODS.map((m) => m.name).sort()).toEqual([...METHODS].sort());
    expect(METHOD_NAMES).toEqual(METHODS);
    expect(new Set(COMPRESSION_METHODS.map((m) => m.name)).size).toBe(COMPRESSION_METHODS.length);
  });

  it('derives the group and whole-model methods from the entries, and builds each kind', () => {
    expect(GROUP_METHODS).toEqual(['arc-top-k', 'powersgd', 'powersgd-plus', 'greedylore']);
    expect(WHOLE_MODEL_METHODS).toEqual(['identity', 'fp16', 'int8']);
    for (const m of COMPRESSION_METHODS) expect(buildCompressor({ method: m.name }, 1).kind).toBe(m.kind === 'group' ? 'group' : 'pointwise');
  });

  it('refuses an unknown method, naming the known ones', () => {
    expect(() => methodEntry('zip')).toThrow(/unknown method 'zip'/);
    expect(() => parseConfig({ compression: { method: 'zip' } as never })).toThrow(/compression\.method/);
  });
});
