// The two ends of the bulk-transfer benchmark, usable in one process or split across two (the
// receiving end then runs in bench/network-receiver.ts). Raw node:net TCP and libp2p get the
// same treatment: one connection kept open across transfers, the payload written in 1 MiB
// slices with backpressure, and the clock stopped by the receiver's answer.
import '../src/util/polyfills.js';
import { spawn } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { multiaddr } from '@multiformats/multiaddr';
import { createGossipflNode } from '../src/node/create-node.js';
import { handleUpdateProtocol, sendUpdate } from '../src/node/direct.js';
import type { EncryptionChoice, NodeOptions } from '../src/node/options.js';

/** Senders write the payload in slices of this size, with backpressure. */
const SLICE_BYTES = 1 << 20;

/** A receiving end: where to reach it, and how to stop it. */
export interface BulkReceiver {
  /** A TCP port (raw) or a multiaddr with /p2p (libp2p). */
  readonly address: string;
  stop(): Promise<void>;
}

/** A sending end: `send()` moves the payload once and resolves with the milliseconds it took. */
export interface BulkSender {
  send(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A raw TCP server that answers one byte after every `bytes` bytes received on a connection.
 * With `assemble`, it also copies the bytes into one fresh buffer per transfer, as any receiver
 * that hands the update to an application must (the direct protocol does the same).
 */
export async function startRawReceiver(bytes: number, assemble: boolean): Promise<BulkReceiver> {
  const server = createServer((sock: Socket) => {
    sock.on('data', byteSink(bytes, assemble, () => sock.write(Buffer.of(1))));
    sock.on('error', () => undefined);
  });
  return {
    address: String(await listenOnLoopback(server)),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Starts `server` (plain or TLS) on an ephemeral loopback port; resolves with the port. */
export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('bench: receiver has no TCP port');
  return addr.port;
}

/**
 * A receiver's handling of arriving chunks: counts them (copying them into one fresh buffer per
 * transfer if `assemble`) and calls `answer` after every `bytes` bytes.
 */
export function byteSink(bytes: number, assemble: boolean, answer: () => void): (chunk: Uint8Array) => void {
  let got = 0;
  let into: Uint8Array | null = null;
  return (chunk) => {
    if (assemble) {
      into ??= new Uint8Array(Buffer.allocUnsafeSlow(bytes).buffer, 0, bytes);
      into.set(chunk, got);
    }
    got += chunk.byteLength;
    if (got === bytes) {
      got = 0;
      into = null;
      answer();
    }
  };
}

/** A gossipfl node accepting direct updates up to the payload's size, answering each with an ack (`node`: more node options, e.g. the transport). */
export async function startLibp2pReceiver(encryption: EncryptionChoice, payloadBytes: number, node: NodeOptions = {}): Promise<BulkReceiver> {
  const receiver = await createGossipflNode({ encryption, ...node });
  await handleUpdateProtocol(receiver.libp2p, {
    maxFrameBytes: frameLimit(payloadBytes),
    log: () => undefined,
    onUpdate: () => ({ kind: 'ack', status: 'accepted', reason: '' }),
  });
  return { address: receiver.addresses()[0], stop: () => receiver.stop() };
}

/** Sends `payload` over one kept-open raw TCP connection to `port`. */
export async function rawSender(port: string, payload: Uint8Array): Promise<BulkSender> {
  const sock = connect(Number(port), '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  return socketSender(sock, payload);
}

/** Sends `payload` over a connected socket (plain or TLS) whose receiver answers each transfer with a byte. */
export function socketSender(sock: Socket, payload: Uint8Array): BulkSender {
  return {
    async send() {
      const t0 = performance.now();
      const answered = new Promise((resolve) => sock.once('data', resolve));
      await writeSliced(payload, (slice) => sock.write(slice), () => new Promise((resolve) => sock.once('drain', resolve)));
      await answered;
      return performance.now() - t0;
    },
    stop: async () => {
      sock.destroy();
    },
  };
}

/** Sends `payload` as one direct update (one stream, one frame, one ack) over a kept-open libp2p connection. */
export async function libp2pSender(encryption: EncryptionChoice, address: string, payload: Uint8Array, options: NodeOptions = {}): Promise<BulkSender> {
  const node = await createGossipflNode({ encryption, ...options });
  const conn = await node.libp2p.dial(multiaddr(address));
  const msg = { kind: 'update' as const, runId: 'bench', round: 0, phase: 0, to: [], payload };
  return {
    async send() {
      const t0 = performance.now();
      const ack = await sendUpdate(node.libp2p, conn.remotePeer, msg, { maxFrameBytes: frameLimit(payload.byteLength) });
      if (ack.status !== 'accepted') throw new Error(`bench: update not accepted: ${ack.reason}`);
      return performance.now() - t0;
    },
    stop: () => node.stop(),
  };
}

/** Writes `payload` in SLICE_BYTES slices, waiting for `drained` whenever `write` reports a full buffer. */
export async function writeSliced(payload: Uint8Array, write: (slice: Uint8Array) => boolean, drained: () => Promise<unknown>): Promise<void> {
  for (let at = 0; at < payload.byteLength; at += SLICE_BYTES) {
    if (!write(payload.subarray(at, at + SLICE_BYTES))) await drained();
  }
}

/** One warm-up transfer per case, then `repeats` rounds in which every case moves the payload once (cases take turns); stops the senders. */
export async function takeTurns<C extends string>(cases: readonly C[], senders: Record<C, BulkSender>, repeats: number): Promise<Record<C, number[]>> {
  const ms = Object.fromEntries(cases.map((c) => [c, [] as number[]])) as Record<C, number[]>;
  try {
    for (const c of cases) await senders[c].send();
    for (let i = 0; i < repeats; i++) for (const c of cases) ms[c].push(await senders[c].send());
    return ms;
  } finally {
    await Promise.all(cases.map((c) => senders[c].stop()));
  }
}

/**
 * Runs `args` (a script and its arguments) in a child process under this process's loader,
 * hands the one JSON line it prints once its receivers listen to `use`, and ends the child
 * (closing its stdin) when `use` settles.
 */
export async function withReceiverProcess<T, R>(args: readonly string[], use: (ready: T) => Promise<R>): Promise<R> {
  // execArgv carries the TypeScript loader this process runs under.
  const child = spawn(process.execPath, [...process.execArgv, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`bench: receiver process exited (${code}) before it was ready`)));
      child.once('error', reject);
    });
    return await use(JSON.parse(line) as T);
  } finally {
    child.stdin!.end();
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
  }
}

/** The update's frame: the payload plus a small header. */
function frameLimit(payloadBytes: number): number {
  return payloadBytes + 1024;
}
