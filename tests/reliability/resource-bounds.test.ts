// A hostile member cannot make a node allocate beyond its configured model size or hold its
// streams and file handles: huge declared frames, many streams, streams that stop halfway.
import { afterEach, describe, expect, it } from 'vitest';
import { FrameReader, framePrefix } from '../../src/node/frame.js';
import { ReceiveBudget } from '../../src/node/receive-budget.js';
import { openFileCount, startLivePair, type LivePair } from './live-pair.js';
import { arrayBufferBytes, openRawStream } from './streams.js';
import { stillWorks } from './fuzz.js';

const MiB = 1024 * 1024;

async function settles(cond: () => boolean, ms: number): Promise<void> {
  for (const t0 = Date.now(); !cond() && Date.now() - t0 < ms; ) await new Promise((r) => setTimeout(r, 100));
}

describe('FrameReader allocates what arrives, not what is declared', () => {
  it('a 1 GiB declaration with 10 bytes sent holds 64 KiB; what it holds grows with the bytes and the frame ends at the exact length', () => {
    const r = new FrameReader(2 ** 31);
    expect(r.push(framePrefix(2 ** 30))).toBeNull();
    expect(r.allocated).toBe(0);
    r.push(new Uint8Array(10));
    expect(r.allocated).toBe(64 * 1024);
    r.push(new Uint8Array(200 * 1024));
    // The 10 staged bytes cut to size, and the 200 KiB chunk kept as it came.
    expect(r.allocated).toBe(200 * 1024 + 10);
    const small = new FrameReader(100);
    small.push(framePrefix(70));
    small.push(new Uint8Array(30));
    expect(small.allocated).toBe(70);
    const frame = small.push(Uint8Array.from({ length: 40 }, (_, i) => i));
    expect(frame!.length).toBe(70);
    expect(frame![69]).toBe(39);
  });

  it('a frame whose doubling overshoots is returned at its exact length', () => {
    const r = new FrameReader(1 << 20);
    r.push(framePrefix(100_000));
    r.push(new Uint8Array(70_000));
    expect(r.allocated).toBe(100_000);
    expect(r.push(new Uint8Array(30_000))!.byteLength).toBe(100_000);
  });
});

describe('ReceiveBudget', () => {
  it('reserves per peer up to the budget and releases exactly', () => {
    const b = new ReceiveBudget(100);
    expect(b.take('a', 60)).toBe(true);
    expect(b.take('a', 41)).toBe(false);
    expect(b.held('a')).toBe(60);
    expect(b.take('b', 100)).toBe(true);
    b.release('a', 60);
    expect(b.held('a')).toBe(0);
    expect(b.take('a', 100)).toBe(true);
    expect(() => new ReceiveBudget(0)).toThrow(RangeError);
  });
});

describe('a live node under resource attacks', () => {
  let pair: LivePair | undefined;
  afterEach(async () => {
    await pair?.stop();
    pair = undefined;
  });

  it('refuses the largest frame a prefix can declare (4 GiB; 10 GB cannot be expressed) at once, without allocating it', async () => {
    pair = await startLivePair({ maxPayloadBytes: 8 * MiB });
    const before = arrayBufferBytes();
    const s = await openRawStream(pair, 0xffff_ffff, 0);
    const ack = await s.ack;
    expect(ack?.status).toBe('rejected');
    expect(ack?.reason).toMatch(/^frame: frame of 4294967295 bytes exceeds the limit of \d+ bytes/);
    expect(arrayBufferBytes() - before).toBeLessThan(4 * MiB);
    expect(await stillWorks(pair, 1, 3)).toBe(true);
  });

  it('32 streams that each declare a full 16 MiB frame and send 512 KiB: memory stays far below 32 × 16 MiB', async () => {
    pair = await startLivePair({ maxPayloadBytes: 16 * MiB });
    const before = arrayBufferBytes();
    const streams = await Promise.all(Array.from({ length: 32 }, () => openRawStream(pair!, 16 * MiB, 512 * 1024)));
    await new Promise((r) => setTimeout(r, 300));
    const grown = arrayBufferBytes() - before;
    // Before the fix every declared frame was allocated up front: 512 MiB here.
    expect(grown).toBeLessThan(96 * MiB);
    for (const s of streams) s.stream.abort(new Error('attacker gives up'));
    // Once the streams are gone, so is what they held (resets are processed asynchronously).
    await settles(() => arrayBufferBytes() - before < 8 * MiB, 5000);
    expect(arrayBufferBytes() - before).toBeLessThan(8 * MiB);
    expect(await stillWorks(pair, 1, 4)).toBe(true);
  });

  it('one peer filling many streams at once is refused once its bytes in flight pass two frames', async () => {
    pair = await startLivePair({ maxPayloadBytes: 4 * MiB });
    const streams = await Promise.all(Array.from({ length: 8 }, () => openRawStream(pair!, 4 * MiB, 2 * MiB)));
    const acks = await Promise.all(streams.map((s) => Promise.race([s.ack, new Promise((r) => setTimeout(() => r('pending'), 2000))])));
    const refused = acks.filter((a) => typeof a === 'object' && a !== null && /in flight, more would pass the limit of \d+ bytes per peer/.test((a as { reason: string }).reason));
    // 8 × 2 MiB = 16 MiB sent against a budget of 2 × (4 MiB + overhead): at least 4 streams must be refused.
    expect(refused.length).toBeGreaterThanOrEqual(4);
    for (const s of streams) s.stream.abort(new Error('attacker gives up'));
    expect(await stillWorks(pair, 1, 6)).toBe(true);
  });

  it('streams that stop halfway and close are answered, not left half open', async () => {
    pair = await startLivePair();
    const s = await openRawStream(pair, 1000, 10);
    await s.stream.close();
    expect(await s.ack).toEqual({ status: 'rejected', reason: 'frame: the sender closed the stream after 14 bytes, before the end of its frame' });
  });

  it('1,000 streams opened at once: the node caps them per connection, file handles and memory stay bounded, and it still works', async () => {
    pair = await startLivePair({ maxPayloadBytes: 16 * MiB });
    const fds = await openFileCount();
    const before = arrayBufferBytes();
    const opened = await Promise.allSettled(Array.from({ length: 1000 }, () => openRawStream(pair!, 16 * MiB, 1024)));
    const ok = opened.filter((o) => o.status === 'fulfilled').map((o) => (o as PromiseFulfilledResult<Awaited<ReturnType<typeof openRawStream>>>).value);
    const fdsDuring = await openFileCount();
    const grown = arrayBufferBytes() - before;
    expect(ok.length).toBeLessThanOrEqual(1000);
    expect(grown).toBeLessThan(96 * MiB);
    if (fds >= 0) expect(fdsDuring - fds).toBeLessThan(8);
    for (const s of ok) s.stream.abort(new Error('attacker gives up'));
    await new Promise((r) => setTimeout(r, 300));
    if (fds >= 0) expect((await openFileCount()) - fds).toBeLessThan(8);
    expect(await stillWorks(pair, 1, 5)).toBe(true);
    console.log(`1000 streams: ${ok.length} opened, ${opened.length - ok.length} refused; +${(grown / MiB).toFixed(1)} MiB, fds ${fds} → ${fdsDuring}`);
  });
});
