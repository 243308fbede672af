// Edge-list files: one undirected edge per line as `i j` or `i j w` (0-based peer indices,
// optional weight W_ij = W_ji in (0, 1]); `#` starts a comment; blank lines are ignored.
// Either every edge has a weight or none has. Without weights the mixing weights come from a
// scheme (Metropolis–Hastings by default); with them, W_ii = 1 − Σ_j W_ij.
//
//   # 4 peers on a ring
//   0 1
//   1 2
//   2 3
//   3 0
import { readFileSync } from 'node:fs';
import { InputError } from '../util/errors.js';

/** A graph read from an edge-list file: its peer count, edges and optional weights. */
export interface EdgeList {
  /** Peer count: the one given, or the largest index + 1. */
  readonly n: number;
  readonly edges: ReadonlyArray<readonly [number, number]>;
  /** One weight per edge, or undefined when the list has none. */
  readonly weights: readonly number[] | undefined;
}

/**
 * Parses edge-list text. `peers`, when given, fixes n and makes a larger index an error.
 * `source` names the file in error messages.
 */
export function parseEdgeList(text: string, options: { peers?: number; source?: string } = {}): EdgeList {
  const where = options.source ?? 'edge list';
  const lines = text.split(/\r?\n/);
  const edges: Array<[number, number]> = [];
  const weights: number[] = [];
  let weighted: boolean | undefined;
  const seen = new Map<string, number>();
  let maxIndex = -1;
  for (let ln = 0; ln < lines.length; ln++) {
    const content = lines[ln].replace(/#.*/, '').trim();
    if (content === '') continue;
    const at = `${where} line ${ln + 1}`;
    const fields = content.split(/[\s,]+/);
    if (fields.length !== 2 && fields.length !== 3) {
      throw new InputError(`${at}: expected "i j" or "i j w", got "${content}"`);
    }
    const i = parseIndex(fields[0], at);
    const j = parseIndex(fields[1], at);
    if (i === j) throw new InputError(`${at}: self-loop ${i}–${j}; a peer's own weight is implied, remove the line`);
    if (options.peers !== undefined && (i >= options.peers || j >= options.peers)) {
      throw new InputError(`${at}: peer ${Math.max(i, j)} is out of range for ${options.peers} peers (indices are 0-based, 0..${options.peers - 1})`);
    }
    const hasWeight = fields.length === 3;
    if (weighted !== undefined && weighted !== hasWeight) {
      throw new InputError(`${at}: ${hasWeight ? 'has' : 'lacks'} a weight but earlier edges ${weighted ? 'have' : 'do not'}; give every edge a weight or none`);
    }
    weighted = hasWeight;
    const key = i < j ? `${i} ${j}` : `${j} ${i}`;
    const first = seen.get(key);
    if (first !== undefined) throw new InputError(`${at}: edge ${i}–${j} repeats line ${first}; list each edge once`);
    seen.set(key, ln + 1);
    if (hasWeight) {
      const w = Number(fields[2]);
      if (!(w > 0 && w <= 1)) throw new InputError(`${at}: weight "${fields[2]}" must be a number in (0, 1]`);
      weights.push(w);
    }
    edges.push([i, j]);
    maxIndex = Math.max(maxIndex, i, j);
  }
  if (edges.length === 0) throw new InputError(`${where}: no edges found; expected lines "i j" (0-based peer indices)`);
  const n = options.peers ?? maxIndex + 1;
  return { n, edges, weights: weighted ? weights : undefined };
}

function parseIndex(field: string, at: string): number {
  if (!/^\d+$/.test(field)) throw new InputError(`${at}: "${field}" is not a peer index (a non-negative integer)`);
  const x = Number(field);
  if (!Number.isSafeInteger(x)) throw new InputError(`${at}: peer index ${field} is too large`);
  return x;
}

/** Reads and parses an edge-list file. */
export function readEdgeList(path: string, options: { peers?: number } = {}): EdgeList {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read edge list ${path}${code ? ` (${code})` : ''}; check the path`, { cause: err });
  }
  return parseEdgeList(text, { ...options, source: path });
}
