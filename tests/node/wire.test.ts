import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, encodeMessageParts, WIRE_VERSION, type NodeMessage } from '../../src/node/wire.js';
import { GossipflError } from '../../src/util/errors.js';

const announce: NodeMessage = {
  kind: 'announce',
  runId: 'run-7',
  modelFingerprint: 'mlp:784-64-10:f32',
  configHash: 'c0ffee',
  addrs: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWabc', '/ip4/10.0.0.2/tcp/4001'],
  round: -1,
  joinRound: 0,
  peers: ['/ip4/127.0.0.1/tcp/4002/p2p/12D3KooWdef'],
  gone: [{ peer: '12D3KooWghi', after: 7 }],
  role: 'member',
};
const update: NodeMessage = { kind: 'update', runId: 'run-7', round: 41, phase: 1, to: ['a', 'bé'], payload: Uint8Array.from([1, 2, 3, 250]) };
const leave: NodeMessage = { kind: 'leave', runId: 'run-7', lastRound: 12 };
const ack: NodeMessage = { kind: 'ack', status: 'rejected', reason: 'shape mismatch' };

describe('wire codec', () => {
  it('round-trips every kind exactly', () => {
    for (const m of [announce, { ...announce, role: 'server' } as NodeMessage, update, leave, ack]) expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it('has the documented layout for an update', () => {
    const b = encodeMessage({ kind: 'update', runId: 'r', round: 258, phase: 3, to: [], payload: Uint8Array.from([9, 8]) });
    // "GF", version, kind=2, runId (u16 len + 'r'), round u32, phase u8, to count u16, payload u32 len + bytes
    expect([...b]).toEqual([0x47, 0x46, WIRE_VERSION, 2, 0, 1, 0x72, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 2, 9, 8]);
  });

  it('passes an update payload through encodeMessageParts without copying', () => {
    const payload = new Uint8Array(16);
    const parts = encodeMessageParts({ kind: 'update', runId: 'r', round: 0, phase: 0, to: [], payload });
    expect(parts[1]).toBe(payload);
  });

  it('refuses malformed bytes with a wire error', () => {
    const good = encodeMessage(update);
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['empty', new Uint8Array(0), /bad magic/],
      ['bad magic', Uint8Array.from([0x47, 0x47, 1, 1]), /bad magic/],
      ['future version', Uint8Array.from([0x47, 0x46, 9, 1]), /version 9 is not supported/],
      ['unknown kind', Uint8Array.from([0x47, 0x46, WIRE_VERSION, 77]), /kind 77 is unknown/],
      ['truncated', good.subarray(0, good.byteLength - 1), /ends inside payload/],
      ['trailing', Uint8Array.from([...good, 0]), /1 trailing bytes/],
      ['bad ack status', Uint8Array.from([0x47, 0x46, WIRE_VERSION, 4, 9, 0, 0]), /ack status 9/],
      ['unknown role', Uint8Array.from([...encodeMessage(announce).subarray(0, -1), 7]), /announce role 7 is unknown/],
    ];
    for (const [, bytes, msg] of cases) {
      let err: unknown;
      try {
        decodeMessage(bytes);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GossipflError);
      expect((err as GossipflError).kind).toBe('wire');
      expect((err as Error).message).toMatch(msg);
    }
  });

  it('refuses oversized string fields and invalid UTF-8', () => {
    const long = encodeMessage({ ...leave, runId: 'x' });
    const tooLong = Uint8Array.from(long);
    tooLong[4] = 0x01; // runId length 257 > 256
    tooLong[5] = 0x01;
    expect(() => decodeMessage(tooLong)).toThrow(/runId is 257 bytes long/);
    const badUtf8 = Uint8Array.from(long);
    badUtf8[6] = 0xff;
    expect(() => decodeMessage(badUtf8)).toThrow(/not valid UTF-8/);
  });

  it('refuses to encode out-of-range rounds and phases', () => {
    expect(() => encodeMessage({ ...update, phase: 256 } as NodeMessage)).toThrow(/phase 256/);
    expect(() => encodeMessage({ ...update, round: -1 } as NodeMessage)).toThrow(/round -1/);
    expect(() => encodeMessage({ ...announce, round: -2 } as NodeMessage)).toThrow(/round -2/);
  });
});
