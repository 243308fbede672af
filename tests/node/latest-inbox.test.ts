import { describe, expect, it } from 'vitest';
import { LatestInbox } from '../../src/node/latest-inbox.js';
import { LatestSender } from '../../src/node/latest-sender.js';
import type { Envelope } from '../../src/peer/transport.js';

const env = (from: string, round: number, phase = 0, n = 4): Envelope => ({ from, round, phase, bytes: new Uint8Array(n).fill(round) });
const rounds = (inbox: LatestInbox, from: string[]) => inbox.latest(from).map((e) => `${e.from}@${e.round}/${e.phase}`);

describe('LatestInbox (async gossip: the latest update per in-neighbour)', () => {
  it('keeps one update per sender; a newer one replaces it, an older or equal one is refused', () => {
    const inbox = new LatestInbox(2);
    inbox.setSenders(['a', 'b']);
    expect(inbox.offer(env('a', 0))).toBe('kept');
    expect(inbox.offer(env('a', 2))).toBe('replaced');
    expect(inbox.offer(env('a', 1))).toBe('outdated'); // a delayed message never overwrites a fresher one
    expect(inbox.offer(env('a', 2))).toBe('outdated');
    expect(inbox.offer(env('a', 2, 1))).toBe('replaced'); // later phase of the same round
    expect(inbox.offer(env('b', 5))).toBe('kept'); // ahead of this peer: fresher, fine
    expect(rounds(inbox, ['b', 'a', 'c'])).toEqual(['b@5/0', 'a@2/1']);
    expect(inbox.size).toBe(2);
  });

  it('refuses and drops updates older than the staleness bound as the peer advances', () => {
    const inbox = new LatestInbox(2);
    inbox.setSenders(['a', 'b']);
    inbox.advanceTo(5);
    expect(inbox.offer(env('a', 2))).toBe('stale'); // 5 − 2 = 3 > 2
    expect(inbox.offer(env('a', 3))).toBe('kept'); // 5 − 3 = 2: at the bound
    expect(inbox.offer(env('b', 4))).toBe('kept');
    inbox.advanceTo(6);
    expect(rounds(inbox, ['a', 'b'])).toEqual(['b@4/0']);
    inbox.advanceTo(6); // the same round again changes nothing
    expect(rounds(inbox, ['a', 'b'])).toEqual(['b@4/0']);
    inbox.advanceTo(7);
    expect(inbox.size).toBe(0);
    expect(() => inbox.advanceTo(6)).toThrow(/before 7/);
    // maxStaleness 0: only the peer's own round or later.
    const strict = new LatestInbox(0);
    strict.setSenders(['a']);
    strict.advanceTo(3);
    expect(strict.offer(env('a', 2))).toBe('stale');
    expect(strict.offer(env('a', 3))).toBe('kept');
  });

  it('refuses an invalid update without touching what it holds', () => {
    const inbox = new LatestInbox(2);
    inbox.setSenders(['a']);
    inbox.offer(env('a', 1));
    inbox.takeReceivedBytes();
    let checked = 0;
    const refuse = () => {
      checked++;
      return 'bad checksum';
    };
    expect(inbox.offer(env('a', 2), refuse)).toBe('invalid');
    expect(rounds(inbox, ['a'])).toEqual(['a@1/0']);
    expect(inbox.takeReceivedBytes()).toBe(0);
    // The check runs only for updates that would be kept.
    expect(inbox.offer(env('a', 0), refuse)).toBe('outdated');
    expect(checked).toBe(1);
    expect(inbox.offer(env('a', 2), () => null)).toBe('replaced');
    expect(inbox.takeReceivedBytes()).toBe(4);
  });

  it('keeps updates only from its in-neighbours: memory is one update per neighbour', () => {
    const inbox = new LatestInbox(3);
    inbox.setSenders(['a', 'b']);
    expect(inbox.offer(env('z', 0))).toBe('unexpected');
    for (let r = 0; r < 50; r++) {
      inbox.advanceTo(r);
      inbox.offer(env('a', r, 0, 100));
      inbox.offer(env('b', r, 0, 100));
      expect(inbox.size).toBeLessThanOrEqual(2);
      expect(inbox.heldBytes).toBeLessThanOrEqual(200);
    }
    expect(inbox.heldBytes).toBe(200);
    // A new neighbour set drops the held updates of peers no longer in it.
    inbox.setSenders(['b', 'c']);
    expect(rounds(inbox, ['a', 'b', 'c'])).toEqual(['b@49/0']);
    expect(() => new LatestInbox(-1)).toThrow(/maxStaleness/);
  });
});

describe('LatestSender (async sends: latest wins per recipient)', () => {
  it('sends at once, queues one behind a send in flight, replaces the queued one, and drains', async () => {
    const releases: Array<() => void> = [];
    const sent: string[] = [];
    const sender = new LatestSender<number>((to, m) => {
      sent.push(`${to}:${m}`);
      return new Promise<void>((resolve) => releases.push(resolve));
    });
    expect(sender.post('a', 1)).toBe('sending');
    expect(sender.post('b', 1)).toBe('sending');
    expect(sender.post('a', 2)).toBe('queued');
    expect(sender.post('a', 3)).toBe('replaced');
    expect(sent).toEqual(['a:1', 'b:1']);
    expect(sender.busy).toBe(2);
    releases.shift()!(); // a:1 done → a:3 goes next; a:2 never goes
    await new Promise((r) => setTimeout(r, 0));
    expect(sent).toEqual(['a:1', 'b:1', 'a:3']);
    const drained = sender.drain();
    releases.shift()!();
    releases.shift()!();
    await drained;
    expect(sender.busy).toBe(0);
  });

  it('a failed send does not block the queue', async () => {
    const sent: number[] = [];
    const sender = new LatestSender<number>(async (_to, m) => {
      sent.push(m);
      if (m === 1) throw new Error('connection reset');
    });
    sender.post('a', 1);
    sender.post('a', 2);
    await sender.drain();
    expect(sent).toEqual([1, 2]);
  });
});
