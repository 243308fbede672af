// node:zlib in a browser tab: no native crc32 (compression/crc32.ts then uses its portable
// loop) and no synchronous gunzip (a .gz file is refused with a clear message).
export function gunzipSync(): never {
  throw new Error('gunzipSync: a gzip-compressed file cannot be read in the tab; pick the uncompressed file');
}

export default { gunzipSync };
