import { describe, expect, it } from 'vitest';
import { Liveness } from '../../src/node/liveness.js';
import { RefusalLog } from '../../src/node/refusal-log.js';

describe('Liveness', () => {
  it('suspects a member after K rounds without an update, counts a round once, re-admits it when it delivers', () => {
    const l = new Liveness(2);
    const none = new Set<string>();
    expect(l.record(0, ['g', 'h'], new Set(['h']))).toEqual({ suspected: [], readmitted: [] });
    // A second exchange of the same round is not a second miss.
    expect(l.record(0, ['g'], none)).toEqual({ suspected: [], readmitted: [] });
    expect(l.waitsFor('g')).toBe(true);
    expect(l.record(1, ['g', 'h'], new Set(['h']))).toEqual({ suspected: ['g'], readmitted: [] });
    expect(l.waitsFor('g')).toBe(false);
    expect(l.waitsFor('h')).toBe(true);
    expect(l.record(2, ['g'], none)).toEqual({ suspected: [], readmitted: [] });
    expect(l.record(3, ['g'], new Set(['g']))).toEqual({ suspected: [], readmitted: ['g'] });
    expect(l.waitsFor('g')).toBe(true);
    // Suspected again, then heard from outside an exchange (an update that came too late): waited for again.
    l.record(4, ['g'], none);
    l.record(5, ['g'], none);
    expect(l.waitsFor('g')).toBe(false);
    expect(l.heard('g')).toBe(true);
    expect(l.heard('g')).toBe(false);
    expect(l.waitsFor('g')).toBe(true);
  });

  it('bounds waiting in total: after maxSuspicions episodes a member is never waited for again', () => {
    const l = new Liveness(1, 2);
    let round = 0;
    for (let episode = 0; episode < 2; episode++) {
      expect(l.record(round++, ['g'], new Set())).toEqual({ suspected: ['g'], readmitted: [] });
      expect(l.record(round++, ['g'], new Set(['g']))).toEqual({ suspected: [], readmitted: ['g'] });
    }
    expect(l.isSuspected('g')).toBe(false);
    expect(l.waitsFor('g')).toBe(false);
  });
});

describe('RefusalLog', () => {
  it('logs the first refusal of each kind in full and the rest as counts per kind at the end of the interval', () => {
    const lines: string[] = [];
    const r = new RefusalLog((l) => lines.push(l), 60_000);
    for (let i = 0; i < 3000; i++) r.refuse(i % 3 === 0 ? 'stale' : 'not a member', `message ${i} refused`);
    expect(lines).toEqual(['message 0 refused', 'message 1 refused']);
    r.flush();
    expect(lines).toEqual(['message 0 refused', 'message 1 refused', 'refused 2998 more message(s) in the last 60 s (not logged one by one): 1999 × not a member, 999 × stale']);
    // A new interval: the first of a kind is logged again.
    r.refuse('stale', 'again');
    r.close();
    expect(lines.at(-1)).toBe('again');
    r.refuse('stale', 'after close');
    expect(lines.at(-1)).toBe('again');
  });
});
