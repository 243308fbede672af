// The Buffer calls reachable in the tab: node/frame.ts gathers a direct update's body into a
// Buffer it then views as a plain Uint8Array, node/keys.ts decodes a pre-shared key's hex.
// Injected only into those two modules (src/browser/build.ts).
export const Buffer = {
  allocUnsafeSlow: (n: number): Uint8Array => new Uint8Array(n),
  from(text: string, encoding: 'hex'): Uint8Array {
    if (encoding !== 'hex' || text.length % 2 !== 0) throw new Error(`Buffer.from: the tab decodes whole hex strings only`);
    return Uint8Array.from({ length: text.length / 2 }, (_, i) => parseInt(text.slice(2 * i, 2 * i + 2), 16));
  },
};
