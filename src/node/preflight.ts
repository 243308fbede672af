// Checks a peer makes before it joins a run, so that a problem it can see locally stops it with
// one clear line (and exit code 2) instead of failing mid-run after the others counted on it:
// the output folder (creatable, writable, room for a checkpoint), and the exposure of its
// listening addresses when no pre-shared key guards them.
import { accessSync, closeSync, constants, existsSync, fsyncSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../util/errors.js';

/**
 * Vectors of the model's size a checkpoint can hold: the model, two optimizer slots, one rule
 * state (SCAFFOLD's c_i or D²'s previous model), and the compressor's memory (at most two such
 * vectors, e.g. EF21-M's h and momentum, plus PowerSGD's warm start, smaller than one).
 */
const CHECKPOINT_VECTORS = 7;

/** Bytes a checkpoint of `paramCount` parameters can take on disk: CHECKPOINT_VECTORS float32 vectors, twice (the new file is written before the old one goes), plus room for the metrics. */
export function checkpointBytesUpperBound(paramCount: number): number {
  return 2 * CHECKPOINT_VECTORS * 4 * paramCount + 1024 * 1024;
}

/** Throws a ConfigError naming `dir` unless it exists (or can be made), takes a write, and has `needBytes` free. */
export function checkOutDir(dir: string, needBytes = 0): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (cause) {
    // A recursive mkdir says ENOENT also when the real cause is a read-only or foreign parent: name that one.
    const parent = existingAncestor(dirname(dir));
    let why = reason(cause);
    try {
      accessSync(parent, constants.W_OK);
    } catch (denied) {
      why = `${parent} is not writable: ${reason(denied)}`;
    }
    throw new ConfigError(`--out ${dir}: cannot create the folder (${why}); pass a folder this user can write to`, { cause });
  }
  const probe = join(dir, `.gossipfl-write-test-${process.pid}`);
  try {
    const fd = openSync(probe, 'w');
    try {
      writeSync(fd, Uint8Array.of(0));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (cause) {
    throw new ConfigError(`--out ${dir} is not writable (${reason(cause)}); pass a folder this user can write to`, { cause });
  } finally {
    rmSync(probe, { force: true });
  }
  if (needBytes <= 0) return;
  let free: number;
  try {
    const s = statfsSync(dir);
    free = s.bavail * s.bsize;
  } catch {
    return; // no statfs here: the write test above is all we can do
  }
  if (free < needBytes) {
    throw new ConfigError(`--out ${dir}: ${mib(free)} free, but checkpoints of this model need up to ${mib(needBytes)}; free some space or pass another folder`);
  }
}

/** A warning when the node listens beyond loopback with no pre-shared key, else null. */
export function exposureWarning(listen: readonly string[], pskFile: string | undefined): string | null {
  if (pskFile) return null;
  const exposed = listen.filter((a) => !isLoopback(a));
  if (!exposed.length) return null;
  return (
    `warning: listening on ${exposed.join(', ')} without a pre-shared key: any host that reaches this port and knows the run's name and config can join the run as a member; ` +
    'pass --psk FILE (create one with `gossipfl psk new FILE` and copy it to every machine), or listen on 127.0.0.1 only'
  );
}

/** True for multiaddrs that only this machine can reach (loopback, in-process memory). */
export function isLoopback(addr: string): boolean {
  const [, proto, host] = addr.split('/');
  if (proto === 'memory') return true;
  if (proto === 'ip4') return host.startsWith('127.');
  if (proto === 'ip6') return host === '::1';
  return false;
}

function existingAncestor(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const why: Record<string, string> = { EROFS: 'read-only file system', EACCES: 'permission denied', EPERM: 'not permitted', ENOSPC: 'no space left', ENOTDIR: 'a part of the path is a file', EEXIST: 'a file of that name exists', ENOENT: 'a part of the path is missing' };
  return e?.code ? `${e.code}: ${why[e.code] ?? e.message}` : String(err);
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
