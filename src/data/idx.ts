// The IDX format of the original MNIST and Fashion-MNIST files: a big-endian header (two zero
// bytes, a type code, the number of dimensions, then one uint32 size per dimension) followed
// by the values. We read unsigned-byte files (type 0x08), as both datasets use: images are
// 0x00000803 (count × rows × cols), labels 0x00000801 (count). Files may be gzip-compressed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../util/errors.js';
import { makeDataset, type Dataset } from './dataset.js';
import { readDataFile } from './read-file.js';

const UBYTE = 0x08;

/** A parsed IDX file: its dimensions and raw unsigned bytes. */
export interface IdxArray {
  readonly dims: number[];
  readonly data: Uint8Array;
}

/** Parses one unsigned-byte IDX file with the expected number of dimensions. */
export function parseIdx(bytes: Uint8Array, expectedRank: number, source: string): IdxArray {
  if (bytes.length < 4) throw new InputError(`${source}: ${bytes.length} bytes is too short for an IDX header; the file is truncated`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const expectedMagic = (UBYTE << 8) | expectedRank;
  if (magic !== expectedMagic) {
    const hex = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;
    throw new InputError(
      `${source}: IDX magic number is ${hex(magic)}, expected ${hex(expectedMagic)} (unsigned bytes, ${expectedRank} dimension${expectedRank > 1 ? 's' : ''}); is this the right file?`,
    );
  }
  const headerLength = 4 + 4 * expectedRank;
  if (bytes.length < headerLength) throw new InputError(`${source}: IDX header needs ${headerLength} bytes, the file has ${bytes.length}; it is truncated`);
  const dims: number[] = [];
  for (let k = 0; k < expectedRank; k++) dims.push(view.getUint32(4 + 4 * k, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expectedLength = headerLength + count;
  if (bytes.length !== expectedLength) {
    throw new InputError(
      `${source}: dimensions ${dims.join(' × ')} need ${expectedLength} bytes, the file has ${bytes.length}; it is ${bytes.length < expectedLength ? 'truncated' : 'corrupt (trailing bytes)'}`,
    );
  }
  return { dims, data: bytes.subarray(headerLength) };
}

/** An images + labels pair of IDX files to load as one Dataset. */
export interface IdxFiles {
  /** Path of the images file (idx3-ubyte, optionally .gz). */
  images: string;
  /** Path of the labels file (idx1-ubyte, optionally .gz). */
  labels: string;
  /** Dataset name (default: the images path). */
  name?: string;
  /** Number of classes (default 10, as in MNIST and Fashion-MNIST). */
  numClasses?: number;
}

/** Loads an images + labels pair of IDX files into a Dataset; pixels are scaled to [0, 1]. */
export function loadIdx(files: IdxFiles): Dataset {
  const numClasses = files.numClasses ?? 10;
  const images = parseIdx(readDataFile(files.images), 3, files.images);
  const labels = parseIdx(readDataFile(files.labels), 1, files.labels);
  const [n, rows, cols] = images.dims;
  if (labels.dims[0] !== n) {
    throw new InputError(`${files.labels}: holds ${labels.dims[0]} labels but ${files.images} holds ${n} images; the files do not belong together`);
  }
  if (n === 0 || rows === 0 || cols === 0) throw new InputError(`${files.images}: no image data (dimensions ${images.dims.join(' × ')})`);
  const y = labels.data.slice();
  for (let i = 0; i < n; i++) {
    if (y[i] >= numClasses) {
      throw new InputError(`${files.labels}: label ${y[i]} of sample ${i} is outside [0, ${numClasses}); is this the right file?`);
    }
  }
  const x = new Float32Array(images.data.length);
  for (let i = 0; i < x.length; i++) x[i] = images.data[i] / 255;
  return makeDataset({ name: files.name ?? files.images, x, y, featureShape: [rows, cols, 1], numClasses });
}

/** The file names MNIST and Fashion-MNIST are distributed under. */
export const IDX_FILE_NAMES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;

function findIdxFile(folder: string, base: string): string {
  for (const candidate of [base, `${base}.gz`]) {
    const path = join(folder, candidate);
    if (existsSync(path)) return path;
  }
  throw new InputError(`${folder}: missing ${base} (or ${base}.gz); the folder needs the 4 standard MNIST / Fashion-MNIST files`);
}

/** Loads the train and test sets from a folder with the 4 standard files (plain or .gz). */
export function loadIdxFolder(folder: string, options: { name?: string; numClasses?: number } = {}): { train: Dataset; test: Dataset } {
  if (!existsSync(folder)) throw new InputError(`data folder ${folder} does not exist`);
  const name = options.name ?? folder;
  const load = (split: 'train' | 'test') =>
    loadIdx({
      images: findIdxFile(folder, IDX_FILE_NAMES[split].images),
      labels: findIdxFile(folder, IDX_FILE_NAMES[split].labels),
      name: `${name}/${split}`,
      numClasses: options.numClasses,
    });
  return { train: load('train'), test: load('test') };
}
