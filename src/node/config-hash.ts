// What peers must agree on to train together, as one short hash sent in every announcement.
// Its own module so the browser peer can use it without the Node peer's run loop and report.
import { createHash } from 'node:crypto';
import type { RunConfig } from '../peer/config.js';

/** Hash of what peers must agree on to train together (everything but names and the backend). */
export function configHash(config: RunConfig): string {
  const { name: _name, backend: _backend, eval: _eval, ...shared } = config;
  return createHash('sha256').update(JSON.stringify(shared)).digest('hex').slice(0, 16);
}
