import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createGossipflNode, type GossipflNode } from '../../src/node/create-node.js';
import { parsePsk, writeNewPskFile } from '../../src/node/keys.js';
import { resolveNodeOptions } from '../../src/node/options.js';
import { ConfigError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'gossipfl-node-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let nodes: GossipflNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  nodes = [];
});

async function start(...args: Parameters<typeof createGossipflNode>): Promise<GossipflNode> {
  const n = await createGossipflNode(...args);
  nodes.push(n);
  return n;
}

describe('createGossipflNode', () => {
  it('keeps its peer id across restarts when given a key file', async () => {
    const keyFile = join(dir, 'keys', 'node.key');
    const first = await start({ keyFile });
    const id = first.peerId;
    await first.stop();
    nodes = [];
    const second = await start({ keyFile });
    expect(second.peerId).toBe(id);
    expect(second.addresses()[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${id}$`));
  });

  it('with a pre-shared key, only nodes holding the key can connect', async () => {
    const psk = join(dir, 'swarm.key');
    writeNewPskFile(psk);
    expect(() => writeNewPskFile(psk)).toThrow(ConfigError);
    const a = await start({ pskFile: psk });
    const withKey = await start({ pskFile: psk });
    const withoutKey = await start({});
    const otherPsk = join(dir, 'other.key');
    writeNewPskFile(otherPsk);
    const wrongKey = await start({ pskFile: otherPsk });
    await withKey.libp2p.dial(a.libp2p.getMultiaddrs()[0]);
    expect(withKey.libp2p.getConnections(a.libp2p.peerId)).toHaveLength(1);
    for (const outsider of [withoutKey, wrongKey]) {
      await expect(outsider.libp2p.dial(a.libp2p.getMultiaddrs()[0], { signal: AbortSignal.timeout(1000) })).rejects.toThrow();
      expect(outsider.libp2p.getConnections(a.libp2p.peerId)).toHaveLength(0);
    }
    expect(a.libp2p.getConnections().map((c) => c.remotePeer.toString())).toEqual([withKey.peerId]);
  });

  it('offers the chosen encryption', async () => {
    for (const encryption of ['noise', 'tls'] as const) {
      const a = await start({ encryption });
      const b = await start({ encryption });
      const conn = await b.libp2p.dial(a.libp2p.getMultiaddrs()[0]);
      expect(conn.encryption).toBe(encryption === 'tls' ? '/tls/1.0.0' : '/noise');
    }
  });
});

describe('node options and key files', () => {
  it('refuses bad options with one line naming the field', () => {
    expect(() => resolveNodeOptions({ listen: ['tcp:4001'] })).toThrow(/node\.listen: "tcp:4001" is not a multiaddr/);
    expect(() => resolveNodeOptions({ bootstrap: ['/ip4/10.0.0.1/tcp/4001'] })).toThrow(/lacks the peer id/);
    expect(() => resolveNodeOptions({ encryption: 'rot13' as never })).toThrow(/node\.encryption: "rot13" is not one of noise, tls, both/);
    expect(() => resolveNodeOptions({ maxConnections: 0 })).toThrow(/node\.maxConnections: 0/);
  });

  it('checks yamux windows against what yamux accepts, naming the field', () => {
    const yamux = (y: object) => () => resolveNodeOptions({ yamux: y as never });
    expect(resolveNodeOptions({}).yamux).toEqual({});
    expect(resolveNodeOptions({ yamux: { initialStreamWindowSize: 1 << 20, maxStreamWindowSize: 1 << 20 } }).yamux).toEqual({ initialStreamWindowSize: 1 << 20, maxStreamWindowSize: 1 << 20 });
    expect(yamux({ initialStreamWindowSize: 256 * 1024 - 1 })).toThrow(/node\.yamux\.initialStreamWindowSize: 262143 is not a whole number of bytes from 262144 to 4294967295/);
    expect(yamux({ initialStreamWindowSize: 300_000.5 })).toThrow(/node\.yamux\.initialStreamWindowSize: 300000\.5 is not a whole number/);
    expect(yamux({ initialStreamWindowSize: 1 << 20, maxStreamWindowSize: 1 << 19 })).toThrow(/node\.yamux\.maxStreamWindowSize: 524288 is not a whole number of bytes from 1048576/);
    expect(yamux({ maxStreamWindowSize: 2 ** 32 })).toThrow(/node\.yamux\.maxStreamWindowSize: 4294967296/);
    expect(yamux({ initialStreamWindowSize: 32 << 20 })).toThrow(/raise maxStreamWindowSize too/);
    expect(yamux({ maxMessageSize: 1 << 20 })).toThrow(/node\.yamux\.maxMessageSize: not a yamux option \(known: initialStreamWindowSize, maxStreamWindowSize\)/);
  });

  it('checks the PSK file format', () => {
    const hex = '00'.repeat(31) + 'ff';
    expect([...parsePsk(`/key/swarm/psk/1.0.0/\n/base16/\n${hex}\n`)]).toEqual([...new Uint8Array(31), 255]);
    expect(() => parsePsk('/key/swarm/psk/1.0.0/\n/base16/\nabc')).toThrow(/64 hex digits/);
    const bad = join(dir, 'bad.key');
    writeFileSync(bad, 'hello');
    return expect(start({ pskFile: bad })).rejects.toThrow(/is not a pre-shared key file/);
  });
});
