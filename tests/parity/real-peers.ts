// Test helper: runs one config as n real peers (runPeer) in this process over libp2p's memory
// transport, and returns each one's per-round metrics in member order (sorted peer ids). For
// mode federated one more peer serves (runPeer with serve); its rounds come back apart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunConfig } from '../../src/peer/config.js';
import { runPeer, type PeerRunOptions } from '../../src/node/run-peer.js';
import type { RunPlugins } from '../../src/peer/run.js';
import type { RoundMetrics } from '../../src/report/metrics.js';

export interface RealRun {
  /** Peer ids in member order. */
  readonly ids: string[];
  /** metrics[k]: the k-th member's rounds. */
  readonly metrics: RoundMetrics[][];
  /** The server's rounds (mode federated). */
  readonly server?: RoundMetrics[];
  /** With `settle`: each member's error (undefined when it finished), in member order, then the server's. */
  readonly errors?: unknown[];
}

/** Per-run extras: options for the server's runPeer, per-member options, and `settle` to collect errors instead of throwing the first. */
export interface RealPeersExtras {
  readonly server?: Partial<PeerRunOptions>;
  readonly member?: (k: number) => Partial<PeerRunOptions>;
  readonly settle?: boolean;
}

export async function runRealPeers(config: RunConfig, plugins: RunPlugins = {}, n = config.peers, extras: RealPeersExtras = {}): Promise<RealRun> {
  const serve = config.mode === 'federated';
  const ids: string[] = [];
  const gots: RoundMetrics[][] = [];
  const dirs: string[] = [];
  let bootstrap: string | undefined;
  let ready!: () => void;
  const listening = new Promise<void>((resolve) => (ready = resolve));
  try {
    const settled = await Promise.allSettled(
      Array.from({ length: n + (serve ? 1 : 0) }, async (_, k) => {
        if (k > 0) await listening;
        const outDir = mkdtempSync(join(tmpdir(), `gossipfl-real-${k}-`));
        dirs.push(outDir);
        const got: RoundMetrics[] = (gots[k] = []);
        await runPeer({
          config,
          plugins,
          outDir,
          node: { memoryTransport: true, ...(bootstrap ? { bootstrap: [bootstrap] } : {}) },
          startGraceMs: 500,
          startTimeoutMs: 30_000,
          // The last one serves (the first is everyone's bootstrap).
          serve: serve && k === n,
          log: () => {},
          onListening: (id, addrs) => {
            ids[k] = id;
            if (k === 0) {
              bootstrap = addrs[0];
              ready();
            }
          },
          ...(serve && k === n ? extras.server : extras.member?.(k)),
          onRound: (m) => {
            got.push(m);
            (serve && k === n ? extras.server : extras.member?.(k))?.onRound?.(m);
          },
        });
        return got;
      }),
    );
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed && !extras.settle) throw failed.reason;
    // A member that failed keeps the rounds it finished.
    const results = gots;
    const order = ids.slice(0, n).sort();
    const metrics: RoundMetrics[][] = [];
    results.slice(0, n).forEach((got, k) => (metrics[order.indexOf(ids[k])] = got));
    const errors: unknown[] = [];
    settled.slice(0, n).forEach((r, k) => (errors[order.indexOf(ids[k])] = r.status === 'rejected' ? r.reason : undefined));
    if (serve) errors.push(settled[n].status === 'rejected' ? settled[n].reason : undefined);
    return { ids: order, metrics, ...(serve ? { server: results[n] } : {}), ...(extras.settle ? { errors } : {}) };
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
