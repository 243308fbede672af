// Byzantine peers for robustness studies. An attacker trains like everyone else but sends a
// corrupted model (or trains on flipped labels). Models of attacks:
//   sign-flip   send x_ref − s·(x − x_ref): the update reversed and scaled (s = scale, default 1)
//   scale       send x_ref + s·(x − x_ref): the update blown up (default s = 10)
//   noise       send x + N(0, s²) per coordinate (default s = 1)
//   alie        "A little is enough" (Baruch et al. 2019): send μ − z·σ, per coordinate, of the
//               honest models this round, z = scale (default 1) — small enough to pass robust rules
//   nan         put NaN on the wire: the model is sent as is, and attack-payloads.ts overwrites the
//               encoded values with NaN (valid CRC), so the receiver's decode must refuse it
//   label-flip  train on labels c ↦ (C − 1 − c); send the resulting model honestly
// x_ref is the model the attacker started the round from.
import type { Params } from '../params/index.js';
import { cloneParams } from '../params/index.js';
import { Rng } from '../util/rng.js';
import { ConfigError } from '../util/errors.js';

export type AttackKind = 'sign-flip' | 'scale' | 'noise' | 'alie' | 'nan' | 'label-flip';

export interface AttackSpec {
  readonly kind: AttackKind;
  /** Fraction of peers that attack (the first ⌈fraction·n⌉ of a seeded permutation). */
  readonly fraction: number;
  readonly scale?: number;
}

export const DEFAULT_ATTACK_SCALE: Record<AttackKind, number> = {
  'sign-flip': 1,
  scale: 10,
  noise: 1,
  alie: 1,
  nan: 0,
  'label-flip': 0,
};

/** Which peers attack: a seeded choice of ⌈fraction·n⌉ of n. */
export function chooseAttackers(n: number, fraction: number, seed: number): Set<number> {
  const k = Math.ceil(fraction * n - 1e-9);
  return new Set(Rng.derive(seed, 'attackers').sample(n, Math.min(n, k)));
}

/** Label flipping, applied to an attacker's labels once at setup (in place). */
export function flipLabels(labels: Uint8Array | Int32Array, numClasses: number): void {
  for (let i = 0; i < labels.length; i++) labels[i] = numClasses - 1 - labels[i];
}

/**
 * The model an attacker sends this round. `reference` is its model at the start of the round,
 * `honest` the honest peers' current models (for ALIE).
 */
export function corruptModel(
  spec: AttackSpec,
  own: Params,
  reference: Params,
  honest: readonly Params[],
  rng: Rng,
): Params {
  const s = spec.scale ?? DEFAULT_ATTACK_SCALE[spec.kind];
  const out = cloneParams(own);
  const x = out.data;
  const r = reference.data;
  switch (spec.kind) {
    case 'sign-flip':
      for (let i = 0; i < x.length; i++) x[i] = r[i] - s * (own.data[i] - r[i]);
      return out;
    case 'scale':
      for (let i = 0; i < x.length; i++) x[i] = r[i] + s * (own.data[i] - r[i]);
      return out;
    case 'noise':
      for (let i = 0; i < x.length; i++) x[i] += s * rng.normal();
      return out;
    case 'nan':
      // Our own encoder refuses NaN; the NaN goes into the bytes after encoding (NanWireNetwork).
      return out;
    case 'alie': {
      if (honest.length === 0) return out;
      const n = honest.length;
      for (let i = 0; i < x.length; i++) {
        let sum = 0;
        let sq = 0;
        for (const h of honest) {
          const v = h.data[i];
          sum += v;
          sq += v * v;
        }
        const mean = sum / n;
        const std = Math.sqrt(Math.max(0, sq / n - mean * mean));
        x[i] = mean - s * std;
      }
      return out;
    }
    case 'label-flip':
      return out;
  }
}

/**
 * Byzantine members as hooks of the per-peer world, the same in the simulator and on a real
 * peer: an attacker keeps the model it starts each round from and sends a corrupted one.
 * Members are known by their shard index (the seeded choice of chooseAttackers).
 */
export class Adversary {
  private readonly roundStart = new Map<number, Params>();

  constructor(
    private readonly spec: AttackSpec,
    private readonly seed: number,
    readonly attackers: ReadonlySet<number>,
  ) {}

  /** Before a member's local steps. */
  beforeTrain(peer: { readonly index: number; readonly params: Params }): void {
    if (this.attackers.has(peer.index)) this.roundStart.set(peer.index, cloneParams(peer.params));
  }

  /** What a member sends in `round`: its model, or an attacker's corruption of it (`participants`: the round's models it can see). */
  outgoing(peer: { readonly index: number; readonly params: Params }, round: number, participants: ReadonlyArray<{ readonly index: number; readonly params: Params }>): Params {
    if (!this.attackers.has(peer.index)) return peer.params;
    const honest = participants.filter((q) => !this.attackers.has(q.index)).map((q) => q.params);
    const reference = this.roundStart.get(peer.index) ?? peer.params;
    return corruptModel(this.spec, peer.params, reference, honest, Rng.derive(this.seed, 'attack', round, peer.index));
  }
}

/**
 * Attacks an asynchronous peer cannot mount: ALIE needs the round's honest models (an async peer
 * sees only its neighbours' latest), and the NaN payload is written by the synchronous wire.
 */
export function refuseAsyncAttack(attack: AttackSpec | undefined): void {
  if (attack?.kind === 'alie' || attack?.kind === 'nan') {
    throw new ConfigError(`attack.kind ${attack.kind} with timing.mode async: ${attack.kind === 'alie' ? "ALIE needs every honest model of a round, which an asynchronous peer does not see" : 'the NaN payload is written into synchronous exchanges only'}; use timing.mode sync for it, or another attack (sign-flip, scale, noise, label-flip)`);
  }
}
