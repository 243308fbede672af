// `gossipfl peer --out` is checked before the peer joins: a read-only folder and a disk without
// room for checkpoints each stop the process with exit code 2 and one line naming the folder,
// before it listens (so no other peer ever counts it as a member). The folders are tmpfs mounts
// in a mount namespace the test makes (unshare), skipped where that is not allowed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const canUnshare = spawnSync('unshare', ['-rm', 'true']).status === 0;
const CONFIG = `name: out-checks
seed: 1
peers: 2
rounds: 2
backend: cpu
data: { dataset: synthetic, train: 200, test: 50, features: 20000, classes: 2 }
model: { kind: logreg }
`;

/** Runs `gossipfl peer` with --out on a fresh 64 KiB tmpfs, mounted `mode` (ro or rw), in its own mount namespace. */
function peerOnTmpfs(mode: 'ro' | 'rw'): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gossipfl-out-'));
  const config = join(dir, 'run.yaml');
  writeFileSync(config, CONFIG);
  const mnt = join(dir, 'mnt');
  const cmd = [
    `mkdir -p ${mnt}`,
    `mount -t tmpfs -o size=64k,${mode} tmpfs ${mnt}`,
    `exec ${process.execPath} --import tsx src/cli/main.ts peer --config ${config} --out ${mnt}/peer --listen /ip4/127.0.0.1/tcp/0 --start-timeout 5000`,
  ].join(' && ');
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', cmd], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe.skipIf(!canUnshare)('gossipfl peer --out checks before joining', () => {
  it('a read-only folder: exit 2, the folder named, never listening', () => {
    const r = peerOnTmpfs('ro');
    expect(r.status, r.out).toBe(2);
    expect(r.out).toMatch(/--out \S+\/mnt\/peer: cannot create the folder \(\S+\/mnt is not writable: EROFS: read-only file system\)/);
    expect(r.out).not.toContain('listening on');
  }, 120_000);

  it('no room for checkpoints: exit 2, the folder and the sizes named, never listening', () => {
    // 20,002 parameters: checkpoints need up to 7 model-sized vectors (about 3.1 MiB), the disk has 64 KiB.
    const r = peerOnTmpfs('rw');
    expect(r.status, r.out).toBe(2);
    expect(r.out).toMatch(/--out \S+\/mnt\/peer: 0\.\d MiB free, but checkpoints of this model need up to \d+\.\d MiB/);
    expect(r.out).not.toContain('listening on');
  }, 120_000);
});
