// Divergence check of one round: a learning rate too large for the model turns the loss and
// then the weights into NaN or ±Infinity, and a run that went on would average garbage to the
// end at chance accuracy. The round driver calls checkFinite after each round's local steps
// (and after mixing), so the run stops at the first round where it happens, naming the peers.
import { ConfigError } from '../util/errors.js';
import type { Params } from '../params/index.js';

/** What the check reads of one peer after a round: its index, mean training loss, weights. */
export interface PeerRoundState {
  readonly index: number;
  /** Mean training loss of the round's local steps; null when the peer did not train. */
  readonly loss: number | null;
  readonly params: Params;
}

/** One peer's problem: a non-finite loss, or the first non-finite weight and its tensor. */
export type Divergence =
  | { readonly kind: 'loss'; readonly peer: number; readonly loss: number }
  | { readonly kind: 'params'; readonly peer: number; readonly tensor: string; readonly offset: number; readonly value: number };

/** A run stopped because training diverged; names the round and the peers (exit code 2: the config's learning rate or data needs changing). */
export class DivergenceError extends ConfigError {
  constructor(
    readonly round: number,
    readonly divergences: readonly Divergence[],
    hint: string,
  ) {
    super(`round ${round}: training diverged — ${describe(divergences)}; ${hint}`);
    this.name = 'DivergenceError';
  }
}

const MAX_NAMED = 8;

function describe(ds: readonly Divergence[]): string {
  const parts: string[] = [];
  const losses = ds.filter((d) => d.kind === 'loss');
  if (losses.length) parts.push(`non-finite training loss at ${peerList(losses.map((d) => d.peer))} (${String(losses[0].loss)})`);
  const params = ds.filter((d): d is Extract<Divergence, { kind: 'params' }> => d.kind === 'params');
  if (params.length) parts.push(`non-finite weights at ${peerList(params.map((d) => d.peer))} (first: ${params[0].tensor}[${params[0].offset}] = ${String(params[0].value)})`);
  return parts.join(', ');
}

function peerList(peers: readonly number[]): string {
  const named = peers.slice(0, MAX_NAMED).join(', ');
  const more = peers.length > MAX_NAMED ? ` and ${peers.length - MAX_NAMED} more` : '';
  return `${peers.length === 1 ? 'peer' : 'peers'} ${named}${more}`;
}

/** The problems of each peer in `peers` (empty when every loss and weight is finite). */
export function findDivergences(peers: readonly PeerRoundState[]): Divergence[] {
  const out: Divergence[] = [];
  for (const p of peers) {
    if (p.loss !== null && !Number.isFinite(p.loss)) {
      out.push({ kind: 'loss', peer: p.index, loss: p.loss });
      continue;
    }
    const bad = firstNonFinite(p.params.data);
    if (bad >= 0) {
      const tensor = p.params.layout.tensors.find((t) => bad >= t.offset && bad < t.offset + t.size);
      out.push({ kind: 'params', peer: p.index, tensor: tensor?.name ?? '?', offset: tensor ? bad - tensor.offset : bad, value: p.params.data[bad] });
    }
  }
  return out;
}

/** Index of the first NaN or ±Infinity in `data`, or −1. */
export function firstNonFinite(data: Float32Array): number {
  // x − x is 0 for every finite x and NaN for NaN and ±Infinity; summing blocks keeps the
  // common (all finite) case one pass without a branch per element.
  const BLOCK = 4096;
  for (let start = 0; start < data.length; start += BLOCK) {
    const end = Math.min(start + BLOCK, data.length);
    let acc = 0;
    for (let i = start; i < end; i++) acc += data[i] - data[i];
    if (acc !== 0) {
      for (let i = start; i < end; i++) if (!Number.isFinite(data[i])) return i;
    }
  }
  return -1;
}

/**
 * Throws DivergenceError when any peer's loss or weights are not finite after `round`
 * (1-based, as in metrics.jsonl). `hint` says what to change, e.g. the learning rate in use.
 */
export function checkFinite(round: number, peers: readonly PeerRoundState[], hint = 'lower training.optimizer.lr, or check the data for non-finite values'): void {
  const found = findDivergences(peers);
  if (found.length) throw new DivergenceError(round, found, hint);
}
