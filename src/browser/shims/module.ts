// node:module in a browser tab: nothing can be required; optional Node packages resolve to "absent".
export function createRequire(): { resolve(name: string): never } {
  return {
    resolve(name: string): never {
      throw new Error(`${name}: not available in a browser tab`);
    },
  };
}

export default { createRequire };
