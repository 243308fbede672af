// Test helper: which rounds a peer process skipped, and whether the others' own logs back each
// skip. A peer that fell behind (stopped, or starved of CPU on a busy machine) skips to the round
// the members confirm — that is the catch-up working. A skip to a round fewer than two other
// peers had reached (one if only one other), or rounds missing without a skip, is a fault: what a
// forged announcement of a far round caused before announcements from non-members stopped counting.
/** Peers' stamped log lines (a peer-process run or a scale fleet). */
export interface StampedLogs {
  readonly stamped: ReadonlyArray<ReadonlyArray<{ readonly at: number; readonly line: string }>>;
}

/** A skip-ahead peer `peer` logged at `at` (ms): from round `from` to round `to` (1-based). */
export interface Skip {
  readonly peer: number;
  readonly at: number;
  readonly from: number;
  readonly to: number;
}

/** Its skips, a late start included: a peer that joined after round 1 skipped rounds 1 … N−1 (the same catch-up, checked alike). */
export function skipsOf(p: StampedLogs, peer: number): Skip[] {
  return p.stamped[peer].flatMap(({ at, line }) => {
    const m = /the others are at round (\d+); skipping ahead from round (\d+)/.exec(line);
    if (m) return [{ peer, at, from: Number(m[2]), to: Number(m[1]) }];
    const late = /, starting at round (\d+)$/.exec(line);
    return late && Number(late[1]) > 1 ? [{ peer, at, from: 1, to: Number(late[1]) }] : [];
  });
}

/** When peer j's log first shows it in round r or later (ms), or Infinity: it finished round r − 1 or later, or skipped to r or later. */
function reachedAt(p: StampedLogs, j: number, r: number): number {
  const hit = p.stamped[j].find(({ line }) => {
    const done = /^round (\d+)\//.exec(line);
    if (done) return Number(done[1]) >= r - 1;
    const skip = /the others are at round (\d+); skipping ahead/.exec(line);
    return skip !== null && Number(skip[1]) >= r;
  });
  return hit ? hit.at : Number.POSITIVE_INFINITY;
}

/**
 * The skips of `peer` that the witnesses' logs do not back: by the time of the skip, plus
 * `slackMs` (this process reads the peers' output in bursts when the machine is busy), fewer than
 * two of them (or than all, if fewer) were in round `to` or later. A forged round is many rounds
 * (seconds) ahead of every honest peer, far past the slack.
 */
export function unconfirmedSkips(p: StampedLogs, peer: number, witnesses: readonly number[], slackMs = 5000): Skip[] {
  const need = Math.min(2, witnesses.length);
  return skipsOf(p, peer).filter((s) => witnesses.filter((j) => reachedAt(p, j, s.to) <= s.at + slackMs).length < need);
}

/** Rounds in 1 … total that the peer neither reported nor skipped over; empty when every gap is a logged skip. */
export function unexplainedGaps(rounds: readonly number[], skips: readonly Skip[], total: number): number[] {
  const done = new Set(rounds);
  const skipped = (r: number) => skips.some((s) => r >= s.from && r < s.to);
  return Array.from({ length: total }, (_, k) => k + 1).filter((r) => !done.has(r) && !skipped(r));
}
