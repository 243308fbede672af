// Free TCP ports on loopback, for a local cluster's peers and for tests that start peer processes.
import { createServer } from 'node:net';

/** Ports the OS says are free now (bound to port 0 and released). */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) {
    const port = await new Promise<number>((res, rej) => {
      const s = createServer();
      s.once('error', rej);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}
