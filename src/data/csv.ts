// CSV datasets: one sample per line, one column holding the integer class label and the rest
// holding the features (e.g. the 785-column mnist_train.csv: label, then 784 pixels 0..255).
// A header line is optional; a line whose fields are not all numbers is taken as the header
// when it is the first one. Files may be gzip-compressed.
import { ConfigError, InputError } from '../util/errors.js';
import { allocLabels, makeDataset, shapeSize, type Dataset } from './dataset.js';
import { readDataFile } from './read-file.js';

/** How to read a CSV file: label column, header, scaling, sample shape, class count. */
export interface CsvOptions {
  /** Dataset name (default: the file path, or 'csv'). */
  name?: string;
  /** Zero-based column of the label (default 0); negative counts from the end (-1 = last). */
  labelColumn?: number;
  /** Every feature is multiplied by this (default 1; use 1/255 for 0..255 pixels). */
  scale?: number;
  /** true: the first line is a header; false: it is data; 'auto' (default): a header if not numeric. */
  header?: boolean | 'auto';
  /** Shape of one sample (default [number of feature columns]); its size must match. */
  featureShape?: number[];
  /** Number of classes (default: largest label + 1). */
  numClasses?: number;
}

const NUMBER = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

function isNumericLine(fields: string[]): boolean {
  return fields.every((f) => NUMBER.test(f));
}

/** Parses CSV text into a Dataset; `source` names the file in error messages. */
export function parseCsv(text: string, options: CsvOptions = {}, source = 'csv'): Dataset {
  const scale = options.scale ?? 1;
  if (!Number.isFinite(scale)) throw new ConfigError(`csv scale must be a finite number, got ${scale}`);
  const lines = text.split(/\r?\n/);
  // Trailing blank lines are allowed; blank lines inside the data are not.
  let end = lines.length;
  while (end > 0 && lines[end - 1].trim() === '') end--;
  if (end === 0) throw new InputError(`${source}: the file is empty`);

  const first = lines[0].split(',');
  const header = options.header ?? 'auto';
  const start = header === true || (header === 'auto' && !isNumericLine(first)) ? 1 : 0;
  if (start === end) throw new InputError(`${source}: the file has a header but no data rows`);
  const columns = lines[start].split(',').length;
  if (columns < 2) throw new InputError(`${source}:${start + 1}: need a label column and at least one feature column, found ${columns} column`);
  const rawLabelColumn = options.labelColumn ?? 0;
  const labelColumn = rawLabelColumn < 0 ? columns + rawLabelColumn : rawLabelColumn;
  if (!Number.isInteger(rawLabelColumn) || labelColumn < 0 || labelColumn >= columns) {
    throw new ConfigError(`csv labelColumn ${rawLabelColumn} is outside the ${columns} columns of ${source}`);
  }
  const featureSize = columns - 1;
  const featureShape = options.featureShape ?? [featureSize];
  if (shapeSize(featureShape) !== featureSize) {
    throw new ConfigError(`csv featureShape [${featureShape.join(', ')}] holds ${shapeSize(featureShape)} values but ${source} has ${featureSize} feature columns`);
  }

  const n = end - start;
  const x = new Float32Array(n * featureSize);
  const labels = new Int32Array(n);
  let maxLabel = 0;
  for (let row = 0; row < n; row++) {
    const lineNo = start + row + 1;
    const fields = lines[start + row].split(',');
    if (fields.length !== columns) {
      throw new InputError(`${source}:${lineNo}: expected ${columns} columns, got ${fields.length}`);
    }
    let f = row * featureSize;
    for (let c = 0; c < columns; c++) {
      const field = fields[c];
      const value = field.trim() === '' ? NaN : Number(field);
      if (!Number.isFinite(value)) {
        throw new InputError(`${source}:${lineNo}: column ${c + 1} is '${field}', not a number`);
      }
      if (c === labelColumn) {
        if (!Number.isInteger(value) || value < 0) {
          throw new InputError(`${source}:${lineNo}: label '${field}' is not a non-negative integer`);
        }
        labels[row] = value;
        if (value > maxLabel) maxLabel = value;
      } else {
        x[f++] = value * scale;
      }
    }
  }
  const numClasses = options.numClasses ?? maxLabel + 1;
  if (maxLabel >= numClasses) {
    const line = start + labels.indexOf(maxLabel) + 1;
    throw new InputError(`${source}:${line}: label ${maxLabel} is outside [0, ${numClasses}); raise numClasses or fix the file`);
  }
  const y = allocLabels(n, numClasses);
  y.set(labels);
  return makeDataset({ name: options.name ?? source, x, y, featureShape, numClasses });
}

/** Reads a CSV file (plain or .gz) into a Dataset. */
export function loadCsv(path: string, options: CsvOptions = {}): Dataset {
  const text = new TextDecoder('utf-8').decode(readDataFile(path));
  return parseCsv(text, { ...options, name: options.name ?? path }, path);
}
