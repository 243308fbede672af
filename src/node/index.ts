/**
 * Public API of the libp2p side: the node factory, the Transport over libp2p, membership and
 * the node's wire messages.
 * @module
 */
export { createGossipflNode, libp2pConfig, type GossipflNode, type GossipflLibp2p, type GossipflServices } from './create-node.js';
export { resolveNodeOptions, GOSSIPSUB_WIRE_CAP, type NodeOptions, type ResolvedNodeOptions, type EncryptionChoice, type TransportChoice, type YamuxTuning } from './options.js';
export { loadOrCreatePrivateKey, readPskFile, writeNewPskFile, newPskText, parsePsk } from './keys.js';
export { Libp2pTransport, type Libp2pTransportOptions, type ValidateUpdate, type ValidateResult, type StartInfo, type InboundVerdict } from './transport.js';
export { Membership, JOIN_MARGIN, identityMismatch, compareIds, type RunIdentity, type Announcement, type AnnounceVerdict } from './membership.js';
export { Inbox, type InboxLimits, type OfferResult } from './inbox.js';
export { UPDATE_PROTOCOL, sendUpdate, handleUpdateProtocol, type DirectProtocolOptions, type UpdateHandler } from './direct.js';
export { encodeMessage, decodeMessage, WIRE_VERSION, type NodeMessage, type AnnounceMessage, type UpdateMessage, type LeaveMessage, type AckMessage, type AckStatus } from './wire.js';
export { runPeer, type PeerRunOptions } from './run-peer.js';
export { configHash } from './config-hash.js';
export { saveCheckpoint, loadCheckpoint, encodeCheckpoint, decodeCheckpoint, type Checkpoint } from './checkpoint.js';
export { LatestInbox, type LatestOfferResult } from './latest-inbox.js';
export { LatestSender, type PostResult } from './latest-sender.js';
