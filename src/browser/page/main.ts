// The page's script: wires the form to the tab's peer and shows each round as it ends. The same
// functions are on window.gossipflTab for scripted use (tests drive the page through them).
// First: Node-style timer handles, which node/ code unrefs.
import '../shims/timers.js';
import { joinRun, loadRunInfo, trainOnBackends, type RunInfo } from '../tab.js';
import type { PickedFile } from '../local-data.js';
import type { TabBackendChoice } from '../../compute/browser-backend.js';
import type { Link } from '../../node/browser/webrtc-links.js';

/** The few DOM members the page uses (the project compiles without the DOM library). */
interface El {
  value: string;
  textContent: string | null;
  hidden: boolean;
  disabled: boolean;
  className: string;
  innerHTML: string;
  readonly files?: ArrayLike<{ readonly name: string; arrayBuffer(): Promise<ArrayBuffer>; text(): Promise<string> }>;
  addEventListener(type: string, fn: () => void): void;
  setAttribute(name: string, value: string): void;
  insertAdjacentHTML(where: 'beforeend', html: string): void;
}

const win = globalThis as unknown as {
  document: { getElementById(id: string): El | null };
  addEventListener(type: string, fn: () => void): void;
  gossipflTab?: unknown;
};
const $ = (id: string): El => {
  const el = win.document.getElementById(id);
  if (!el) throw new Error(`page: #${id} is missing`);
  return el;
};

win.gossipflTab = { loadRunInfo, joinRun, trainOnBackends };

const log = (line: string): void => {
  $('log').textContent = `${$('log').textContent ?? ''}${line}\n`.split('\n').slice(-200).join('\n');
};
const status = (text: string, error = false): void => {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
};
const pct = (v: number | null): string => (v === null ? '–' : `${(v * 100).toFixed(2)}%`);
const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The connections of a round in a few words, e.g. "2 WebRTC, 1 relay, 1 WebSocket". */
function linkSummary(links: readonly Link[]): string {
  const names: Record<Link['kind'], string> = { webrtc: 'WebRTC', relay: 'relay', websocket: 'WebSocket', tcp: 'TCP', other: 'other' };
  const counts = new Map<string, number>();
  for (const l of links) counts.set(names[l.kind], (counts.get(names[l.kind]) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
}

async function picked(el: El): Promise<PickedFile[]> {
  return Promise.all(Array.from(el.files ?? [], async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
}

async function main(): Promise<void> {
  let info: RunInfo;
  try {
    info = await loadRunInfo();
  } catch (err) {
    $('run-info').textContent = (err as Error).message;
    $('run-info').className = 'error';
    return;
  }
  const c = info.config;
  $('run-info').innerHTML =
    `<b>${escape(c.name)}</b>: ${c.peers} peers, ${c.rounds} rounds, mode ${escape(c.mode)}, model ${escape(c.model.kind)}, ` +
    `samples of shape [${info.shape.featureShape.join(', ')}], ${info.shape.numClasses} classes` +
    (c.data.dataset === 'synthetic' ? ' (synthetic data: you may join without a file)' : '');
  $('bootstrap').value = info.bootstrap[0] ?? '';
  $('scale').value = String(info.scale);
  $('psk-row').hidden = !info.psk;
  let stop: AbortController | undefined;
  $('leave').addEventListener('click', () => {
    stop?.abort();
    status('leaving after this round…');
  });
  $('join').addEventListener('click', () => {
    stop = new AbortController();
    const signal = stop.signal;
    $('join').disabled = true;
    $('leave').disabled = false;
    void (async () => {
      try {
        const files = await picked($('data'));
        const pskFiles = info.psk ? Array.from($('psk').files ?? []) : [];
        if (info.psk && pskFiles.length === 0) throw new Error('this run needs its pre-shared key file: pick it above');
        const pskText = pskFiles.length ? await pskFiles[0].text() : undefined;
        status('joining: waiting for the other peers…');
        const result = await joinRun({
          info,
          bootstrap: $('bootstrap').value.split(/\s+/).filter(Boolean),
          files,
          scale: Number($('scale').value),
          backend: $('backend').value as TabBackendChoice,
          iceServers: $('ice').value.split(/\s+/).filter(Boolean),
          ...(pskText !== undefined ? { pskText } : {}),
          onListening: (id) => log(`this tab is peer ${id}`),
          onRound: (m, p) => {
            status(`round ${m.round}/${c.rounds}`);
            // For scripted use (tests): the tab's connections at the end of the round.
            $('status').setAttribute('data-links', JSON.stringify(p.links));
            $('rounds').insertAdjacentHTML(
              'beforeend',
              `<tr><td>${m.round}</td><td>${p.members}</td><td>${p.loss.toFixed(4)}</td><td>${pct(m.localAccuracyMean)}</td>` +
                `<td>${pct(m.mergedAccuracy)}</td><td>${m.bytesSent.toLocaleString()}</td><td>${m.bytesReceived.toLocaleString()}</td><td>${escape(linkSummary(p.links))}</td></tr>`,
            );
          },
          log,
          signal,
        });
        $('status').setAttribute('data-model', result.paramsSha256);
        status(`done: ${result.rounds} rounds on ${result.backend}, ${result.bytesSentTotal.toLocaleString()} bytes sent; final model ${result.paramsSha256.slice(0, 16)}…`);
      } catch (err) {
        status((err as Error).message, true);
        log(String((err as Error).stack ?? err));
      } finally {
        $('join').disabled = false;
        $('leave').disabled = true;
      }
    })();
  });
}

void main();
