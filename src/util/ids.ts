// Identifiers shared by every layer.

/** A peer's stable identifier (a libp2p peer id string on the network, `p<index>` in the simulator). */
export type PeerId = string;
