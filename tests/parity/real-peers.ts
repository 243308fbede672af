// Test helper: runs one config as n real peers (runPeer) in this process over libp2p's memory
// transport, and returns each one's per-round metrics in member order (sorted peer ids).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunConfig } from '../../src/peer/config.js';
import { runPeer } from '../../src/node/run-peer.js';
import type { RunPlugins } from '../../src/peer/run.js';
import type { RoundMetrics } from '../../src/report/metrics.js';

export interface RealRun {
  /** Peer ids in member order. */
  readonly ids: string[];
  /** metrics[k]: the k-th member's rounds. */
  readonly metrics: RoundMetrics[][];
}

export async function runRealPeers(config: RunConfig, plugins: RunPlugins = {}, n = config.peers): Promise<RealRun> {
  const ids: string[] = [];
  const dirs: string[] = [];
  let bootstrap: string | undefined;
  let ready!: () => void;
  const listening = new Promise<void>((resolve) => (ready = resolve));
  try {
    const results = await Promise.all(
      Array.from({ length: n }, async (_, k) => {
        if (k > 0) await listening;
        const outDir = mkdtempSync(join(tmpdir(), `gossipfl-real-${k}-`));
        dirs.push(outDir);
        const got: RoundMetrics[] = [];
        await runPeer({
          config,
          plugins,
          outDir,
          node: { memoryTransport: true, ...(bootstrap ? { bootstrap: [bootstrap] } : {}) },
          startGraceMs: 500,
          startTimeoutMs: 30_000,
          log: () => {},
          onListening: (id, addrs) => {
            ids[k] = id;
            if (k === 0) {
              bootstrap = addrs[0];
              ready();
            }
          },
          onRound: (m) => got.push(m),
        });
        return got;
      }),
    );
    const order = [...ids].sort();
    const metrics: RoundMetrics[][] = [];
    results.forEach((got, k) => (metrics[order.indexOf(ids[k])] = got));
    return { ids: order, metrics };
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
