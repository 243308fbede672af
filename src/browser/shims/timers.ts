// Node's timers return handles with unref() and ref() (node/ code unrefs its timers so that they
// do not keep a finished process alive); a tab's return plain numbers. Installed first by the
// page: timers return such handles, and clearTimeout/clearInterval take either.
class TimerHandle {
  constructor(readonly id: number) {}
  unref(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

type Callback = (...args: unknown[]) => void;
type Timers = {
  setTimeout(fn: Callback, ms?: number, ...args: unknown[]): unknown;
  setInterval(fn: Callback, ms?: number, ...args: unknown[]): unknown;
  clearTimeout(id: unknown): void;
  clearInterval(id: unknown): void;
};

const g = globalThis as unknown as Timers;
const idOf = (h: unknown): unknown => (h instanceof TimerHandle ? h.id : h);
const { setTimeout: set, setInterval: every, clearTimeout: clear, clearInterval: clearEvery } = {
  setTimeout: g.setTimeout.bind(globalThis),
  setInterval: g.setInterval.bind(globalThis),
  clearTimeout: g.clearTimeout.bind(globalThis),
  clearInterval: g.clearInterval.bind(globalThis),
};
g.setTimeout = (fn, ms, ...args) => new TimerHandle(set(fn, ms, ...args) as number);
g.setInterval = (fn, ms, ...args) => new TimerHandle(every(fn, ms, ...args) as number);
g.clearTimeout = (h) => clear(idOf(h));
g.clearInterval = (h) => clearEvery(idOf(h));

export {};
