// node:crypto in a browser tab: SHA-256 hashes (config hash, model fingerprint) through
// @noble/hashes, random bytes and UUIDs through the Web Crypto API.
import { sha256 } from '@noble/hashes/sha2.js';

interface Hash {
  update(data: string | Uint8Array): Hash;
  digest(encoding: 'hex'): string;
}

export function createHash(algorithm: string): Hash {
  if (algorithm !== 'sha256') throw new Error(`createHash: only sha256 exists in the tab, not ${algorithm}`);
  const h = sha256.create();
  const hash: Hash = {
    update(data) {
      h.update(typeof data === 'string' ? new TextEncoder().encode(data) : data);
      return hash;
    },
    digest() {
      return Array.from(h.digest(), (b) => b.toString(16).padStart(2, '0')).join('');
    },
  };
  return hash;
}

export function randomBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

export function randomUUID(): string {
  return globalThis.crypto.randomUUID();
}

export default { createHash, randomBytes, randomUUID };
