// The config's compression section, built from the compressor registry. The built-in methods
// share one flat set of keys (a sweep can switch `method` and keep `ratio`); each registered
// plug-in adds a variant of its own keys, picked by `method`.
import { z } from 'zod';
import { cachedByGeneration } from '../util/registry.js';
import { FEEDBACK_KEYS, SHARED_KEYS, type CompressorEntry } from './entry.js';
import { BUILT_IN_METHODS, type BuiltInMethodName } from './wire-ids.js';
import { compressorRegistry } from './registry.js';
import type { CompressionSpec } from './build.js';

/** The section with the built-in methods (docs/config.md and `gossipfl schema` show this one). */
export const compressionSchema = z.strictObject({
  method: z
    .enum(BUILT_IN_METHODS as unknown as [BuiltInMethodName, ...BuiltInMethodName[]])
    .default('identity')
    .describe('how updates are compressed on the wire (see docs/compression.md)'),
  ...SHARED_KEYS,
  ...FEEDBACK_KEYS,
}) satisfies z.ZodType<CompressionSpec>;

function section(entries: readonly CompressorEntry[]) {
  const builtIn = new Set<string>(BUILT_IN_METHODS);
  const plugins = entries.filter((e) => !builtIn.has(e.name)).map((e) => e.schema.extend(FEEDBACK_KEYS));
  if (!plugins.length) return compressionSchema;
  return z.discriminatedUnion('method', [compressionSchema, ...plugins]) as unknown as typeof compressionSchema;
}

/** The section parseConfig validates with: every registered method, plug-ins included; rebuilt after a registration. */
export const currentCompressionSchema = cachedByGeneration(() => section(compressorRegistry.entries));
