// `mode: federated` between real peers: one process serves (`gossipfl peer --serve`), announced
// with role `server`; the others are clients. The round driver's members are the clients only
// (sorted peer ids, as for every mode), so a client's topology position, data shard and codec
// sender index are its position among the clients, and the server's model goes out with sender
// index = number of clients — exactly as the simulator's server. Which peer serves is the
// operator's choice, not an election: a run has exactly one server, and without it the clients stop.
import type { PeerId, Transport } from '../peer/transport.js';
import { PHASES } from '../peer/phases.js';
import { ConfigError, GossipflError } from '../util/errors.js';
import type { PeerRole } from './wire.js';

/** Who serves and who trains among a round's members. */
export interface FederatedRoles {
  /** The server's peer id. */
  readonly server: PeerId;
  /** The clients, sorted: the round driver's members. */
  readonly clients: readonly PeerId[];
}

/**
 * Splits a member set into the server and the clients; throws when there is no server or more
 * than one (what to do is in the message). `when` says where in the run this is (for the message).
 */
export function splitRoles(members: readonly PeerId[], roleOf: (id: PeerId) => PeerRole | undefined, when: string): FederatedRoles {
  const servers = members.filter((id) => roleOf(id) === 'server');
  if (servers.length > 1) {
    throw new GossipflError('config', `mode federated: ${servers.length} peers serve (${servers.join(', ')}) ${when}; start exactly one peer with --serve`);
  }
  if (servers.length === 0) {
    throw new GossipflError('network', `mode federated: no server among the members ${when} (it left or went silent, or none was started); the clients cannot go on without one: start one peer with --serve and restart the run`);
  }
  return { server: servers[0], clients: members.filter((id) => id !== servers[0]) };
}

/** A client's shard: its position among the clients. An explicit --data-shard must agree (the server weighs and decodes uploads by position). */
export function clientShard(roles: FederatedRoles, self: PeerId, peers: number, explicit: { readonly index: number; readonly count: number } | undefined, fullStart: boolean): number {
  const index = roles.clients.indexOf(self);
  if (fullStart && roles.clients.length !== peers) {
    throw new GossipflError('config', `mode federated: ${roles.clients.length} clients joined but the config has peers: ${peers}; start peers clients and one --serve peer`);
  }
  if (explicit && (explicit.index !== index || explicit.count !== peers)) {
    throw new ConfigError(
      `--data-shard ${explicit.index}/${explicit.count}: in mode federated a client trains on the shard of its position among the clients (${index}/${peers} here); leave --data-shard out`,
    );
  }
  return index;
}

/**
 * A client's transport that turns a missing global model into a clear stop: the download
 * waits (without deadline) until the server has sent or can no longer send (it left, or was
 * silent past the silence limit), so an empty download means the server is gone.
 */
export function requireServerDownloads(inner: Transport, server: PeerId): Transport {
  return {
    self: inner.self,
    members: () => inner.members(),
    now: () => inner.now(),
    exchange: async (req) => {
      const result = await inner.exchange(req);
      const download = req.phase === PHASES.download && req.expectFrom.includes(server);
      if (download && !result.received.some((e) => e.from === server)) {
        throw new GossipflError(
          'network',
          `mode federated: the server ${server} sent no global model for round ${req.round + 1} (it left or went silent); the clients cannot go on without it: restart the run with a server (--serve)`,
        );
      }
      return result;
    },
  };
}
