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

  it('tells a newcomer which round to join: past the round two members confirm, or the only one', () => {
    const m = new Membership('new', identity);
    expect(m.joinRoundForNewcomer()).toBe(0);
    m.onAnnounce('x', ann({ round: 7 }), 0);
    expect(m.joinRoundForNewcomer()).toBe(7 + JOIN_MARGIN);
    m.onAnnounce('y', ann({ round: 6 }), 0);
    m.onAnnounce('z', ann({ round: 90 }), 0);
    expect(m.joinRoundForNewcomer()).toBe(7 + JOIN_MARGIN);
  });

  it('a newcomer counts the members at the round it would join, late joiners among them, not only the start set', () => {
    // 64 processes on a busy host: most started at round 0, 'c' saw them running before it knew
    // everyone and joined at round 0 + JOIN_MARGIN; 'd', later still, must not wait for 'c' at round 0.
    const m = new Membership('d', identity);
    m.onAnnounce('a', ann({ round: 1 }), 0);
    m.onAnnounce('b', ann({ round: 1 }), 0);
    m.onAnnounce('c', ann({ round: -1, joinRound: JOIN_MARGIN }), 0);
    expect(m.members()).toEqual(['a', 'b', 'd']);
    expect(m.joinRoundForNewcomer()).toBe(1 + JOIN_MARGIN);
    expect(m.startSet()).toEqual(['a', 'b', 'c', 'd']);
    // Before anyone runs, the start set is the peers that start at round 0.
    const fresh = new Membership('d', identity);
    fresh.onAnnounce('a', ann(), 0);
    fresh.onAnnounce('c', ann({ joinRound: 5 }), 0);
    expect(fresh.startSet()).toEqual(['a', 'd']);
  });

  it('over a sparse topology only the neighbours confirm a round to skip to: the far side of a ring may be rounds ahead', () => {
    const m = new Membership('p3', identity);
    for (const id of ['p1', 'p2', 'p4', 'p5', 'p6', 'p7']) m.onAnnounce(id, ann(), 0);
    m.beginRound(0);
    // p3's ring neighbours p2 and p4 are one round ahead at most; p6 and p7, across the ring, are at round 9.
    for (const [id, round] of [['p2', 5], ['p4', 4], ['p1', 6], ['p5', 6], ['p6', 9], ['p7', 9]] as const) m.onAnnounce(id, ann({ round }), 1);
    expect(m.roundAhead(4)).toBe(9); // every member counting: it would skip 4 rounds it could train
    expect(m.roundAhead(4, ['p2', 'p4'])).toBeNull();
    // Both neighbours two or more rounds ahead: they stopped waiting for it, it is behind.
    m.onAnnounce('p4', ann({ round: 7 }), 2);
    m.onAnnounce('p2', ann({ round: 8 }), 2);
    expect(m.roundAhead(4, ['p2', 'p4'])).toBe(7);
    // One neighbour's claim is not enough when it has two.
    expect(m.roundAhead(4, ['p2', 'p1'])).toBe(6);
    expect(m.roundAhead(4, ['p2', 'p1', 'stranger'])).toBe(6);
  });

  it('drops silent members JOIN_MARGIN rounds on and re-admits them only at a future join round', () => {
    const m = new Membership('a', identity);
    m.onAnnounce('b', ann(), 0);
    m.onAnnounce('c', ann(), 0);
    m.beginRound(0);
    m.onAnnounce('c', ann({ round: 0 }), 900);
    expect(m.expireSilent(1000, 500)).toEqual(['b']);
    expect(m.drops()).toEqual([{ peer: 'b', after: JOIN_MARGIN }]);
    expect(m.beginRound(1)).toEqual(['a', 'b', 'c']);
    expect(m.beginRound(2)).toEqual(['a', 'b', 'c']);
    // Back with its old join round: not re-admitted (others may have dropped it already).
    expect(m.onAnnounce('b', ann({ round: 2, joinRound: 0 }), 1100)).toEqual({ status: 'updated' });
    expect(m.beginRound(3)).toEqual(['a', 'c']);
    expect(m.onAnnounce('b', ann({ joinRound: 5 }), 1200)).toEqual({ status: 'accepted' });
    expect(m.drops()).toEqual([]);
    expect(m.beginRound(4)).toEqual(['a', 'c']);
    expect(m.beginRound(5)).toEqual(['a', 'b', 'c']);
  });

  it('adopts a drop another member announces only if it has not heard the dropped peer for half the silence limit', () => {
    const m = new Membership('a', identity, 1000);
    for (const id of ['b', 'c', 'd']) m.onAnnounce(id, ann(), 0);
    m.beginRound(4);
    m.onAnnounce('d', ann({ round: 4 }), 900); // d was heard 100 ms before c's report
    m.onAnnounce('c', ann({ round: 4, gone: [{ peer: 'b', after: 6 }, { peer: 'd', after: 6 }] }), 1000);
    expect(m.drops()).toEqual([{ peer: 'b', after: 6 }]);
    expect(m.setOf(6)).toEqual(['a', 'b', 'c', 'd']);
    expect(m.setOf(7)).toEqual(['a', 'c', 'd']);
    // A drop from a peer that is not a member changes nothing.
    m.onAnnounce('x', ann({ round: 4, joinRound: 2, gone: [{ peer: 'd', after: 4 }] }), 1000);
    expect(m.setOf(7)).toEqual(['a', 'c', 'd']);
  });

  it('adopts at once a drop of a peer whose last round is before the drop was noticed, however fresh its last announcement here', () => {
    // A peer that restarted hears a dead member's last announcement (round 11) late, from the
    // gossip cache; a current member reports it dropped after round 16 (noticed at round 14).
    const m = new Membership('a', identity, 10_000);
    for (const id of ['b', 'c']) m.onAnnounce(id, ann({ round: 20, joinRound: 0 }), 0);
    m.onAnnounce('dead', ann({ round: 11, joinRound: 0 }), 0);
    m.beginRound(20);
    m.onAnnounce('b', ann({ round: 20, gone: [{ peer: 'dead', after: 16 }] }), 100);
    expect(m.drops()).toEqual([{ peer: 'dead', after: 20 }]);
    expect(m.setOf(21)).toEqual(['a', 'b', 'c']);
    // A member that keeps up (round 20) and was heard 100 ms ago is not dropped on another's word.
    m.onAnnounce('c', ann({ round: 20, gone: [{ peer: 'b', after: 20 }] }), 200);
    expect(m.setOf(21)).toEqual(['a', 'b', 'c']);
  });

  it('skips ahead only on a round two current members confirm; a stranger\'s claim changes nothing', () => {
    const m = new Membership('a', identity);
    for (const id of ['b', 'c', 'd']) m.onAnnounce(id, ann(), 0);
    m.beginRound(8);
    // A stranger claiming to run since round 0, unknown to every member: held, no record.
    expect(m.onAnnounce('evil', ann({ round: 19, joinRound: 0 }), 1)).toEqual({ status: 'held' });
    expect(m.isAccepted('evil')).toBe(false);
    expect(m.roundAhead(8)).toBeNull();
    // One member claims round 19: not enough.
    m.onAnnounce('b', ann({ round: 19 }), 2);
    expect(m.roundAhead(8)).toBeNull();
    // A second one (here through a valid update) confirms round 12: skip to 12, the lower of the two.
    m.onUpdate('c', 12);
    expect(m.roundAhead(8)).toBe(12);
    expect(m.roundAhead(11)).toBeNull(); // one round apart: normal drift, no skip
    expect(m.confirmedRound()).toBe(12);
    // A peer a current member lists in its own announcement is a member already running.
    m.onAnnounce('c', ann({ round: 12, peers: ['/ip4/127.0.0.1/tcp/1/p2p/e'] }), 3);
    expect(m.onAnnounce('e', ann({ round: 9, joinRound: 3 }), 4)).toEqual({ status: 'accepted' });
  });

  it('a peer the others dropped re-joins at a round past the confirmed one, and until then exchanges with nobody', () => {
    const m = new Membership('a', identity);
    for (const id of ['b', 'c']) m.onAnnounce(id, ann(), 0);
    m.beginRound(3);
    m.onAnnounce('b', ann({ round: 20, gone: [{ peer: 'a', after: 5 }] }), 1);
    expect(m.rejoinRound).toBeNull(); // one report of two members: not confirmed
    m.onAnnounce('c', ann({ round: 21, gone: [{ peer: 'a', after: 5 }] }), 2);
    expect(m.rejoinRound).toBe(20 + JOIN_MARGIN);
    expect(m.roundAhead(4)).toBe(22);
    expect(m.setOf(10)).toEqual(['a']);
    expect(m.beginRound(22)).toEqual(['a', 'b', 'c']);
    expect(m.rejoinRound).toBeNull();
  });

  it('a peer cut off long enough to drop every other member, and be dropped by them, counts them again at its re-join round', () => {
    const m = new Membership('a', identity, 10_000);
    for (const id of ['b', 'c', 'd']) m.onAnnounce(id, ann(), 0);
    m.beginRound(3);
    // Starved: it heard nobody for over the silence limit and dropped them all.
    expect(m.expireSilent(20_000, 10_000)).toEqual(['b', 'c', 'd']);
    expect(m.setOf(10)).toEqual(['a']);
    // They dropped it too (and say so), and still run.
    for (const [k, id] of ['b', 'c', 'd'].entries()) m.onAnnounce(id, ann({ round: 8, gone: [{ peer: 'a', after: 5 }] }), 20_100 + k);
    const rejoin = m.rejoinRound!;
    expect(rejoin).toBe(8 + JOIN_MARGIN);
    expect(m.setOf(rejoin - 1)).toEqual(['a']);
    // Without re-admission its re-join round would hold it alone (a round of one peer).
    expect(m.beginRound(rejoin)).toEqual(['a', 'b', 'c', 'd']);
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
