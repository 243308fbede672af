import { describe, expect, it } from 'vitest';
import { JOIN_MARGIN, Membership, type Announcement } from '../../src/node/membership.js';

const identity = { runId: 'r', modelFingerprint: 'm', configHash: 'h' };
const ann = (over: Partial<Announcement> = {}): Announcement => ({ ...identity, addrs: [], round: -1, joinRound: 0, ...over });

describe('Membership', () => {
  it('forms a sorted start set of accepted peers and refuses other configs with a reason', () => {
    const m = new Membership('p2', identity);
    expect(m.onAnnounce('p3', ann(), 0)).toEqual({ status: 'accepted' });
    expect(m.onAnnounce('p1', ann(), 0)).toEqual({ status: 'accepted' });
    expect(m.onAnnounce('p3', ann(), 1)).toEqual({ status: 'updated' });
    const refused = m.onAnnounce('p0', ann({ configHash: 'other' }), 0);
    expect(refused).toEqual({ status: 'refused', reason: 'config hash other differs from ours h (start every peer with the same config file)' });
    expect(m.onAnnounce('p9', ann({ modelFingerprint: 'x' }), 0).status).toBe('refused');
    expect(m.members()).toEqual(['p1', 'p2', 'p3']);
    expect(m.isAccepted('p0')).toBe(false);
    expect(m.refusal('p0')).toMatch(/config hash/);
    expect(m.beginRound(0)).toEqual(['p1', 'p2', 'p3']);
  });

  it('applies joins and leaves at round boundaries', () => {
    const m = new Membership('a', identity);
    m.onAnnounce('b', ann(), 0);
    m.beginRound(0);
    m.onAnnounce('b', ann({ round: 0 }), 1);
    // A newcomer that has not heard the round yet asks for round 0: held back, not a member.
    expect(m.onAnnounce('c', ann(), 1)).toEqual({ status: 'held' });
    expect(m.isAccepted('c')).toBe(false);
    // Having heard round 0, it asks for round 0 + JOIN_MARGIN.
    expect(m.onAnnounce('c', ann({ joinRound: JOIN_MARGIN }), 2)).toEqual({ status: 'accepted' });
    expect(m.members()).toEqual(['a', 'b']);
    expect(m.beginRound(1)).toEqual(['a', 'b']);
    expect(m.beginRound(2)).toEqual(['a', 'b', 'c']);
    m.onLeave('b', 3);
    expect(m.beginRound(3)).toEqual(['a', 'b', 'c']);
    expect(m.beginRound(4)).toEqual(['a', 'c']);
  });

  it('tells a newcomer which round to join', () => {
    const m = new Membership('new', identity);
    expect(m.joinRoundForNewcomer()).toBe(0);
    m.onAnnounce('x', ann({ round: 7 }), 0);
    m.onAnnounce('y', ann({ round: 6 }), 0);
    expect(m.joinRoundForNewcomer()).toBe(7 + JOIN_MARGIN);
  });

  it('drops silent members from the next round and re-admits them as newcomers', () => {
    const m = new Membership('a', identity);
    m.onAnnounce('b', ann(), 0);
    m.onAnnounce('c', ann(), 0);
    m.beginRound(0);
    m.onAnnounce('c', ann({ round: 0 }), 900);
    expect(m.expireSilent(1000, 500)).toEqual(['b']);
    expect(m.beginRound(1)).toEqual(['a', 'c']);
    expect(m.onAnnounce('b', ann({ round: -1, joinRound: 0 }), 1100)).toEqual({ status: 'updated' });
    expect(m.beginRound(2)).toEqual(['a', 'c']);
    expect(m.onAnnounce('b', ann({ joinRound: 4 }), 1200)).toEqual({ status: 'accepted' });
    expect(m.beginRound(3)).toEqual(['a', 'c']);
    expect(m.beginRound(4)).toEqual(['a', 'b', 'c']);
  });

  it('names the members a barrier at a round still waits for: behind it, not left before it, not silent', () => {
    const m = new Membership('a', identity);
    for (const id of ['b', 'c', 'd', 'e']) m.onAnnounce(id, ann(), 0);
    m.beginRound(3);
    m.onAnnounce('b', ann({ round: 3 }), 100); // at the round: not waited for
    m.onAnnounce('c', ann({ round: 1 }), 800); // behind
    m.onAnnounce('d', ann({ round: 2 }), 100); // behind, but leaves after round 2
    m.onLeave('d', 2);
    m.onAnnounce('e', ann({ round: 2 }), 0); // behind, and silent for 1000 ms at time 1000
    expect(m.behind(3, 1000, 500)).toEqual(['c']);
    expect(m.behind(3, 400, 500)).toEqual(['c', 'e']);
    expect(m.behind(2, 400, 500)).toEqual(['c']);
  });
});
