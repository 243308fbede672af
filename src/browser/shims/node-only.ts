// Node-only libp2p parts (mDNS discovery over UDP multicast, QUIC over UDP sockets): a tab has
// neither. Node code paths that name them are bundled but never taken in the tab; taking one is
// one clear error.
function unavailable(what: string): never {
  throw new Error(`${what} is not available in a browser tab: a tab dials Node peers over WebSockets`);
}

export const mdns = (): never => unavailable('mDNS discovery');
export const quic = (): never => unavailable('the QUIC transport');
