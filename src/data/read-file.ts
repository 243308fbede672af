// Reads a data file whole, un-gzipping it when it starts with the gzip magic bytes, and turns
// every failure into an InputError that names the file.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../util/errors.js';

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export function readDataFile(path: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new InputError(`cannot read data file ${path}: ${why}`, { cause: err });
  }
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new InputError(`${path}: corrupt or truncated gzip data (${(err as Error).message}); download the file again`, {
      cause: err,
    });
  }
}
