// The registry of compression methods: one entry per `compression.method`, built-ins first
// (./methods.ts), then the plug-ins a library user registers. A plug-in takes a wire method id
// derived from its name (./wire-ids.ts), so the peers of a run that register the same entry
// agree on it; a name whose id another plug-in holds is refused at registration.
import { Registry } from '../util/registry.js';
import { ConfigError } from '../util/errors.js';
import { FEEDBACK_KEYS, type CompressorEntry } from './entry.js';
import { COMPRESSION_METHODS } from './methods.js';
import { BUILT_IN_METHODS, claimMethodId } from './wire-ids.js';

class CompressorRegistry extends Registry<CompressorEntry> {
  constructor(builtIns: readonly CompressorEntry[]) {
    super('method', 'compression.method', builtIns);
    const ids = builtIns.map((e) => e.name);
    if (ids.join() !== BUILT_IN_METHODS.join()) {
      throw new Error(`the built-in compression methods (${ids.join(', ')}) must match the wire's id list (${BUILT_IN_METHODS.join(', ')}), in order`);
    }
  }

  /** Adds a plug-in compressor and takes its wire id; returns the function that removes both. */
  override register(entry: CompressorEntry): () => void {
    checkPlugin(entry);
    if (this.has(entry.name)) return super.register(entry); // refused with the registry's message
    const release = claimMethodId(entry.name);
    let remove: () => void;
    try {
      remove = super.register(entry);
    } catch (err) {
      release();
      throw err;
    }
    return () => {
      remove();
      release();
    };
  }
}

function checkPlugin(e: CompressorEntry): void {
  const where = `compression.method: compressor '${String(e.name)}'`;
  if (e.kind !== 'pointwise' && e.kind !== 'group') throw new ConfigError(`${where} needs kind 'pointwise' or 'group' (use definePointwise or defineGroup)`);
  const method = e.schema?.shape?.method as { value?: unknown } | undefined;
  if (method?.value !== e.name) throw new ConfigError(`${where}: its schema needs the key method: z.literal('${String(e.name)}')`);
  for (const key of Object.keys(FEEDBACK_KEYS)) {
    if (key in e.schema.shape) throw new ConfigError(`${where}: its schema must not define '${key}' (every method's section has it); rename the parameter`);
  }
}

/** Every compression method a config can name. */
export const compressorRegistry = new CompressorRegistry(COMPRESSION_METHODS as unknown as CompressorEntry[]);

/** The entry of a method; an unknown name is a ConfigError listing the registered ones. */
export function methodEntry(name: string): CompressorEntry {
  return compressorRegistry.get(name);
}

/** True for methods that run as group compressors. */
export function isGroupMethod(method: string): boolean {
  return methodEntry(method).kind === 'group';
}

/** True for pointwise methods that send whole models (gossip without CHOCO, asynchronous rounds). */
export function isWholeModelMethod(method: string): boolean {
  const e = methodEntry(method);
  return e.kind === 'pointwise' && e.wholeModel;
}

/** The registered methods of one kind, or the whole-model ones, in registry order (for refusals that list what fits). */
export function methodsWhere(test: (e: CompressorEntry) => boolean): string[] {
  return compressorRegistry.entries.filter(test).map((e) => e.name);
}
