// The one place for runtime polyfills, and the reason gossipfl runs on Node 20 (package.json
// engines >= 20). libp2p 3 and its helpers (it-queue, mortice, yamux, gossipsub) call
// Promise.withResolvers, which Node 20 lacks (Node 22 has it). p-retry 8 (through libp2p)
// declares engines >= 22, so npm prints an EBADENGINE warning on Node 20, but its code calls
// nothing newer than Node 20 (checked for 8.0.1: Object.hasOwn, performance.now, AbortSignal).
// Import this module before anything that loads libp2p.
type WithResolvers = <T>() => {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
};

const promiseCtor = Promise as unknown as { withResolvers?: WithResolvers };
if (typeof promiseCtor.withResolvers !== 'function') {
  promiseCtor.withResolvers = <T>() => {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

export {};
