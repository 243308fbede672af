// Byzantine peers in the simulator, the setting of simulations/byzantine (20 peers, 4 attackers),
// for the coordinate median against every attack, and plain averaging against random noise.
// Run by `npm run test:reliability`; the full study with all rules is simulations/byzantine/run.ts.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig, type RunConfig } from '../../src/peer/config.js';
import { simulate } from '../../src/sim/simulator.js';
import { ATTACKS, FRACTION, TOLERANCE } from '../../simulations/byzantine/run.js';
import { chooseAttackers, type AttackKind } from '../../src/peer/attacks.js';
import { recordRow } from './record.js';

const BASE = join(dirname(fileURLToPath(import.meta.url)), '../../simulations/byzantine/base.yaml');

function variant(base: RunConfig, rule: 'median' | 'gossip', f: number, attack: AttackKind | null): RunConfig {
  return parseConfig({ ...base, aggregation: rule === 'median' ? { name: 'median', f } : { name: 'gossip' }, ...(attack ? { attack: { kind: attack, fraction: FRACTION } } : {}) });
}

describe('Byzantine peers (long)', () => {
  it('the median stays within 2 points of its clean run under all six attacks; plain averaging does not under noise', async () => {
    const t0 = performance.now();
    const base = loadConfigFile(BASE);
    const f = chooseAttackers(base.peers, FRACTION, base.seed).size;
    const acc = async (c: RunConfig) => (await simulate(c)).summary.mergedAccuracy!;
    const clean = await acc(variant(base, 'median', f, null));
    const drops = new Map<AttackKind, number>();
    for (const a of ATTACKS) drops.set(a, clean - (await acc(variant(base, 'median', f, a))));
    const plainDrop = (await acc(variant(base, 'gossip', f, null))) - (await acc(variant(base, 'gossip', f, 'noise')));
    const worst = Math.max(...drops.values());
    recordRow({
      check: `Byzantine (simulator): ${base.peers} peers, ${f} attackers, median vs ${ATTACKS.join('/')}; plain averaging vs noise`,
      faults: f * base.rounds * (ATTACKS.length + 1),
      inputs: base.peers * base.rounds * (ATTACKS.length + 3),
      crashes: 0,
      dataLost: 0,
      accuracyCostPts: worst * 100,
      seconds: (performance.now() - t0) / 1000,
      notes: `median drops ${[...drops].map(([a, d]) => `${a} ${(d * 100).toFixed(1)}`).join(', ')} pts from ${(clean * 100).toFixed(1)}%; plain averaging drops ${(plainDrop * 100).toFixed(1)} pts under noise`,
    });
    for (const [a, d] of drops) expect(d, a).toBeLessThanOrEqual(TOLERANCE + 1e-9);
    expect(plainDrop).toBeGreaterThan(TOLERANCE);
  });
});
