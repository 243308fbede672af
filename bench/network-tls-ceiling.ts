// Suite `network-tls-ceiling`: how fast can TLS go on Node before libp2p adds anything? A 50 MB
// transfer over loopback with the network suite's method (one connection kept open, 1 MiB
// writes with backpressure, the clock stopped by the receiver's answer, medians, cases taking
// turns), for: raw node:net TCP (baseline), node:tls run directly on the TCP socket (no JS stream
// wrapper, unlike @libp2p/tls), and @libp2p/yamux over plain TCP and over that TLS socket (one
// stream per transfer, as the direct update protocol opens). Each also with the bytes copied
// into one 50 MB buffer. Both ends in this process, then the receiving ends in a child process.
// It measures whether a libp2p transport doing TLS natively on the socket could reach 0.6× raw.
// The TLS certificate is a throwaway self-signed one made with the `openssl` command: this is a
// ceiling measurement, not an authenticated channel.
import '../src/util/polyfills.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { AbortOptions, Stream, StreamMuxer } from '@libp2p/interface';
import { defaultLogger } from '@libp2p/logger';
import { AbstractMultiaddrConnection, type SendResult } from '@libp2p/utils';
import { yamux } from '@libp2p/yamux';
import { multiaddr } from '@multiformats/multiaddr';
import type { Uint8ArrayList } from 'uint8arraylist';
import type { BenchRow, BenchSuite } from './lib.js';
import { median } from './lib.js';
import { byteSink, listenOnLoopback, rawSender, socketSender, takeTurns, withReceiverProcess, writeSliced, type BulkSender } from './network-bulk.js';

const MB = 1e6;
const BYTES = 50 * MB;

/** Socket layer × muxer × what the receiver does with the bytes. */
const CASES = ['raw', 'rawAssembled', 'tls', 'tlsAssembled', 'yamuxTcp', 'yamuxTls', 'yamuxTlsAssembled'] as const;
type Case = (typeof CASES)[number];
const LABEL: Record<Case, string> = {
  raw: 'raw node:net TCP',
  rawAssembled: 'raw TCP into one buffer',
  tls: 'node:tls on the TCP socket',
  tlsAssembled: 'node:tls on the socket, into one buffer',
  yamuxTcp: 'yamux over plain TCP',
  yamuxTls: 'yamux over node:tls on the socket',
  yamuxTlsAssembled: 'yamux over node:tls on the socket, into one buffer',
};
const usesTls = (c: Case): boolean => c.startsWith('tls') || c.startsWith('yamuxTls');
const usesYamux = (c: Case): boolean => c.startsWith('yamux');
const assembles = (c: Case): boolean => c.endsWith('Assembled');

interface Credentials {
  readonly key: Buffer;
  readonly cert: Buffer;
}

export const networkTlsCeiling: BenchSuite = {
  name: 'network-tls-ceiling',
  async run({ quick }) {
    const repeats = quick ? 1 : 5;
    const payload = new Uint8Array(BYTES);
    for (let i = 0; i < BYTES; i += 4096) payload[i] = i & 0xff;
    const dir = mkdtempSync(join(tmpdir(), 'tls-ceiling-'));
    try {
      const creds = makeCredentials(dir);
      const rows: BenchRow[] = [];
      for (const layout of ['one process', 'two processes'] as const) {
        const ms = layout === 'one process' ? await inOneProcess(payload, creds, repeats) : await inTwoProcesses(payload, dir, repeats);
        const rate = (c: Case): number => BYTES / MB / (median(ms[c]) / 1000);
        const baseline = `${LABEL.raw}, 50 MB, ${layout}`;
        for (const c of CASES) {
          rows.push({
            suite: 'network-tls-ceiling',
            name: c === 'raw' ? baseline : `${LABEL[c]}, 50 MB, ${layout}`,
            value: rate(c),
            unit: 'MB/s',
            ...(c === 'raw' ? {} : { baseline, ratio: rate(c) / rate('raw') }),
            note: `${median(ms[c]).toFixed(0)} ms, median of ${repeats}; ${(rate(c) / rate('rawAssembled')).toFixed(2)}× raw into one buffer`,
          });
        }
      }
      return rows;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** A throwaway P-256 key and self-signed certificate (files in `dir`). */
function makeCredentials(dir: string): Credentials {
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=bench'], { stdio: 'ignore' });
  } catch (cause) {
    throw new Error('bench network-tls-ceiling: the `openssl` command is needed to make a throwaway certificate', { cause });
  }
  return { key: readFileSync(keyFile), cert: readFileSync(certFile) };
}

/**
 * A libp2p MultiaddrConnection over a Node socket, the way @libp2p/tcp wraps its sockets, except
 * that a batch of writes is corked: on a TLSSocket every uncorked write (yamux writes a 12-byte
 * header, then the data) waits for the previous one to complete, which measured ~35% slower.
 */
class SocketConnection extends AbstractMultiaddrConnection {
  constructor(
    private readonly socket: Socket,
    direction: 'inbound' | 'outbound',
  ) {
    super({ remoteAddr: multiaddr(`/ip4/127.0.0.1/tcp/${socket.remotePort ?? 0}`), direction, log: defaultLogger().forComponent('bench:tls-ceiling') });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.safeDispatchEvent('drain'));
    socket.on('close', () => this.onTransportClosed());
    socket.on('error', (err) => this.abort(err));
  }

  sendData(data: Uint8ArrayList): SendResult {
    let sentBytes = 0;
    let canSendMore = true;
    this.socket.cork();
    for (const buf of data) {
      sentBytes += buf.byteLength;
      canSendMore = this.socket.write(buf);
      if (!canSendMore) break;
    }
    this.socket.uncork();
    return { sentBytes, canSendMore };
  }

  async sendClose(_options?: AbortOptions): Promise<void> {
    this.socket.end();
  }

  sendReset(): void {
    this.socket.destroy();
  }

  sendPause(): void {
    this.socket.pause();
  }

  sendResume(): void {
    this.socket.resume();
  }
}

/** Serves one case on an ephemeral loopback port; resolves with the server and its port. */
async function startReceiver(c: Case, creds: Credentials): Promise<{ server: Server; port: number }> {
  const onSocket = (sock: Socket): void => {
    sock.setNoDelay(true);
    sock.on('error', () => undefined);
    if (!usesYamux(c)) {
      sock.on('data', byteSink(BYTES, assembles(c), () => sock.write(Buffer.of(1))));
      return;
    }
    const muxer = yamux()().createStreamMuxer(new SocketConnection(sock, 'inbound'));
    muxer.addEventListener('stream', (evt) => {
      const stream: Stream = evt.detail;
      const sink = byteSink(BYTES, assembles(c), () => stream.send(Uint8Array.of(1)));
      stream.addEventListener('message', (m) => {
        if (m.data instanceof Uint8Array) sink(m.data);
        else for (const part of m.data) sink(part);
      });
    });
  };
  const server = usesTls(c) ? tls.createServer({ ...creds, minVersion: 'TLSv1.3' }, onSocket) : createServer(onSocket);
  return { server, port: await listenOnLoopback(server) };
}

/** The sending end of one case, over one kept-open connection. */
async function startSender(c: Case, port: number, payload: Uint8Array): Promise<BulkSender> {
  if (!usesTls(c) && !usesYamux(c)) return rawSender(String(port), payload);
  const sock = usesTls(c) ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, minVersion: 'TLSv1.3' }) : connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    sock.once(usesTls(c) ? 'secureConnect' : 'connect', () => resolve());
    sock.once('error', reject);
  });
  sock.setNoDelay(true);
  if (!usesYamux(c)) return socketSender(sock, payload);
  const muxer: StreamMuxer = yamux()().createStreamMuxer(new SocketConnection(sock, 'outbound'));
  return {
    async send() {
      const t0 = performance.now();
      const stream = await muxer.createStream();
      const answered = new Promise((resolve) => stream.addEventListener('message', resolve, { once: true }));
      await writeSliced(payload, (slice) => stream.send(slice), () => stream.onDrain());
      await answered;
      const took = performance.now() - t0;
      stream.abort(new Error('transfer measured'));
      return took;
    },
    stop: async () => {
      sock.destroy();
    },
  };
}

/** Both ends in this process. */
async function inOneProcess(payload: Uint8Array, creds: Credentials, repeats: number): Promise<Record<Case, number[]>> {
  const receivers = await Promise.all(CASES.map((c) => startReceiver(c, creds)));
  const ports = Object.fromEntries(CASES.map((c, i) => [c, receivers[i].port])) as Record<Case, number>;
  try {
    return await takeTurns(CASES, await sendersTo((c) => ports[c], payload), repeats);
  } finally {
    for (const r of receivers) r.server.close();
  }
}

/** The receiving ends in a child process, which reads the key and certificate from `dir`. */
async function inTwoProcesses(payload: Uint8Array, dir: string, repeats: number): Promise<Record<Case, number[]>> {
  return withReceiverProcess([fileURLToPath(import.meta.url), 'receive', dir], async (ports: Record<Case, number>) =>
    takeTurns(CASES, await sendersTo((c) => ports[c], payload), repeats),
  );
}

/** One kept-open sender per case, started one after another. */
async function sendersTo(port: (c: Case) => number, payload: Uint8Array): Promise<Record<Case, BulkSender>> {
  const senders = {} as Record<Case, BulkSender>;
  for (const c of CASES) senders[c] = await startSender(c, port(c), payload);
  return senders;
}

// The receiving process of the two-process layout: `<this file> receive <dir with key.pem and cert.pem>`.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'receive') {
  const dir = process.argv[3];
  const creds = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  const ports: Partial<Record<Case, number>> = {};
  for (const c of CASES) ports[c] = (await startReceiver(c, creds)).port;
  process.stdout.write(JSON.stringify(ports) + '\n');
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}
