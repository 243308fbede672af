// One registry per kind of plug-in (aggregation rule, topology, dataset, model): the built-in
// entries, and the ones a library user registers at run time. Each entry carries its name, its
// config schema, its factory and its capabilities; the config schema and docs/config.md are built
// from the entries, so a name is known in exactly one place.
import type { z } from 'zod';
import { ConfigError } from './errors.js';

/** What every registry entry has: the name a config selects it by, its schema and one line about it. */
export interface RegistryEntry {
  readonly name: string;
  /** The entry's config section as a strict zod object (its discriminator key fixed to `name`). */
  readonly schema: z.ZodObject;
  /** One line for docs/config.md and errors. */
  readonly summary: string;
}

/** The schemas of a tuple of entries, as a tuple (so a discriminated union keeps each variant's type). */
export type SchemasOf<T extends readonly { readonly schema: z.ZodObject }[]> = { -readonly [K in keyof T]: T[K]['schema'] };

/** The schemas of a tuple of entries, each extended by the keys of X (e.g. the data section's `partition`). */
export type ExtendedSchemasOf<T extends readonly { readonly schema: z.ZodObject }[], X extends z.ZodRawShape> = {
  -readonly [K in keyof T]: T[K]['schema'] extends z.ZodObject<infer Shape, infer C> ? z.ZodObject<Omit<Shape, keyof X> & X, C> : never;
};

/** Bumped by every registration, so schemas built from the registries know when to rebuild. */
let generation = 0;

/** How many registrations have happened in this process (a cache key for built schemas). */
export function registryGeneration(): number {
  return generation;
}

/** The entries of one kind of plug-in, built-ins first, in registration order. */
export class Registry<E extends RegistryEntry> {
  private readonly list: E[];
  private readonly builtInCount: number;

  /**
   * @param kind what an entry is, e.g. "aggregation rule"
   * @param key the config key that names an entry, e.g. "aggregation.name"
   */
  constructor(
    readonly kind: string,
    readonly key: string,
    builtIns: readonly E[],
  ) {
    this.list = [];
    for (const e of builtIns) this.add(e);
    this.builtInCount = this.list.length;
  }

  /** Every entry, built-ins first. */
  get entries(): readonly E[] {
    return this.list;
  }

  /** The entries that ship with gossipfl (what docs/config.md shows). */
  get builtIns(): readonly E[] {
    return this.list.slice(0, this.builtInCount);
  }

  /** Every registered name, in order. */
  names(): string[] {
    return this.list.map((e) => e.name);
  }

  has(name: string): boolean {
    return this.list.some((e) => e.name === name);
  }

  /** The entry of a name; an unknown name is a ConfigError listing the registered ones. */
  get(name: string): E {
    const e = this.list.find((x) => x.name === name);
    if (!e) throw new ConfigError(`${this.key}: unknown ${this.kind} '${name}' (registered: ${this.names().join(', ')})`);
    return e;
  }

  /**
   * Adds a user's entry; configs can name it from then on (in this process). A name already
   * taken is refused. Returns a function that removes the entry again.
   */
  register(entry: E): () => void {
    this.add(entry);
    generation++;
    return () => {
      const i = this.list.indexOf(entry);
      if (i >= this.builtInCount) {
        this.list.splice(i, 1);
        generation++;
      }
    };
  }

  private add(entry: E): void {
    if (typeof entry.name !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/i.test(entry.name)) {
      throw new ConfigError(`${this.key}: a ${this.kind} needs a name of letters, digits, '.', '_' or '-', got ${JSON.stringify(entry.name)}`);
    }
    if (this.has(entry.name)) throw new ConfigError(`${this.key}: a ${this.kind} named '${entry.name}' is already registered; pick another name`);
    this.list.push(entry);
  }
}

/**
 * A value rebuilt from the registries only when one of them changed since it was last built
 * (the config schema, a discriminated union of the entries' schemas).
 */
export function cachedByGeneration<T>(build: () => T): () => T {
  let at = -1;
  let value: T;
  return () => {
    if (at !== generation) {
      value = build();
      at = generation;
    }
    return value;
  };
}
