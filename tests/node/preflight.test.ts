import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOutDir, checkpointBytesUpperBound, exposureWarning, isLoopback } from '../../src/node/preflight.js';
import { clusterPsk } from '../../src/cli/commands/cluster.js';
import { parsePsk } from '../../src/node/keys.js';
import { ConfigError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'gossipfl-preflight-'));

describe('preflight checks', () => {
  it('tells loopback from exposed listen addresses and warns only for exposed ones without a PSK', () => {
    expect(['/ip4/127.0.0.1/tcp/0', '/ip4/127.3.0.1/tcp/1', '/ip6/::1/tcp/0', '/memory/x'].map(isLoopback)).toEqual([true, true, true, true]);
    expect(['/ip4/0.0.0.0/tcp/0', '/ip4/10.0.0.2/tcp/1', '/ip6/::/tcp/0', '/dns4/example.org/tcp/1'].map(isLoopback)).toEqual([false, false, false, false]);
    expect(exposureWarning(['/ip4/127.0.0.1/tcp/0'], undefined)).toBeNull();
    expect(exposureWarning(['/ip4/0.0.0.0/tcp/0'], 'swarm.key')).toBeNull();
    expect(exposureWarning(['/ip4/127.0.0.1/tcp/0', '/ip4/0.0.0.0/tcp/4001'], undefined)).toMatch(/^warning: listening on \/ip4\/0\.0\.0\.0\/tcp\/4001 without a pre-shared key: .* pass --psk FILE/);
  });

  it('checks --out: made when missing, refused under a file with the path named, refused when the disk lacks room', () => {
    checkOutDir(join(dir, 'a', 'b'));
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    expect(() => checkOutDir(join(file, 'sub'))).toThrow(ConfigError);
    expect(() => checkOutDir(join(file, 'sub'))).toThrow(`--out ${join(file, 'sub')}: cannot create the folder`);
    expect(() => checkOutDir(dir, Number.MAX_SAFE_INTEGER)).toThrow(/MiB free, but checkpoints of this model need up to/);
    expect(checkpointBytesUpperBound(1000)).toBe(56_000 + 1024 * 1024);
  });

  it('cluster --psk new writes a fresh key under --out each time; a given file is checked before any peer starts', () => {
    const out = join(dir, 'cluster');
    const first = clusterPsk('new', out);
    expect(first).toBe(join(out, 'swarm.key'));
    const key1 = parsePsk(readFileSync(first, 'utf8'));
    const key2 = parsePsk(readFileSync(clusterPsk('new', out), 'utf8'));
    expect(Buffer.from(key1).equals(Buffer.from(key2))).toBe(false);
    expect(clusterPsk(first, out)).toBe(first);
    const bad = join(dir, 'bad.key');
    writeFileSync(bad, 'not a key');
    expect(() => clusterPsk(bad, out)).toThrow(/is not a pre-shared key file/);
  });
});
