import { describe, expect, it } from 'vitest';
import { Inbox } from '../../src/node/inbox.js';
import type { Envelope } from '../../src/peer/transport.js';

const env = (from: string, round: number, phase: number, n = 1): Envelope => ({ from, round, phase, bytes: new Uint8Array(n) });

describe('Inbox', () => {
  it('delivers expected senders, refuses duplicates and unexpected ones, and reports what is left', () => {
    const inbox = new Inbox({ maxRoundsAhead: 2, maxBufferedBytes: 100 });
    const left: number[] = [];
    inbox.openExchange(0, 0, ['b', 'c'], (_e, remaining) => left.push(remaining));
    expect(inbox.offer(env('c', 0, 0))).toBe('delivered');
    expect(inbox.offer(env('c', 0, 0))).toBe('duplicate');
    expect(inbox.offer(env('z', 0, 0))).toBe('unexpected');
    expect(inbox.offer(env('b', 0, 0))).toBe('delivered');
    expect(left).toEqual([1, 0]);
    expect(inbox.closeExchange().map((e) => e.from)).toEqual(['b', 'c']);
  });

  it('buffers early messages and hands them to their exchange; earlier and closed positions are stale', () => {
    const inbox = new Inbox({ maxRoundsAhead: 2, maxBufferedBytes: 100 });
    inbox.openExchange(3, 0, ['b'], () => undefined);
    expect(inbox.offer(env('b', 3, 1, 10))).toBe('buffered');
    expect(inbox.offer(env('b', 4, 0, 10))).toBe('buffered');
    expect(inbox.offer(env('b', 2, 1))).toBe('stale');
    expect(inbox.buffered).toBe(20);
    inbox.closeExchange();
    expect(inbox.offer(env('b', 3, 0))).toBe('stale');
    const got: string[] = [];
    inbox.openExchange(3, 1, ['b'], (e) => got.push(`${e.from}@${e.round}/${e.phase}`));
    expect(got).toEqual(['b@3/1']);
    expect(inbox.buffered).toBe(10);
    inbox.closeExchange();
    // Skipping to round 5 drops what was buffered for round 4.
    inbox.openExchange(5, 0, ['b'], () => undefined);
    expect(inbox.buffered).toBe(0);
    expect(inbox.closeExchange()).toEqual([]);
  });

  it('bounds the buffer by rounds ahead and by bytes', () => {
    const inbox = new Inbox({ maxRoundsAhead: 2, maxBufferedBytes: 15 });
    inbox.openExchange(0, 0, [], () => undefined);
    expect(inbox.offer(env('b', 2, 0, 10))).toBe('buffered');
    expect(inbox.offer(env('b', 3, 0, 1))).toBe('overflow');
    expect(inbox.offer(env('c', 1, 0, 10))).toBe('overflow');
    expect(inbox.offer(env('c', 1, 0, 5))).toBe('buffered');
    expect(inbox.buffered).toBe(15);
  });

  it('buffers the exact merge phase however many rounds ahead, within the byte bound, and hands it to a peer that skips to it', () => {
    const inbox = new Inbox({ maxRoundsAhead: 2, maxBufferedBytes: 15, anyRoundsAheadPhase: 255 });
    inbox.openExchange(3, 0, ['b'], () => undefined);
    inbox.closeExchange();
    expect(inbox.offer(env('b', 19, 0, 1))).toBe('overflow');
    expect(inbox.offer(env('b', 19, 255, 10))).toBe('buffered');
    expect(inbox.offer(env('c', 19, 255, 10))).toBe('overflow');
    const got: string[] = [];
    inbox.openExchange(19, 255, ['b', 'c'], (e) => got.push(`${e.from}@${e.round}/${e.phase}`));
    expect(got).toEqual(['b@19/255']);
    expect(inbox.buffered).toBe(0);
  });

  it('refuses positions that go backwards and a second open exchange', () => {
    const inbox = new Inbox({ maxRoundsAhead: 2, maxBufferedBytes: 15 });
    inbox.openExchange(1, 1, [], () => undefined);
    expect(() => inbox.openExchange(2, 0, [], () => undefined)).toThrow(/still open/);
    inbox.closeExchange();
    expect(() => inbox.openExchange(1, 0, [], () => undefined)).toThrow(/not after 1\/1/);
  });
});
