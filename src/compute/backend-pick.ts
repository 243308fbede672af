// The one way a backend is picked, in Node and in a browser tab: a named backend starts or is an
// error saying why; `auto` takes the first of an ordered list that starts and logs what it skipped.
// Pure of any platform import, so both ./backend.ts and ./browser-backend.ts use it.
import { BackendError } from '../util/errors.js';

/** One try at starting a backend. */
export type Attempt = { ok: true; device?: string } | { ok: false; why: string };

/** The backend that started and why. */
export interface Picked<N extends string> {
  readonly name: N;
  readonly reason: string;
  readonly device?: string;
}

/**
 * Starts `choice`, or for `auto` the first of `order` that starts. `where` ends the error lines
 * ('' in Node, ' in this tab' in a browser).
 */
export async function pickBackend<N extends string>(
  choice: N | 'auto',
  order: readonly N[],
  tryOne: (name: N, auto: boolean) => Promise<Attempt>,
  where: string,
  log: (line: string) => void,
): Promise<Picked<N>> {
  if (choice !== 'auto') {
    const attempt = await tryOne(choice, false);
    if (!attempt.ok) throw new BackendError(`backend '${choice}' is not available${where}: ${attempt.why}`);
    return { name: choice, reason: 'requested', ...(attempt.device ? { device: attempt.device } : {}) };
  }
  const skipped: string[] = [];
  for (const name of order) {
    const attempt = await tryOne(name, true);
    if (attempt.ok) {
      const reason = skipped.length ? `fastest that started (skipped: ${skipped.join('; ')})` : 'fastest available';
      log(`backend: ${name}${attempt.device ? ` (${attempt.device})` : ''} — ${reason}`);
      return { name, reason, ...(attempt.device ? { device: attempt.device } : {}) };
    }
    skipped.push(`${name}: ${attempt.why}`);
  }
  throw new BackendError(`no tfjs backend could start${where} (${skipped.join('; ')})`);
}
