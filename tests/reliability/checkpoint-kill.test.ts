// A peer killed while it writes its checkpoint never leaves a half-written one (short; the long run kills 40 times).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../../src/node/checkpoint.js';
import { killDuringCheckpoints } from './kill-checkpoint.js';
import { checkpointAt, checkpointLayout, isIntact } from './checkpoint-pattern.js';

describe('SIGKILL during checkpoint writes (short)', () => {
  it('a checkpoint read back from its file is what was written, bit for bit (a Buffer view once shifted it by the header)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gossipfl-ckpt-'));
    try {
      const layout = checkpointLayout(1001);
      saveCheckpoint(join(dir, 'c.bin'), checkpointAt(layout, 12));
      const back = loadCheckpoint(join(dir, 'c.bin'), layout)!;
      expect(back.round).toBe(12);
      expect(isIntact(back, layout)).toBe(true);
      expect(back.params.data[0]).toBe((12 * 7919) % 65521);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('3 kills of a process writing 8 MB checkpoints back to back: each checkpoint loads whole, no durable round lost', async () => {
    const r = await killDuringCheckpoints({ kills: 3, seed: 1, floats: 1_000_000, maxDelayMs: 300 });
    expect(r.problems).toEqual([]);
    expect(r.broken).toBe(0);
    expect(r.lost).toBe(0);
    expect(r.rounds).toBeGreaterThanOrEqual(3);
    console.log(`checkpoint kills: ${r.kills} kills, ${r.rounds} rounds written, ${r.strayTempFiles} stray temp files`);
  }, 60_000);
});
