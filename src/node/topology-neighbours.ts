// The peers a gossip peer exchanges with in a round: its in- and out-neighbours over every
// gossip step of the round's mixing, the same mixing the round driver uses. The dialer keeps
// connections to them (and dials the next round's ahead).
import type { Run } from '../peer/run.js';
import type { PeerId } from '../peer/transport.js';
import type { NeighboursOf } from './dialer.js';

/** The topology neighbours of `self` per round, for a gossip run (an exact-merge round has none: it reaches everyone on demand). */
export function gossipNeighbours(run: Run, self: PeerId): NeighboursOf {
  return (round, members) => {
    if (round >= run.config.rounds) return [];
    const i = members.indexOf(self);
    if (i < 0 || members.length < 2) return [];
    const plan = run.schedule.plan(round);
    if (plan.exactMerge) return [];
    const out = new Set<PeerId>();
    for (let q = 0; q < plan.gossipSteps; q++) {
      const mixing = run.mixing.at(members.length, round * plan.gossipSteps + q, plan.budget);
      for (const j of mixing.row(i).peers) out.add(members[j]);
      for (const j of mixing.outNeighbours(i)) out.add(members[j]);
    }
    out.delete(self);
    return [...out];
  };
}
