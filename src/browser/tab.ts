// What the page (and a test driving the page) can do: read the run it was served with, parse the
// user's files, join the run as a peer, and check the tab's GPU path against wasm.
import type { RunConfig } from '../peer/config.js';
import type { RoundMetrics } from '../report/metrics.js';
import { initBackend, setWasmPrefix, type TabBackendChoice } from '../compute/browser-backend.js';
import { runBrowserPeer, type BrowserPeerResult, type TabRound } from '../node/browser/run-browser-peer.js';
import { buildModel } from '../model/zoo.js';
import { Trainer } from '../model/trainer.js';
import { initOptimizerState } from '../model/optimizer.js';
import { batchIterator } from '../data/batches.js';
import { syntheticDataset } from '../data/synthetic.js';
import { cloneParams } from '../params/index.js';
import { parseLocalData, type DataShape, type PickedFile } from './local-data.js';

/** What `serve-page` tells the page about its run (GET run.json). */
export interface RunInfo {
  /** The run's parsed config, as the serving peer runs it (its hash must match the other peers'). */
  readonly config: RunConfig;
  /** WebSocket multiaddrs of the serving peer. */
  readonly bootstrap: readonly string[];
  /** Sample shape and class count of the run's data (the tab's file must match them). */
  readonly shape: DataShape;
  /** Whether the run needs a pre-shared key (the page then asks for the key file). */
  readonly psk: boolean;
  /** Suggested feature scale for the user's file (1/255 when the run's CSVs hold 0..255 pixels). */
  readonly scale: number;
}

/** Fetches the run the page was served with (waiting while the serving peer starts). */
export async function loadRunInfo(url = './run.json', waitMs = 60_000): Promise<RunInfo> {
  const t0 = Date.now();
  let res = await fetch(url);
  while (res.status === 503 && Date.now() - t0 < waitMs) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    res = await fetch(url);
  }
  if (!res.ok) throw new Error(`${url}: ${res.status} ${res.statusText}; open the link that gossipfl serve-page printed`);
  return (await res.json()) as RunInfo;
}

/** The URL folder the page was loaded from (where the wasm binaries are). */
function pageFolder(): string {
  const here = (globalThis as { location?: { href: string } }).location?.href;
  return new URL('./', here ?? 'http://localhost/').href;
}

/** How the tab joins a run. */
export interface JoinOptions {
  readonly info: RunInfo;
  /** Bootstrap multiaddrs (default: the serving peer's). */
  readonly bootstrap?: readonly string[];
  /** The user's files; none: the run's own data, which the tab can build only when it is synthetic. */
  readonly files?: readonly PickedFile[];
  readonly scale?: number;
  readonly backend?: TabBackendChoice;
  readonly pskText?: string;
  /** STUN or TURN server URLs for WebRTC between tabs (default none: tabs on one LAN or machine). */
  readonly iceServers?: readonly string[];
  readonly onRound?: (m: RoundMetrics, peer: TabRound) => void;
  readonly onListening?: (peerId: string) => void;
  readonly log?: (line: string) => void;
  readonly signal?: AbortSignal;
}

/** Joins the run as one peer and trains to its end. */
export async function joinRun(o: JoinOptions): Promise<BrowserPeerResult> {
  setWasmPrefix(pageFolder());
  const { info } = o;
  if (!o.files?.length && info.config.data.dataset !== 'synthetic') {
    throw new Error(`this run trains on ${info.config.data.dataset} data, which stays on the machines that hold it: pick a file of your own`);
  }
  const data = o.files?.length ? parseLocalData(o.files, info.shape, { scale: o.scale ?? info.scale, seed: info.config.seed }) : undefined;
  // The backend is each peer's own choice: the config hash leaves it out.
  const config: RunConfig = { ...info.config, backend: (o.backend ?? 'auto') as RunConfig['backend'] };
  return runBrowserPeer({
    config,
    bootstrap: o.bootstrap ?? info.bootstrap,
    ...(o.pskText !== undefined ? { pskText: o.pskText } : {}),
    ...(o.iceServers?.length ? { iceServers: o.iceServers } : {}),
    ...(data ? { data } : {}),
    ...(o.onRound ? { onRound: o.onRound } : {}),
    ...(o.onListening ? { onListening: o.onListening } : {}),
    ...(o.log ? { log: o.log } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
}

/** One backend's result of the fixed training check. */
export interface BackendRun {
  readonly backend: string;
  readonly device: string;
  readonly loss: number;
  readonly params: number[];
}

/**
 * Trains one seeded MLP for `steps` SGD steps on one seeded synthetic set, on each named backend
 * from the same initial weights, and returns each backend's loss and weights (so a caller can
 * compare the GPU path with wasm). A backend that cannot start is reported by its error.
 */
export async function trainOnBackends(backends: readonly TabBackendChoice[], steps = 10): Promise<BackendRun[]> {
  setWasmPrefix(pageFolder());
  const data = syntheticDataset({ kind: 'clusters', n: 256, numClasses: 4, featureShape: [16], seed: 11, name: 'check' });
  const model = buildModel({ kind: 'mlp', hidden: [32] }, data.featureShape, data.numClasses);
  const init = model.init(5);
  const optimizer = { kind: 'sgd', lr: 0.1 } as const;
  const out: BackendRun[] = [];
  for (const name of backends) {
    const info = await initBackend(name);
    const trainer = new Trainer(model, optimizer);
    try {
      const params = cloneParams(init);
      const r = await trainer.train(params, initOptimizerState(optimizer, model.layout), batchIterator(data, 32, 7).next, steps);
      out.push({ backend: info.name, device: info.device ?? '', loss: r.loss, params: Array.from(params.data) });
    } finally {
      trainer.dispose();
    }
  }
  return out;
}
