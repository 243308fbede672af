// 100,000 mutated or random messages against a live node, half over gossipsub and half over the
// direct update protocol. Run by `npm run test:reliability` (excluded from the default suite).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzLiveNode, stillWorks } from './fuzz.js';
import { openFileCount, startLivePair, type LivePair } from './live-pair.js';
import { arrayBufferBytes, heapBytes } from './streams.js';
import { recordRow, watchCrashes } from './record.js';

const MESSAGES = Number(process.env.GOSSIPFL_FUZZ_MESSAGES ?? 100_000);
const MiB = 1024 * 1024;
/** Gossipsub's default seenTTL (ms). */
const SEEN_TTL_MS = 120_000;

describe('fuzzing a live node (long)', () => {
  let pair: LivePair;
  beforeAll(async () => {
    pair = await startLivePair();
  });
  afterAll(async () => {
    await pair.stop();
  });

  it(`${MESSAGES.toLocaleString('en-US')} messages: none taken, every one refused with a reason, model unchanged, memory and file handles bounded`, async () => {
    const crashes = watchCrashes();
    // Warm up (gossipsub caches, JIT), then measure from a steady state.
    const warm = await fuzzLiveNode(pair, { messages: 2000, seed: 99 });
    const heap0 = heapBytes();
    const buffers0 = arrayBufferBytes();
    const rss0 = process.memoryUsage().rss;
    const fds0 = await openFileCount();
    let peakHeap = heap0;
    const r = await fuzzLiveNode(pair, {
      messages: MESSAGES,
      seed: 2024,
      firstRound: warm.nextRound,
      onProgress: (sent) => {
        if (sent % 10_000 < 32) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      },
    });
    const heapGrowth = heapBytes() - heap0;
    const bufferGrowth = arrayBufferBytes() - buffers0;
    const rssGrowth = process.memoryUsage().rss - rss0;
    const fdGrowth = (await openFileCount()) - fds0;
    // Gossipsub remembers message ids and delivery records for 2 minutes (seenTTL) whatever
    // their verdict: memory right after the burst includes them; after the TTL it must be back.
    await new Promise((res) => setTimeout(res, SEEN_TTL_MS + 10_000));
    const heapAfterTtl = heapBytes() - heap0;
    const works = await stillWorks(pair, r.nextRound, 7);
    crashes.stop();
    const refusedWithReason = [...r.reasons].filter(([k]) => /^(gossip (reject|ignore|forward) [\w-]+|stream (rejected|ignored)): \S/.test(k)).reduce((s, [, c]) => s + c, 0);
    const top = [...r.reasons].sort((a, b) => b[1] - a[1]);
    const unexplained = [...r.reasons].filter(([k]) => !/^(gossip (reject|ignore|forward) [\w-]+|stream (rejected|ignored)): \S/.test(k));
    if (unexplained.length) console.log(`not refused with a reason: ${JSON.stringify(unexplained)}`);
    recordRow({
      check: `fuzz a live node: ${MESSAGES.toLocaleString('en-US')} mutated/random messages (gossipsub ${r.sent.gossip.toLocaleString('en-US')}, stream ${r.sent.stream.toLocaleString('en-US')})`,
      faults: MESSAGES,
      inputs: MESSAGES,
      crashes: crashes.count() + (works ? 0 : 1),
      dataLost: r.exchangesChanged,
      accuracyCostPts: null,
      seconds: r.seconds,
      notes:
        `${r.accepted} taken, ${refusedWithReason.toLocaleString('en-US')} refused with a reason in ${r.reasons.size} reason classes, ${r.unanswered} unanswered; ` +
        `${r.exchanges} exchanges unchanged; heap +${(heapGrowth / MiB).toFixed(1)} MiB right after (sampled peak +${((peakHeap - heap0) / MiB).toFixed(1)}), +${(heapAfterTtl / MiB).toFixed(1)} MiB after gossipsub's 2-min TTL, buffers +${(bufferGrowth / MiB).toFixed(1)} MiB, RSS +${(rssGrowth / MiB).toFixed(0)} MiB, fds ${fdGrowth >= 0 ? '+' : ''}${fdGrowth}`,
    });
    console.log(`warm-up ${warm.seconds.toFixed(1)} s; ${r.seconds.toFixed(0)} s for ${MESSAGES}; top reasons:\n${top.slice(0, 25).map(([k, c]) => `${String(c).padStart(7)}  ${k}`).join('\n')}`);
    expect(crashes.count()).toBe(0);
    expect(r.accepted).toBe(0);
    expect(r.unanswered).toBe(0);
    expect(refusedWithReason).toBe(MESSAGES);
    expect(r.exchangesChanged).toBe(0);
    expect(works).toBe(true);
    expect(heapAfterTtl).toBeLessThan(32 * MiB);
    expect(bufferGrowth).toBeLessThan(32 * MiB);
    if (fds0 >= 0) expect(fdGrowth).toBeLessThan(8);
  });
});
