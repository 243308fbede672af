// Typed errors. Each says what is wrong and what to do, in one line, so the CLI can print it
// as is and exit non-zero.

/** The kind of a GossipflError: what went wrong, so callers and the CLI can react per kind. */
export type ErrorKind =
  | 'config' // a config file or CLI flag is invalid
  | 'input' // a data file, edge list or other user input is invalid
  | 'wire' // a network message failed validation
  | 'aggregation' // inputs to an aggregation rule are inconsistent
  | 'backend' // a compute backend is unavailable
  | 'network' // peers cannot be reached
  | 'state'; // a checkpoint or other state is unusable

/** Exit code for errors caused by the user's input (bad flags, config, files). */
export const EXIT_USAGE = 2;
/** Exit code for runtime failures (network, backend, state). */
export const EXIT_FAILURE = 1;

/** Base class of every error gossipfl throws on purpose: a kind, a message a person can act on, and the exit code the CLI uses. */
export class GossipflError extends Error {
  readonly kind: ErrorKind;
  readonly exitCode: number;

  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'GossipflError';
    this.kind = kind;
    this.exitCode = options?.exitCode ?? (kind === 'config' || kind === 'input' ? EXIT_USAGE : EXIT_FAILURE);
  }
}

/** A config file, config object or CLI flag is invalid (exit code 2). */
export class ConfigError extends GossipflError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('config', message, options);
    this.name = 'ConfigError';
  }
}

/** A data file, edge list or other user input is invalid (exit code 2). */
export class InputError extends GossipflError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('input', message, options);
    this.name = 'InputError';
  }
}

/** Inputs to an aggregation rule are inconsistent (layouts, weights, group size). */
export class AggregationError extends GossipflError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('aggregation', message, options);
    this.name = 'AggregationError';
  }
}

/** A compute backend that was asked for cannot start. */
export class BackendError extends GossipflError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('backend', message, options);
    this.name = 'BackendError';
  }
}
