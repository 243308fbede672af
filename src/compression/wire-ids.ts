// Method ids on the wire (header byte 6). Built-in methods have fixed ids, their positions in
// BUILT_IN_METHODS (append only). A registered plug-in compressor takes an id derived from its
// name, so two processes that register the same name agree on the id without a shared table:
// 128 + (FNV-1a of the name mod 128). Ids 12..127 stay free for future built-ins.
import { ConfigError } from '../util/errors.js';
import { deriveSeed } from '../util/rng.js';

/** Built-in method ids are positions in this list (append only). */
export const BUILT_IN_METHODS = [
  'identity',
  'fp16',
  'int8',
  'sign',
  'top-k',
  'rand-k',
  'rand-k-unbiased',
  'random-subspace',
  'arc-top-k',
  'powersgd',
  'powersgd-plus',
  'greedylore',
] as const;

/** The name of a built-in compression method. */
export type BuiltInMethodName = (typeof BUILT_IN_METHODS)[number];

/** First id of the range plug-in compressors hash into; the range runs to 255. */
export const PLUGIN_METHOD_IDS = { first: 128, count: 128 } as const;

/** Plug-in ids taken in this process, and by which name. */
const plugins = new Map<number, string>();

/** The id a plug-in compressor of this name takes (the same in every process). */
export function pluginMethodId(name: string): number {
  return PLUGIN_METHOD_IDS.first + (deriveSeed('gossipfl-compressor', name) % PLUGIN_METHOD_IDS.count);
}

/**
 * Takes the wire id of a plug-in's name; refuses a name whose id another registered plug-in
 * holds (the messages of the two could not be told apart). Returns the function that frees it.
 */
export function claimMethodId(name: string): () => void {
  const id = pluginMethodId(name);
  const holder = plugins.get(id);
  if (holder !== undefined) {
    throw new ConfigError(
      `compression.method: compressor '${name}' would take wire method id ${id}, which '${holder}' already holds (ids of plug-ins are a hash of the name); rename one of the two`,
    );
  }
  plugins.set(id, name);
  return () => {
    if (plugins.get(id) === name) plugins.delete(id);
  };
}

/** The wire id of a method name; a name neither built in nor registered is a RangeError (a bug: configs are checked first). */
export function methodId(name: string): number {
  const builtIn = (BUILT_IN_METHODS as readonly string[]).indexOf(name);
  if (builtIn >= 0) return builtIn;
  const id = pluginMethodId(name);
  if (plugins.get(id) !== name) throw new RangeError(`compression method '${name}' is not registered, so it has no wire id`);
  return id;
}

/** The method name of a wire id, or undefined when no method in this process has it. */
export function methodOfId(id: number): string | undefined {
  return id < BUILT_IN_METHODS.length ? BUILT_IN_METHODS[id] : plugins.get(id);
}
