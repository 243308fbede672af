// The Transport contract, as one suite every implementation runs (in the manner of js-libp2p's
// interface-compliance tests): whatever carries the bytes, an exchange delivers each expected
// sender's message of its own (round, phase) once, the right payload to each recipient, and
// reports the senders that did not make the deadline as missing.
import { describe, expect, it } from 'vitest';
import type { ExchangeRequest, ExchangeResult, PeerId, Transport } from '../../src/peer/transport.js';

/** n connected transports, and how to make one of them late for its next exchange. */
export interface TransportWorld {
  readonly transports: readonly Transport[];
  /** The peers that take part in the coming exchanges (others stay silent). */
  participate(ids: readonly PeerId[]): void;
  /** Makes `id` call its next exchange `ms` late (simulated or real time). */
  delay(id: PeerId, ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface TransportFactory {
  readonly name: string;
  start(n: number): Promise<TransportWorld>;
  /** A deadline long enough for a loaded machine, short enough for a test (ms). */
  readonly deadlineMs: number;
}

function bytesOf(from: number, round: number, phase: number, to: number, size = 64): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (from * 53 + round * 17 + phase * 7 + to * 3 + i) & 0xff;
  return b;
}

async function withWorld(factory: TransportFactory, n: number, body: (w: TransportWorld, ids: PeerId[]) => Promise<void>): Promise<void> {
  const w = await factory.start(n);
  try {
    await body(w, w.transports.map((t) => t.self));
  } finally {
    await w.close();
  }
}

export function transportCompliance(factory: TransportFactory): void {
  const deadlineMs = factory.deadlineMs;
  describe(`Transport compliance: ${factory.name}`, () => {
    it("delivers every expected sender's message once, with the bytes it sent", async () => {
      await withWorld(factory, 3, async (w, ids) => {
        w.participate(ids);
        const results = await Promise.all(
          w.transports.map((t, i) => {
            const others = ids.filter((id) => id !== t.self);
            return t.exchange({ round: 0, phase: 0, payload: bytesOf(i, 0, 0, 0), sendTo: others, expectFrom: others, deadlineMs });
          }),
        );
        results.forEach((r, i) => {
          expect(r.missing).toEqual([]);
          const senders = ids.filter((_, j) => j !== i);
          expect(r.received.map((e) => e.from).sort()).toEqual([...senders].sort());
          for (const e of r.received) {
            expect({ round: e.round, phase: e.phase }).toEqual({ round: 0, phase: 0 });
            expect(e.bytes).toEqual(bytesOf(ids.indexOf(e.from), 0, 0, 0));
          }
        });
        for (const t of w.transports) expect([...t.members()].sort()).toEqual([...ids].sort());
      });
    });

    it('hands each recipient its own payload', async () => {
      await withWorld(factory, 3, async (w, ids) => {
        w.participate(ids);
        const results = await Promise.all(
          w.transports.map((t, i) => {
            const others = ids.filter((id) => id !== t.self);
            const payload = new Map(others.map((to) => [to, bytesOf(i, 0, 0, ids.indexOf(to))]));
            return t.exchange({ round: 0, phase: 0, payload, sendTo: others, expectFrom: others, deadlineMs });
          }),
        );
        results.forEach((r, i) => {
          expect(r.missing).toEqual([]);
          for (const e of r.received) expect(e.bytes).toEqual(bytesOf(ids.indexOf(e.from), 0, 0, i));
        });
      });
    });

    it('keeps the phases of a round apart', async () => {
      await withWorld(factory, 2, async (w, ids) => {
        w.participate(ids);
        const run = (t: Transport, i: number, phase: number): Promise<ExchangeResult> => {
          const other = ids.filter((id) => id !== t.self);
          return t.exchange({ round: 0, phase, payload: bytesOf(i, 0, phase, 0, 32 + phase), sendTo: other, expectFrom: other, deadlineMs });
        };
        const results = await Promise.all(w.transports.map(async (t, i) => [await run(t, i, 0), await run(t, i, 1), await run(t, i, 2)]));
        results.forEach((phases, i) =>
          phases.forEach((r, phase) => {
            expect(r.missing).toEqual([]);
            expect(r.received).toHaveLength(1);
            expect(r.received[0].phase).toBe(phase);
            expect(r.received[0].bytes).toEqual(bytesOf(1 - i, 0, phase, 0, 32 + phase));
          }),
        );
      });
    });

    it('reports a silent sender missing and still delivers the others', async () => {
      await withWorld(factory, 3, async (w, ids) => {
        const [a, b, silent] = ids;
        w.participate([a, b]);
        const [ra, rb] = await Promise.all(
          w.transports.slice(0, 2).map((t, i) => {
            const other = i === 0 ? b : a;
            return t.exchange({ round: 0, phase: 0, payload: bytesOf(i, 0, 0, 0), sendTo: [other], expectFrom: [other, silent], deadlineMs });
          }),
        );
        expect(ra.missing).toEqual([silent]);
        expect(rb.missing).toEqual([silent]);
        expect(ra.received.map((e) => e.from)).toEqual([b]);
        expect(rb.received.map((e) => e.from)).toEqual([a]);
      });
    });

    it('leaves out a sender that comes after the deadline', async () => {
      await withWorld(factory, 2, async (w, ids) => {
        const [a, late] = ids;
        w.participate(ids);
        const req = (i: number, to: PeerId): ExchangeRequest => ({ round: 0, phase: 0, payload: bytesOf(i, 0, 0, 0), sendTo: [to], expectFrom: [to], deadlineMs });
        const [ra] = await Promise.all([w.transports[0].exchange(req(0, late)), w.delay(late, 3 * deadlineMs).then(() => w.transports[1].exchange(req(1, a)))]);
        expect(ra.missing).toEqual([late]);
        expect(ra.received).toEqual([]);
      });
    });

    it('does not deliver a message to a peer that does not expect its sender', async () => {
      await withWorld(factory, 3, async (w, ids) => {
        const [a, b, c] = ids;
        w.participate(ids);
        const [, rb, rc] = await Promise.all([
          w.transports[0].exchange({ round: 0, phase: 0, payload: bytesOf(0, 0, 0, 0), sendTo: [b, c], expectFrom: [], deadlineMs }),
          w.transports[1].exchange({ round: 0, phase: 0, payload: bytesOf(1, 0, 0, 0), sendTo: [], expectFrom: [a], deadlineMs }),
          w.transports[2].exchange({ round: 0, phase: 0, payload: bytesOf(2, 0, 0, 0), sendTo: [], expectFrom: [b], deadlineMs }),
        ]);
        expect(rb.received.map((e) => e.from)).toEqual([a]);
        // c expected only b (who sent nothing): a's message to c is not b's.
        expect(rc.received).toEqual([]);
        expect(rc.missing).toEqual([b]);
      });
    });
  });
}
