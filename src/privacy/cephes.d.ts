// cephes ships no type declarations: what the accountant uses of it.
declare module 'cephes' {
  const cephes: { readonly compiled: Promise<void>; erfc(x: number): number };
  export default cephes;
}
