// Kills a checkpoint-writing child process at seeded random moments, restarting it each time
// from its own checkpoint, and checks after every kill that the checkpoint is whole and that
// no round the writer reported durable was lost.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../../src/node/checkpoint.js';
import { Rng } from '../../src/util/rng.js';
import { checkpointLayout, isIntact } from './checkpoint-pattern.js';

const WRITER = fileURLToPath(new URL('./fixtures/checkpoint-writer.ts', import.meta.url));

export interface KillReport {
  readonly kills: number;
  /** Checkpoint files that failed to load or held a mix of rounds. */
  readonly broken: number;
  /** Kills after which the checkpoint was older than the last round the writer reported durable. */
  readonly lost: number;
  /** Rounds written in all. */
  readonly rounds: number;
  /** Temporary files left by killed writes (never read; see docs/reliability.md). */
  readonly strayTempFiles: number;
  readonly problems: string[];
}

/** `kills` runs of the writer, each SIGKILLed 0–`maxDelayMs` ms after its first durable round. */
export async function killDuringCheckpoints(o: { kills: number; seed: number; floats: number; maxDelayMs: number }): Promise<KillReport> {
  const dir = mkdtempSync(join(tmpdir(), 'gossipfl-kill-'));
  const file = join(dir, 'checkpoint.bin');
  const layout = checkpointLayout(o.floats);
  const rng = Rng.derive(o.seed, 'kills');
  let broken = 0;
  let lost = 0;
  let lastDurable = -1;
  const problems: string[] = [];
  try {
    for (let k = 0; k < o.kills; k++) {
      const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file, String(o.floats)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const firstRound = new Promise<void>((resolve) => child.stdout.on('data', (b: Buffer) => ((out += b.toString()), out.includes('\n') && resolve())));
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      await Promise.race([firstRound, exited]);
      await new Promise((r) => setTimeout(r, rng.int(o.maxDelayMs + 1)));
      child.kill('SIGKILL');
      await exited;
      const reported = out.split('\n').filter(Boolean).map(Number);
      if (!reported.length) problems.push(`kill ${k}: the writer reported no round (${err.trim().split('\n').at(-1) ?? 'no output'})`);
      lastDurable = Math.max(lastDurable, ...reported);
      if (!existsSync(file)) {
        if (lastDurable >= 0) lost++;
        continue;
      }
      try {
        const c = loadCheckpoint(file, layout)!;
        if (!isIntact(c, layout)) {
          broken++;
          problems.push(`kill ${k}: checkpoint of round ${c.round} holds values of another round`);
        }
        if (c.round < lastDurable) {
          lost++;
          problems.push(`kill ${k}: checkpoint is at round ${c.round}, the writer had reported round ${lastDurable} durable`);
        }
        lastDurable = Math.max(lastDurable, c.round);
      } catch (e) {
        broken++;
        problems.push(`kill ${k}: ${(e as Error).message}`);
      }
    }
    const strayTempFiles = readdirSync(dir).filter((f) => f.endsWith('.tmp')).length;
    return { kills: o.kills, broken, lost, rounds: lastDurable + 1, strayTempFiles, problems };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
