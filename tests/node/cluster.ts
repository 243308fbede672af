// Test helper: a few gossipfl nodes on 127.0.0.1 TCP, each with a transport, that the test stops itself.
import { createGossipflNode, type GossipflNode } from '../../src/node/create-node.js';
import type { NodeOptions } from '../../src/node/options.js';
import { Libp2pTransport, type Libp2pTransportOptions, type ValidateUpdate } from '../../src/node/transport.js';
import type { RunIdentity } from '../../src/node/membership.js';

export const IDENTITY: RunIdentity = { runId: 'test-run', modelFingerprint: 'fp-1', configHash: 'cfg-1' };

export interface Member {
  node: GossipflNode;
  transport: Libp2pTransport;
  logs: string[];
}

export const acceptAll: ValidateUpdate = () => ({ ok: true });

/** Starts `n` members; member i > 0 bootstraps to member 0. `per(i)` overrides options of member i. */
export async function startCluster(
  n: number,
  per: (i: number) => { node?: NodeOptions; transport?: Partial<Libp2pTransportOptions> } = () => ({}),
): Promise<Member[]> {
  const members: Member[] = [];
  for (let i = 0; i < n; i++) {
    const o = per(i);
    const bootstrap = i === 0 ? [] : [members[0].node.addresses()[0]];
    const node = await createGossipflNode({ bootstrap, ...o.node });
    const logs: string[] = [];
    const transport = await Libp2pTransport.start(node, {
      identity: IDENTITY,
      validate: acceptAll,
      announceIntervalMs: 500,
      log: (line) => logs.push(line),
      ...o.transport,
    });
    members.push({ node, transport, logs });
  }
  return members;
}

export async function stopAll(members: readonly Member[]): Promise<void> {
  await Promise.all(members.map((m) => m.transport.close().catch(() => undefined)));
  await Promise.all(members.map((m) => m.node.stop()));
}

/** A payload whose bytes say who sent it, for which round and phase. */
export function payloadOf(from: number, round: number, phase: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (from * 31 + round * 7 + phase * 3 + i) & 0xff;
  return b;
}

/** Resolves once `cond()` holds, polling; rejects after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
