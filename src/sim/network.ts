// The simulated network: per-link latency, bandwidth and loss, seeded. A message of b bytes sent
// at time s over a link arrives at s + latency + jitter + 8·b / bandwidth, or is lost with the
// link's loss probability. Pure functions of (seed, round, phase, sender, receiver), so the same
// seed gives the same deliveries whatever order peers call in.
import { Rng } from '../util/rng.js';

/** How the simulated network treats every link: latency, jitter, bandwidth and loss. */
export interface NetworkModel {
  /** One-way latency of every link, milliseconds. */
  readonly latencyMs: number;
  /** Uniform extra delay in [0, jitterMs) per message. */
  readonly jitterMs: number;
  /** Link bandwidth in megabits per second (∞ for none). */
  readonly bandwidthMbps: number;
  /** Probability that a message is lost. */
  readonly loss: number;
}

/** No latency, no loss, unlimited bandwidth. */
export const IDEAL_NETWORK: NetworkModel = { latencyMs: 0, jitterMs: 0, bandwidthMbps: Number.POSITIVE_INFINITY, loss: 0 };

/** When one message arrives, if at all. */
export interface Delivery {
  /** Arrival time in ms, or null when the message is lost. */
  readonly arrivalMs: number | null;
}

/** Decides, from the seed alone, when a message of a given size arrives or whether it is lost. */
export function deliver(
  model: NetworkModel,
  seed: number,
  key: { round: number; phase: number; from: string; to: string },
  sentAtMs: number,
  bytes: number,
): Delivery {
  const rng = Rng.derive(seed, 'net', key.round, key.phase, key.from, key.to);
  const lost = model.loss > 0 && rng.next() < model.loss;
  const jitter = model.jitterMs > 0 ? rng.next() * model.jitterMs : 0;
  if (lost) return { arrivalMs: null };
  const transferMs = Number.isFinite(model.bandwidthMbps) ? (bytes * 8) / (model.bandwidthMbps * 1e3) : 0;
  return { arrivalMs: sentAtMs + model.latencyMs + jitter + transferMs };
}
