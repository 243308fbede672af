// The tab's own data: files the user picked, parsed in the tab (never sent anywhere), shaped as
// the run's model expects, and split into the samples it trains on and a held-back part that
// scores its models. Formats: CSV (label column first, as gossipfl's CSV reader takes), JSON
// ({"x": rows or one flat array, "y": labels}) and an IDX pair (images idx3 + labels idx1).
import { parseCsv } from '../data/csv.js';
import { parseIdx } from '../data/idx.js';
import { makeDataset, subset, type Dataset } from '../data/dataset.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

/** What the run's model takes: every peer's data must have this sample shape and class count. */
export interface DataShape {
  readonly featureShape: readonly number[];
  readonly numClasses: number;
}

/** A picked file: its name and bytes (File.arrayBuffer() in the page). */
export interface PickedFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** How to read the picked files. */
export interface LocalDataOptions {
  /** Every feature is multiplied by this (1/255 for 0..255 pixels). Default 1 (IDX images are always scaled to [0, 1]). */
  readonly scale?: number;
  /** Fraction of the samples held back to score the models (default 0.2). */
  readonly holdOut?: number;
  /** Seed of the hold-out split. */
  readonly seed?: number;
}

/** Parses the picked files into train and held-back test sets of the run's shape. */
export function parseLocalData(files: readonly PickedFile[], shape: DataShape, options: LocalDataOptions = {}): { train: Dataset; test: Dataset } {
  if (files.length === 0) throw new InputError('local data: pick a CSV or JSON file, or an IDX images file with its labels file');
  const all = parseFiles(files, shape, options.scale ?? 1);
  const holdOut = options.holdOut ?? 0.2;
  if (!(holdOut > 0 && holdOut < 1)) throw new InputError(`local data: hold-out fraction ${holdOut} must be between 0 and 1`);
  const nTest = Math.max(1, Math.floor(all.n * holdOut));
  if (all.n - nTest < 1) throw new InputError(`local data: ${all.name} has ${all.n} samples; need at least 2 (some to train on, some to score with)`);
  const order = new Rng(options.seed ?? 1).permutation(all.n);
  return { train: subset(all, order.subarray(nTest), `${all.name}/train`), test: subset(all, order.subarray(0, nTest), `${all.name}/held-back`) };
}

function parseFiles(files: readonly PickedFile[], shape: DataShape, scale: number): Dataset {
  const featureShape = [...shape.featureShape];
  if (files.length === 2) return parseIdxPair(files, shape);
  if (files.length !== 1) throw new InputError(`local data: pick one CSV or JSON file, or two IDX files (images and labels); got ${files.length} files`);
  const [file] = files;
  if (file.name.endsWith('.gz')) throw new InputError(`local data: ${file.name} is compressed; pick the uncompressed file`);
  const text = new TextDecoder().decode(file.bytes);
  if (/\.json$/i.test(file.name)) return parseJson(text, file.name, shape, scale);
  return parseCsv(text, { name: file.name, scale, featureShape, numClasses: shape.numClasses }, file.name);
}

function parseJson(text: string, name: string, shape: DataShape, scale: number): Dataset {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new InputError(`local data: ${name} is not JSON (${(cause as Error).message})`, { cause });
  }
  const obj = raw as { x?: unknown; y?: unknown };
  if (!Array.isArray(obj?.x) || !Array.isArray(obj?.y)) throw new InputError(`local data: ${name} needs {"x": [...], "y": [...]} (x: one row per sample or one flat array, y: integer labels)`);
  const flat = (obj.x as unknown[]).flat(Infinity) as unknown[];
  const x = new Float32Array(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`local data: ${name}: x value ${i} is not a finite number`);
    x[i] = v * scale;
  }
  const y = Int32Array.from(obj.y as unknown[], (v, i) => {
    if (!Number.isInteger(v)) throw new InputError(`local data: ${name}: label ${i} is not an integer`);
    return v as number;
  });
  return makeDataset({ name, x, y, featureShape: shape.featureShape, numClasses: shape.numClasses });
}

function parseIdxPair(files: readonly PickedFile[], shape: DataShape): Dataset {
  // The IDX magic's last byte is the rank: 3 for images, 1 for labels.
  const rank = (f: PickedFile) => (f.bytes.length >= 4 ? f.bytes[3] : 0);
  const images = files.find((f) => rank(f) === 3);
  const labels = files.find((f) => rank(f) === 1);
  if (!images || !labels) throw new InputError(`local data: of two files, one must be IDX images (idx3) and the other IDX labels (idx1): got ${files[0].name} and ${files[1].name}`);
  const img = parseIdx(images.bytes, 3, images.name);
  const lab = parseIdx(labels.bytes, 1, labels.name);
  if (lab.dims[0] !== img.dims[0]) throw new InputError(`local data: ${labels.name} holds ${lab.dims[0]} labels but ${images.name} holds ${img.dims[0]} images`);
  const x = new Float32Array(img.data.length);
  for (let i = 0; i < x.length; i++) x[i] = img.data[i] / 255;
  return makeDataset({ name: images.name, x, y: lab.data.slice(), featureShape: shape.featureShape, numClasses: shape.numClasses });
}
