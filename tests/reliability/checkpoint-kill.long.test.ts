// 40 SIGKILLs of a process writing 8 MB checkpoints back to back, restarted from its own
// checkpoint each time. Run by `npm run test:reliability`.
import { describe, expect, it } from 'vitest';
import { killDuringCheckpoints } from './kill-checkpoint.js';
import { recordRow } from './record.js';

const KILLS = 40;

describe('SIGKILL during checkpoint writes (long)', () => {
  it(`${KILLS} kills at random moments: never a half-written checkpoint, never a durable round lost`, async () => {
    const t0 = performance.now();
    const r = await killDuringCheckpoints({ kills: KILLS, seed: 2024, floats: 1_000_000, maxDelayMs: 400 });
    recordRow({
      check: `SIGKILL a peer process while it writes 8 MB checkpoints (${KILLS} kills, restart from its checkpoint each time)`,
      faults: r.kills,
      inputs: r.rounds,
      crashes: 0,
      dataLost: r.broken + r.lost,
      accuracyCostPts: null,
      seconds: (performance.now() - t0) / 1000,
      notes: `${r.rounds} checkpoints written; after every kill the file loaded whole at or after the last round reported durable; ${r.strayTempFiles} stray temp files left`,
    });
    expect(r.problems).toEqual([]);
    expect(r.broken + r.lost).toBe(0);
  });
});
