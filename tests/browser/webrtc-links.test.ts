// How a tab names its connections (what the page reports, and what the WebRTC upkeep acts on),
// and the order in which it dials another tab's addresses: the relay first, WebRTC beside it.
import { describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import { linkKind, relayFirst } from '../../src/node/browser/webrtc-links.js';

const RELAY = '12D3KooWJpBVxRkd5cRUwgRxBenYkDyKoVfgivfDkYjDn1amx8wg';
const TAB = '12D3KooWFto3AtetsHn69SLcf7yccJeXXwhqsYrtjoCDCvTe5uMx';
const WS = `/ip4/127.0.0.1/tcp/43111/ws/p2p/${RELAY}`;
const RELAYED = `${WS}/p2p-circuit/p2p/${TAB}`;
const WEBRTC = `${WS}/p2p-circuit/webrtc/p2p/${TAB}`;

describe('linkKind', () => {
  it('names the transport of a remote address', () => {
    expect(linkKind(WEBRTC)).toBe('webrtc'); // the dialling side keeps the relay part
    expect(linkKind(`/webrtc/p2p/${TAB}`)).toBe('webrtc'); // the answering side
    expect(linkKind(RELAYED)).toBe('relay');
    expect(linkKind(WS)).toBe('websocket');
    expect(linkKind(`/ip4/10.0.0.5/tcp/443/wss/p2p/${RELAY}`)).toBe('websocket');
    expect(linkKind(`/ip4/10.0.0.5/tcp/4001/p2p/${RELAY}`)).toBe('tcp');
    expect(linkKind(`/memory/x/p2p/${RELAY}`)).toBe('other');
  });

  it('does not take a peer id or host that merely contains the word for a transport', () => {
    expect(linkKind(`/dns4/webrtc.example/tcp/4001/p2p/${RELAY}`)).toBe('tcp');
  });
});

describe('relayFirst', () => {
  it("puts a tab's relayed address before its WebRTC one and keeps the others' order", () => {
    const addrs = [WEBRTC, RELAYED, WS].map((a) => ({ multiaddr: multiaddr(a) }));
    expect(addrs.sort(relayFirst).map((a) => a.multiaddr.toString())).toEqual([RELAYED, WS, WEBRTC]);
    expect(relayFirst({ multiaddr: multiaddr(RELAYED) }, { multiaddr: multiaddr(WS) })).toBe(0);
    expect(relayFirst({ multiaddr: multiaddr(WEBRTC) }, { multiaddr: multiaddr(WEBRTC) })).toBe(0);
  });
});
