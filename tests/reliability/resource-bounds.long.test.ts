// Resource attacks at full size against a live node, repeated: 1,000 streams at once (five
// waves), the largest declarable frame, and full 64 MiB frames on many streams from one peer.
// Run by `npm run test:reliability`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFileCount, startLivePair, type LivePair } from './live-pair.js';
import { arrayBufferBytes, openRawStream } from './streams.js';
import { stillWorks } from './fuzz.js';
import { recordRow, watchCrashes } from './record.js';

const MiB = 1024 * 1024;
const MODEL_BYTES = 64 * MiB;

describe('resource attacks on a live node (long)', () => {
  let pair: LivePair;
  beforeAll(async () => {
    pair = await startLivePair({ maxPayloadBytes: MODEL_BYTES });
  });
  afterAll(async () => {
    await pair.stop();
  });

  it('5 waves of 1,000 streams, 4 GiB declarations, and 16 full 64 MiB frames at once: bounded memory and file handles, node works after', async () => {
    const t0 = performance.now();
    const crashes = watchCrashes();
    const fds0 = await openFileCount();
    const buffers0 = arrayBufferBytes();
    let peakBuffers = 0;
    let peakFds = 0;
    let opened = 0;
    let refusedStreams = 0;
    const sample = async () => {
      peakBuffers = Math.max(peakBuffers, arrayBufferBytes() - buffers0);
      peakFds = Math.max(peakFds, (await openFileCount()) - fds0);
    };
    for (let wave = 0; wave < 5; wave++) {
      const got = await Promise.allSettled(Array.from({ length: 1000 }, () => openRawStream(pair, 0xffff_ffff - wave, wave % 2 ? 0 : 1024)));
      const ok = got.flatMap((g) => (g.status === 'fulfilled' ? [g.value] : []));
      opened += ok.length;
      refusedStreams += got.length - ok.length;
      const acks = await Promise.all(ok.map((s) => s.ack));
      // Streams over the cap of 64 per connection are reset by libp2p, some only after they opened (no ack).
      const answered = acks.filter((a) => a !== null);
      refusedStreams += acks.length - answered.length;
      opened += answered.length - ok.length;
      expect(answered.every((a) => a!.status === 'rejected' && /exceeds the limit/.test(a!.reason))).toBe(true);
      expect(answered.length).toBeGreaterThan(0);
      await sample();
    }
    // One peer, 16 streams, each a full model-sized frame: the per-peer budget (two frames) refuses most.
    // The refusal comes once the receiver reads a frame's prefix, behind 2 × 64 MiB being written on a
    // loaded machine: seconds, so each ack gets 30 s.
    const big = await Promise.all(Array.from({ length: 16 }, () => openRawStream(pair, MODEL_BYTES, MODEL_BYTES)));
    await sample();
    const bigAcks = await Promise.all(big.map((s) => Promise.race([s.ack, new Promise((r) => setTimeout(() => r('pending'), 30_000))])));
    const overBudget = bigAcks.filter((a) => typeof a === 'object' && a !== null && /in flight/.test((a as { reason: string }).reason)).length;
    for (const s of big) s.stream.abort(new Error('done'));
    const works = await stillWorks(pair, 1, 9);
    crashes.stop();
    const attacks = 5000 + 16;
    recordRow({
      check: `resource attacks on a live node (model limit ${MODEL_BYTES / MiB} MiB): 5 × 1,000 streams with 4 GiB frame declarations, 16 full frames at once from one peer`,
      faults: attacks,
      inputs: opened + refusedStreams + big.length,
      crashes: crashes.count() + (works ? 0 : 1),
      dataLost: 0,
      accuracyCostPts: null,
      seconds: (performance.now() - t0) / 1000,
      notes: `${opened} streams answered "exceeds the limit", ${refusedStreams} refused at the stream cap (64 per connection); ${overBudget} of 16 full frames refused by the per-peer budget; peak buffers +${(peakBuffers / MiB).toFixed(0)} MiB (16 full frames declared ${(16 * MODEL_BYTES) / MiB} MiB), peak fds +${peakFds}`,
    });
    expect(crashes.count()).toBe(0);
    expect(works).toBe(true);
    expect(overBudget).toBeGreaterThanOrEqual(12);
    // Two frames in flight plus transport buffers, far below the 1 GiB the 16 declarations add up to.
    expect(peakBuffers).toBeLessThan(4 * MODEL_BYTES);
    if (fds0 >= 0) expect(peakFds).toBeLessThan(8);
  });
});
