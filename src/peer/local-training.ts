// What the aggregation rule and the privacy settings ask of a peer's local steps, applied around
// them the same way in every mode, in the simulator and on a real peer. With x_s the model the
// steps start from (the downloaded global model in a server round, the round's model in MoDeST,
// the round's own model in gossip and all-reduce):
//   FedProx:  every gradient gets μ(w − x_s) (the trainer's `proximal`);
//   SCAFFOLD: every gradient gets c − c_i (the trainer's `correction`); afterwards c_i takes the
//             option-II update and Δc_i waits for the upload (see src/aggregation/scaffold.ts);
//   privacy:  the change u = x − x_s is clipped to C; in local mode it is noised as well, and the
//             peer keeps the released model, so everything it sends later is post-processing;
//   D²:       the peer sends ψ + x_s − ψ_prev instead of its trained model ψ (src/aggregation/d2.ts);
//   SCAFFOLD over gossip: as SCAFFOLD with the peer's own estimate ĉ_i (its rule state) for c;
//             afterwards ĉ_i moves by Δc_i and the peer sends x_s + η_s·(y − x_s)
//             (src/aggregation/scaffold-gossip.ts; the round driver exchanges ĉ_i after the models).
import type { Params } from '../params/index.js';
import { paramsFrom } from '../params/index.js';
import type { LocalStepOptions } from '../model/optimizer.js';
import type { RunConfig } from './config.js';
import type { Run } from './run.js';
import type { Peer } from './peer.js';
import type { PeerId } from './transport.js';
import type { AggregationState } from '../aggregation/build.js';
import { controlParams, scaffoldClientUpdate, scaffoldCorrection } from '../aggregation/scaffold.js';
import { d2Correction } from '../aggregation/d2.js';
import { scaffoldGossipStep, trackControl } from '../aggregation/scaffold-gossip.js';
import { aggregationRegistry, rulesWhere } from '../aggregation/registry.js';
import { addGaussianNoise, centralNoiseStd } from '../privacy/noise.js';
import { clipUpdate } from '../privacy/clip.js';
import { runPrivacy } from '../privacy/run.js';
import { Rng } from '../util/rng.js';

/**
 * The config's local-training rules that the schema cannot say on its own, as one line naming
 * the key and what to do, or null when the config is fine. What a rule needs is read from its
 * registry entry (serverOnly, serverMean, localTraining), so a plug-in rule declares it too.
 */
export function localTrainingMisfit(c: RunConfig, groupCompressor: boolean): string | null {
  const rule = c.aggregation?.name ?? (c.mode === 'gossip' ? 'gossip' : 'fedavg');
  const opt = c.training.optimizer;
  // A local-training part of a rule that does not mix by gossip corrects against a server's model.
  const entry = aggregationRegistry.get(rule);
  if (c.mode === 'gossip' && entry.localTraining && !entry.modes.includes('gossip')) {
    return `aggregation '${rule}' corrects local training against a server's model; use mode: federated (or aggregation: d2, the gossip form of drift correction)`;
  }
  if (entry.serverOnly && c.mode !== 'federated') return `aggregation '${rule}' ${entry.serverOnly}: use mode: federated`;
  if (entry.localTraining === 'control-variates') {
    if (opt.kind !== 'sgd' || opt.momentum) {
      return `aggregation '${rule}' updates c_i from the model change of plain SGD steps (option II): set training.optimizer to { kind: sgd } without momentum`;
    }
    if (groupCompressor && c.mode === 'federated') return `aggregation '${rule}' needs every client's model and control at the server; a group compressor hands it only the mean: use a pointwise compression.method`;
    if (c.privacy) return `privacy with aggregation '${rule}': the control variates would leave the peers unprotected; drop privacy or use ${orList(rulesWhere((e) => Boolean(e.serverMean)))}`;
    // The gossip form exchanges its estimates ĉ_i once per round, after the models, in step with everyone.
    if (c.mode === 'gossip' && c.timing.mode === 'async') return `aggregation '${rule}' tracks the mean control variate by synchronous gossip (a stale or skipped estimate moves the mean): use timing.mode: sync`;
    if (c.mode === 'gossip' && (c.schedule.gossipSteps ?? 1) !== 1) return `aggregation '${rule}' mixes models and control estimates once per round: set schedule.gossipSteps to 1 (got ${c.schedule.gossipSteps})`;
  }
  if (c.privacy?.mode === 'central') {
    if (!entry.serverMean) return `privacy.mode central noises the server's mean of the clipped updates: use aggregation ${orList(rulesWhere((e) => Boolean(e.serverMean)))} (got ${rule}), or privacy.mode local`;
    if (groupCompressor) return `privacy.mode central: a group compressor averages without the server; use a pointwise compression.method, or privacy.mode local`;
    if (c.compression.errorFeedback !== 'none') return `privacy.mode central: error feedback adds earlier rounds' residuals to the clipped update, so its norm is no longer bounded by C; set compression.errorFeedback: none, or privacy.mode local`;
  }
  return null;
}

/** "a", "a or b", "a, b or c". */
export function orList(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** What of a peer's local-training memory outlives a restart: SCAFFOLD's c_i and D²'s ψ_prev (absent = not yet made). */
export interface LocalTrainingState {
  readonly clientControl?: Float32Array;
  readonly lastTrained?: Float32Array;
}

/** The per-peer memory of the local-training parts: c_i, ψ_prev and the round's Δc_i. */
export class LocalTraining {
  private readonly clientControls = new Map<PeerId, Float32Array>();
  private readonly lastTrained = new Map<PeerId, Float32Array>();
  private readonly controls = new Map<PeerId, Params>();
  /** Whether any part is active (otherwise begin/finish cost nothing). */
  readonly active: boolean;

  constructor(private readonly run: Run) {
    const t = run.aggregator.training;
    this.active = Boolean(t?.proximalMu !== undefined || t?.controlVariates || t?.trackedControl || t?.d2 || run.config.privacy);
  }

  /** Whether clients upload a control delta (SCAFFOLD). */
  get uploadsControls(): boolean {
    return Boolean(this.run.aggregator.training?.controlVariates);
  }

  /**
   * The options of a peer's local steps from x_s; `ruleState` is the server's rule state (SCAFFOLD's
   * c) or, for SCAFFOLD over gossip, the peer's own (its estimate ĉ_i).
   */
  begin(p: Peer, ruleState: AggregationState): { start: Float32Array; options: LocalStepOptions } {
    const start = p.params.data.slice();
    const t = this.run.aggregator.training;
    const options: LocalStepOptions = {
      ...(t?.proximalMu !== undefined ? { proximal: { mu: t.proximalMu, anchor: start } } : {}),
      ...(t?.controlVariates || t?.trackedControl ? { correction: scaffoldCorrection(globalControl(ruleState), this.clientControls.get(p.id) ?? null, start.length) } : {}),
    };
    return { start, options };
  }

  /**
   * After k local steps: SCAFFOLD's control update, privacy, then D²'s correction or SCAFFOLD over
   * gossip's step η_s, on the peer's model in place. Returns the peer's rule state when local
   * training moved it (SCAFFOLD over gossip: ĉ_i + Δc_i), else undefined.
   */
  finish(p: Peer, start: Float32Array, steps: number, round: number, ruleState: AggregationState): AggregationState | undefined {
    const { config, aggregator } = this.run;
    const t = aggregator.training;
    const layout = p.params.layout;
    let next: AggregationState | undefined;
    if ((t?.controlVariates || t?.trackedControl) && steps > 0) {
      const u = scaffoldClientUpdate({
        global: start,
        local: p.params.data,
        clientControl: this.clientControls.get(p.id) ?? null,
        serverControl: globalControl(ruleState),
        localLr: config.training.optimizer.lr,
        localSteps: steps,
      });
      this.clientControls.set(p.id, u.clientControl);
      if (t?.controlVariates) this.controls.set(p.id, controlParams(p.params, u.controlDelta));
      else if (ruleState !== null && ruleState.rule === 'scaffold-gossip') next = trackControl(ruleState, u.controlDelta);
    }
    if (config.privacy) p.params = paramsFrom(layout, privatize(p.params.data, start, config, round, p.index));
    if (t?.d2) {
      const trained = p.params.data;
      p.params = paramsFrom(layout, d2Correction(trained, start, this.lastTrained.get(p.id) ?? start));
      this.lastTrained.set(p.id, trained.slice());
    }
    if (t?.trackedControl && steps > 0) p.params = paramsFrom(layout, scaffoldGossipStep(start, p.params.data, t.trackedControl.stepSize));
    return next;
  }

  /** A peer's c_i and ψ_prev after a finished round (for its checkpoint; Δc_i has been sent by then). */
  exportState(id: PeerId): LocalTrainingState {
    const clientControl = this.clientControls.get(id);
    const lastTrained = this.lastTrained.get(id);
    return { ...(clientControl ? { clientControl } : {}), ...(lastTrained ? { lastTrained } : {}) };
  }

  /** Puts back what exportState gave (a restarted peer); what is absent starts afresh. */
  importState(id: PeerId, state: LocalTrainingState): void {
    if (state.clientControl) this.clientControls.set(id, state.clientControl);
    if (state.lastTrained) this.lastTrained.set(id, state.lastTrained);
  }

  /** The Δc_i a peer computed this round (taken once, for the upload). */
  takeControl(id: PeerId): Params | undefined {
    const c = this.controls.get(id);
    this.controls.delete(id);
    return c;
  }
}

/** c in the correction c − c_i: the server's (SCAFFOLD) or the peer's gossip estimate ĉ_i (SCAFFOLD over gossip). */
function globalControl(state: AggregationState): Float32Array | null {
  if (state === null) return null;
  if (state.rule === 'scaffold') return state.c;
  return state.rule === 'scaffold-gossip' ? state.estimate : null;
}

/** x_s + clip(x − x_s, C), plus N(0, (σC)²) per coordinate in local mode (seeded by run seed, round and shard). */
function privatize(x: Float32Array, start: Float32Array, config: RunConfig, round: number, shard: number): Float32Array {
  const spec = config.privacy!;
  const u = new Float32Array(x.length);
  for (let k = 0; k < u.length; k++) u[k] = x[k] - start[k];
  const clipped = clipUpdate(u, spec.clipNorm).update;
  const released = spec.mode === 'local' ? addGaussianNoise(clipped, spec.noiseMultiplier * spec.clipNorm, Rng.derive(config.seed, 'dp-noise', round, shard)) : clipped;
  for (let k = 0; k < released.length; k++) released[k] += start[k];
  return released;
}

/**
 * Central DP at the server: the unweighted mean of m clipped updates plus N(0, (σC/m)²) per
 * coordinate (DP-FedAvg's noise of std σC on the sum), seeded by run seed and round.
 */
export function centralNoise(model: Params, config: RunConfig, round: number, participants: number): Params {
  const spec = config.privacy!;
  const std = centralNoiseStd(spec.clipNorm, spec.noiseMultiplier, participants);
  return paramsFrom(model.layout, addGaussianNoise(model.data, std, Rng.derive(config.seed, 'dp-noise', round)));
}

/** The run's (ε, δ) after `rounds` rounds, or undefined without privacy or without noise (σ = 0 gives no guarantee). */
export function privacyAfter(config: RunConfig, rounds: number): { epsilon: number; delta: number } | undefined {
  const spec = config.privacy;
  if (!spec || spec.noiseMultiplier === 0) return undefined;
  const q = spec.mode === 'central' ? config.federated.participation : 1;
  const { epsilon, delta } = runPrivacy(spec, rounds, q);
  return { epsilon, delta };
}
