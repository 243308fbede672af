// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320; the zlib/PNG checksum).
// Node ≥ 20.15 ships zlib.crc32 (native, fast); older Node falls back to a table-driven loop.
import * as zlib from 'node:zlib';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** The portable implementation (also the reference the tests compare the native one with). */
export function crc32Portable(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 of the bytes (zlib's when Node has it). */
export function crc32(bytes: Uint8Array): number {
  return native ? native(bytes) >>> 0 : crc32Portable(bytes);
}
