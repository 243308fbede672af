// Files a node keeps: its private key (a stable peer id across restarts) and the optional
// pre-shared key of a private network.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { ConfigError } from '../util/errors.js';

const PSK_TAG = '/key/swarm/psk/1.0.0/';
const PSK_CODEC = '/base16/';
const PSK_BYTES = 32;

/** The peer id of the key in `path` (created there when the file does not exist). */
export async function peerIdOfKeyFile(path: string): Promise<string> {
  return peerIdFromPrivateKey(await loadOrCreatePrivateKey(path)).toString();
}

/** Loads the node's Ed25519 key from `path`, or creates it there (mode 0600) when the file does not exist. */
export async function loadOrCreatePrivateKey(path: string): Promise<PrivateKey> {
  if (existsSync(path)) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (cause) {
      throw new ConfigError(`node key: cannot read ${path}; check its permissions`, { cause });
    }
    try {
      return privateKeyFromProtobuf(bytes);
    } catch (cause) {
      throw new ConfigError(`node key: ${path} is not a libp2p private key; delete it to create a new one (the peer id changes)`, { cause });
    }
  }
  const key = await generateKeyPair('Ed25519');
  writeFileAtomically(path, privateKeyToProtobuf(key), 0o600);
  return key;
}

/** The text of a new pre-shared key file (32 random bytes in the `/key/swarm/psk/1.0.0/` format). */
export function newPskText(): string {
  return `${PSK_TAG}\n${PSK_CODEC}\n${randomBytes(PSK_BYTES).toString('hex')}\n`;
}

/** Writes a new pre-shared key to `path` (mode 0600); refuses to overwrite an existing file. */
export function writeNewPskFile(path: string): void {
  if (existsSync(path)) throw new ConfigError(`psk: ${path} exists already; remove it first or use another path`);
  writeFileAtomically(path, new TextEncoder().encode(newPskText()), 0o600);
}

/** Reads and checks a pre-shared key file; returns its bytes as @libp2p/pnet expects them. */
export function readPskFile(path: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`psk: cannot read ${path}; create one with \`gossipfl psk new ${path}\` and copy it to every machine`, { cause });
  }
  parsePsk(text, path);
  return new TextEncoder().encode(text.trim());
}

/** Validates the three lines of a PSK file; returns the 32 key bytes. */
export function parsePsk(text: string, where = 'psk'): Uint8Array {
  const lines = text.trim().split(/\r?\n/);
  if (lines.length !== 3 || lines[0] !== PSK_TAG || lines[1] !== PSK_CODEC || !/^[0-9a-fA-F]{64}$/.test(lines[2])) {
    throw new ConfigError(`psk: ${where} is not a pre-shared key file: expected the 3 lines "${PSK_TAG}", "${PSK_CODEC}" and 64 hex digits`);
  }
  return Uint8Array.from(Buffer.from(lines[2], 'hex'));
}

function writeFileAtomically(path: string, bytes: Uint8Array, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes, { mode });
  renameSync(tmp, path);
}
