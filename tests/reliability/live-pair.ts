// Two real libp2p nodes on loopback in this process: a victim that runs the production checks
// (the codec validator of `gossipfl peer`, the update protocol's limits) and a hostile member
// of its run that sends whatever the test makes. Every message the victim gets is observed
// through the transport's onVerdict hook.
import { makeLayout, cloneParams, type Params } from '../../src/params/index.js';
import { Rng } from '../../src/util/rng.js';
import { buildCodec, type UpdateCodec } from '../../src/peer/codec.js';
import { codecValidator } from '../../src/node/validate-update.js';
import type { InboundVerdict } from '../../src/node/transport.js';
import { IDENTITY, startCluster, stopAll, type Member } from '../node/cluster.js';

/** A small two-tensor model: enough for every section of the wire format, small enough to fuzz fast. */
export const LAYOUT = makeLayout([
  { name: 'dense/kernel', shape: [24, 10] },
  { name: 'dense/bias', shape: [10] },
]);

export function seededModel(seed: number): Params {
  const rng = new Rng(seed);
  return { layout: LAYOUT, data: Float32Array.from({ length: LAYOUT.size }, () => rng.normal() * 0.1) };
}

const HOUR_MS = 3_600_000;

export interface LivePair {
  readonly victim: Member;
  readonly attacker: Member;
  readonly codec: UpdateCodec;
  /** Index of each peer in the sorted member list (what the codec's sender field holds). */
  readonly victimIndex: number;
  readonly attackerIndex: number;
  /** The victim's last verdicts about messages from the network (the newest 1000, oldest first). */
  readonly verdicts: InboundVerdict[];
  /** Gossip verdicts about messages from `peer` since the start. */
  gossipVerdictsFrom(peer: string): number;
  /** Called with every verdict as it happens. */
  readonly verdictListeners: Set<(v: InboundVerdict) => void>;
  stop(): Promise<void>;
}

export async function startLivePair(opts: { maxRoundsAhead?: number; maxPayloadBytes?: number } = {}): Promise<LivePair> {
  const verdicts: InboundVerdict[] = [];
  const gossipCounts = new Map<string, number>();
  const listeners = new Set<(v: InboundVerdict) => void>();
  const recentLogs: string[] = [];
  const onVerdict = (v: InboundVerdict): void => {
    if (verdicts.length >= 1000) verdicts.shift();
    verdicts.push(v);
    if (v.via === 'gossip') gossipCounts.set(v.from, (gossipCounts.get(v.from) ?? 0) + 1);
    for (const l of listeners) l(v);
  };
  // The attacker announces itself once and then stays quiet (no periodic announcements), and the
  // victim never expires it for silence: every later gossip message from it is a test input.
  const members = await startCluster(2, (i) =>
    i === 0
      ? {
          transport: {
            validate: codecValidator(LAYOUT),
            maxPayloadBytes: opts.maxPayloadBytes ?? LAYOUT.size * 4 + 64 * 1024,
            silentAfterMs: HOUR_MS,
            onVerdict,
            // Keep the newest lines only: a fuzz run logs one line per refusal, and a growing
            // array would read as a leak of the node.
            log: (line: string) => {
              if (recentLogs.length >= 1000) recentLogs.shift();
              recentLogs.push(line);
            },
            ...(opts.maxRoundsAhead ? { maxRoundsAhead: opts.maxRoundsAhead } : {}),
          },
        }
      : { transport: { announceIntervalMs: HOUR_MS } },
  );
  const [victim, attacker] = members;
  victim.logs = recentLogs;
  await Promise.all(members.map((m) => m.transport.waitForMembers(2, 10_000)));
  // waitForMembers ends with an announcement; let those (and debounced ones) arrive before any test input.
  const attackerId = attacker.node.peerId;
  for (let last = -1, t0 = Date.now(); Date.now() - t0 < 5000; ) {
    const now = gossipCounts.get(attackerId) ?? 0;
    if (now === last) break;
    last = now;
    await new Promise((r) => setTimeout(r, 300));
  }
  const sorted = members.map((m) => m.node.peerId).sort();
  return {
    victim,
    attacker,
    codec: buildCodec({ method: 'identity' }, LAYOUT, 1),
    victimIndex: sorted.indexOf(victim.node.peerId),
    attackerIndex: sorted.indexOf(attacker.node.peerId),
    verdicts,
    gossipVerdictsFrom: (peer) => gossipCounts.get(peer) ?? 0,
    verdictListeners: listeners,
    stop: () => stopAll(members),
  };
}

export { IDENTITY, cloneParams };

/** Bit-for-bit equality of two models. */
export function sameBits(a: Params, b: Params): boolean {
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return Buffer.from(x).equals(Buffer.from(y));
}

/** Open file descriptors of this process (Linux), or -1 where /proc is missing. */
export async function openFileCount(): Promise<number> {
  const { readdirSync } = await import('node:fs');
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}
