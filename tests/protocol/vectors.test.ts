// The committed protocol vectors (tests/protocol/vectors/*.json) against the code, byte for
// byte, and the committed bytes decoded back by the receivers' decoders. A failure means the
// protocol changed: if on purpose, rewrite them (tests/protocol/write-vectors.ts) and bump the
// version; if not, the change broke interoperability with every peer already deployed. The
// config-hash vector also changes when the config gains a field with a default: peers of the
// two versions would refuse each other, so that too is a protocol change.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeMessage as decodeNode } from '../../src/node/wire.js';
import { FrameReader } from '../../src/node/frame.js';
import { decodeMessage as decodeUpdate } from '../../src/compression/index.js';
import { allVectors, sampleLayout, type VectorFile } from './vectors.js';

const generated = allVectors();
const committed = (file: string): VectorFile => JSON.parse(readFileSync(new URL(`./vectors/${file}`, import.meta.url), 'utf8')) as VectorFile;
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

describe('protocol vectors', () => {
  for (const [file, vectors] of Object.entries(generated)) {
    describe(file, () => {
      const stored = committed(file);
      it('has the same vectors as the code makes', () => expect(Object.keys(stored).sort()).toEqual(Object.keys(vectors).sort()));
      for (const [name, v] of Object.entries(vectors)) {
        it(name, () => {
          expect(stored[name]?.input).toEqual(JSON.parse(JSON.stringify(v.input)));
          expect(stored[name]?.output).toEqual(v.output);
        });
      }
    });
  }

  it('node messages decode back to their inputs', () => {
    const v = committed('node-messages.json');
    for (const name of ['announce', 'announce-newcomer', 'leave']) expect(decodeNode(bytes(v[name].output.bytes as string))).toEqual(v[name].input);
    const upd = decodeNode(bytes(v['update-gossip'].output.bytes as string));
    expect(upd.kind === 'update' && Buffer.from(upd.payload).toString('hex')).toBe('deadbeef');
    for (const name of ['frame-direct-update', 'ack-accepted', 'ack-rejected', 'ack-ignored']) {
      const frame = new FrameReader(1 << 20).push(bytes(v[name].output.bytes as string));
      expect(frame).not.toBeNull();
      const msg = decodeNode(frame!);
      expect(msg.kind).toBe(name.startsWith('ack') ? 'ack' : 'update');
    }
  });

  it('compressed updates and phase messages pass the receiver\'s decoder', () => {
    const v = committed('compression.json');
    const layout = sampleLayout();
    let checked = 0;
    for (const vec of Object.values(v)) {
      for (const [key, out] of Object.entries(vec.output)) {
        const list = Array.isArray(out) ? out : [out];
        list.forEach((h, i) => {
          const round = /round (\d+)/.exec(key)?.[1];
          const msg = decodeUpdate(bytes(h as string), { layout });
          expect(msg.sender).toBe(key.startsWith('round') ? i : 1);
          if (round !== undefined) expect(msg.round).toBe(Number(round));
          checked++;
        });
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});
