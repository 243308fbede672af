// The Transport compliance suite against both transports: the simulator's in-memory network
// (simulated clock) and the libp2p transport of real peers (in-process memory connections).
import { SimNetwork } from '../../src/sim/memory-transport.js';
import { IDEAL_NETWORK } from '../../src/sim/network.js';
import { startCluster, stopAll } from '../node/cluster.js';
import { transportCompliance } from './transport-compliance.js';

transportCompliance({
  name: 'simulator (SimNetwork)',
  deadlineMs: 1000,
  async start(n) {
    const net = new SimNetwork({ ...IDEAL_NETWORK, latencyMs: 10 }, 7);
    const ids = Array.from({ length: n }, (_, i) => `p${i}`);
    net.setMembers(ids);
    return {
      transports: ids.map((id) => net.transportFor(id)),
      participate: (who) => net.setParticipants(who),
      delay: async (id, ms) => net.advance(id, ms),
      close: async () => {},
    };
  },
});

transportCompliance({
  name: 'real peers (Libp2pTransport)',
  deadlineMs: 1500,
  async start(n) {
    const members = await startCluster(n, () => ({ node: { memoryTransport: true } }));
    await Promise.all(members.map((m) => m.transport.waitForMembers(n, 15_000)));
    // Member order (and so who is index 0) is the sorted peer ids.
    members.sort((x, y) => (x.node.peerId < y.node.peerId ? -1 : 1));
    return {
      transports: members.map((m) => m.transport),
      participate: () => {},
      delay: (_id, ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      close: () => stopAll(members),
    };
  },
});
