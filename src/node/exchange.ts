// One synchronous (round, phase) exchange: send this peer's payload, gather the expected
// updates, and stop waiting for members that cannot send any more (suspected, silent, left,
// or already two rounds past), or at the deadline.
import { setMaxListeners } from 'node:events';
import type { ExchangeRequest, ExchangeResult, PeerId } from '../peer/transport.js';
import { compareIds } from './membership.js';
import type { UpdateSender } from './send.js';
import type { TransportCore } from './transport-options.js';

/** How often an exchange re-checks whom it waits for (ms). */
export const TICK_MS = 250;

/** Runs the exchanges of one transport. */
export class Exchanger {
  constructor(
    private readonly core: TransportCore,
    private readonly sender: UpdateSender,
  ) {}

  async run(req: ExchangeRequest): Promise<ExchangeResult> {
    const { core } = this;
    const expected = [...new Set(req.expectFrom)].filter((p) => p !== core.self);
    const delivered = new Set<PeerId>();
    let allIn!: () => void;
    const received = new Promise<void>((resolve) => (allIn = resolve));
    // Done when every expected member that may still send has delivered: a suspected, silent or
    // departed one, or one already two rounds past this one, is not waited for (its update is
    // still taken if it comes while we wait for others). Dropped by the others, wait for nobody.
    // But with a finite deadline, a peer that got nothing and waits for nobody still waits it out:
    // otherwise it would race through rounds alone (a resumed straggler, all neighbours suspected)
    // before it could even hear where the others are.
    const check = (): void => {
      const out = core.membership.rejoinRound !== null && core.membership.rejoinRound > req.round;
      const pending = expected.filter((p) => !delivered.has(p));
      const lone = delivered.size === 0 && Number.isFinite(req.deadlineMs);
      if (out || pending.length === 0 || (!lone && pending.every((p) => !this.mayStillSend(p, req.round)))) allIn();
    };
    core.inbox.openExchange(req.round, req.phase, expected, (env) => {
      delivered.add(env.from);
      check();
    });
    check();
    const ticker = setInterval(check, TICK_MS);
    const deadline = new AbortController();
    setMaxListeners(Infinity, deadline.signal); // one listener per concurrent send
    const timer = Number.isFinite(req.deadlineMs) ? setTimeout(() => deadline.abort(new DeadlineError(req)), Math.max(0, req.deadlineMs)) : undefined;
    const timedOut = new Promise<void>((resolve) => deadline.signal.addEventListener('abort', () => resolve(), { once: true }));
    try {
      const sent = this.sendAll(req, deadline.signal);
      await Promise.race([received, timedOut]);
      await sent;
    } finally {
      clearInterval(ticker);
      clearTimeout(timer);
      if (!deadline.signal.aborted) deadline.abort(new DeadlineError(req));
    }
    const got = core.inbox.closeExchange();
    const from = new Set(got.map((e) => e.from));
    const change = core.liveness.record(req.round, expected, from);
    for (const id of change.suspected) {
      core.log(`member ${id} sent no update in ${core.o.suspectAfterRounds} rounds in a row: not waiting for it until it sends again`);
    }
    for (const id of change.readmitted) core.log(`member ${id} sends again: waiting for it again`);
    return { received: got, missing: expected.filter((p) => !from.has(p)).sort(compareIds) };
  }

  /** Whether an exchange of `round` still waits for `peer`. */
  private mayStillSend(peer: PeerId, round: number): boolean {
    const { core } = this;
    return core.liveness.waitsFor(peer) && core.membership.mayStillSend(peer, round, core.now(), core.o.silentAfterMs);
  }

  /** Sends this peer's payload(s); never rejects (failures are logged; the receivers report us missing). */
  private async sendAll(req: ExchangeRequest, signal: AbortSignal): Promise<void> {
    const { direct } = await this.sender.publishSmall(req);
    await pool(direct, this.core.o.sendConcurrency, (to) => this.sender.sendDirect(req, to, signal).then(() => undefined));
  }
}

class DeadlineError extends Error {
  constructor(req: ExchangeRequest) {
    super(`deadline of ${req.deadlineMs} ms reached in round ${req.round} phase ${req.phase}`);
    this.name = 'DeadlineError';
  }
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
