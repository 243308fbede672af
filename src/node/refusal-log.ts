// Rate-limited logging of refused input. The first refusal of each kind in an interval is
// logged in full; the rest are counted and summed up in one line when the interval ends, so a
// peer flooding us with junk costs one line per kind per interval, not one per message.

/** Logs refusals: one full line per kind per interval, then counts. */
export class RefusalLog {
  private readonly counts = new Map<string, number>();
  private readonly seen = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly log: (line: string) => void,
    readonly intervalMs = 10_000,
  ) {}

  /** Records one refusal of kind `kind`; `line` is logged if it is the first of its kind in this interval. */
  refuse(kind: string, line: string): void {
    if (this.closed) return;
    this.startTimer();
    if (!this.seen.has(kind)) {
      this.seen.add(kind);
      this.log(line);
      return;
    }
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  /** Logs the counts held back since the interval began, and starts a new interval. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.seen.clear();
    if (this.counts.size === 0) return;
    const total = [...this.counts.values()].reduce((a, b) => a + b, 0);
    const parts = [...this.counts].sort((a, b) => b[1] - a[1]).map(([kind, n]) => `${n} × ${kind}`);
    this.counts.clear();
    this.log(`refused ${total} more message(s) in the last ${Math.round(this.intervalMs / 1000)} s (not logged one by one): ${parts.join(', ')}`);
  }

  /** Logs what is held back and stops. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.intervalMs);
    this.timer.unref();
  }
}
