// Benchmark helpers: Node's own high-resolution timer, warm-up, median of repeats.
// Every suite reports ratios against a baseline measured in the same run.

export interface BenchRow {
  suite: string;
  name: string;
  value: number;
  unit: string;
  /** Name of the baseline row in the same suite this one is compared with. */
  baseline?: string;
  /** value / baseline value (or the inverse for times; see `note`). */
  ratio?: number;
  note?: string;
}

export interface BenchSuite {
  name: string;
  run(options: { quick: boolean }): Promise<BenchRow[]>;
}

/** Median wall time in milliseconds of `fn` over `repeats` runs after `warmup` runs. */
export async function timeMs(fn: () => unknown | Promise<unknown>, repeats = 5, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Bytes/s of a plain copy of `floats` float32 values: the floor every kernel is compared with. */
export async function memcpyRate(floats: number, repeats = 7): Promise<{ ms: number; bytesPerSecond: number }> {
  const src = new Float32Array(floats);
  for (let i = 0; i < floats; i++) src[i] = i * 1e-3;
  const dst = new Float32Array(floats);
  const ms = await timeMs(() => dst.set(src), repeats, 2);
  return { ms, bytesPerSecond: (floats * 4) / (ms / 1000) };
}
