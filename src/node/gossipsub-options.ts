// The gossipsub options every gossipfl node shares, Node peer and browser tab alike: what
// membership and updates rely on (signed originators) and what start-up needs (publishing
// before anyone listens), in one place so the two nodes cannot drift apart.

/** Options for `gossipsub()`: the shared ones, with `maxInboundDataLength` the largest gossiped update. */
export function sharedGossipsubOptions(maxInboundDataLength: number) {
  return {
    // Publishing when nobody listens yet is normal at start-up (announcements); callers check recipients.
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    emitSelf: false,
    maxInboundDataLength,
    // StrictSign: message.from is the signed originator, which membership and updates rely on.
    globalSignaturePolicy: 'StrictSign' as const,
  };
}
