// The receiving process of the network suite's two-process layout. Usage (the suite spawns it):
//   node [tsx loader] bench/network-receiver.ts <payload bytes>
// Starts two raw TCP receivers (one counts the bytes, one also copies them into one buffer) and
// one gossipfl node per encryption, prints their addresses as one JSON line on stdout, and
// exits when its stdin closes.
import { startLibp2pReceiver, startRawReceiver, type BulkReceiver } from './network-bulk.js';

const bytes = Number(process.argv[2]);
if (!Number.isInteger(bytes) || bytes <= 0) {
  process.stderr.write(`network-receiver: payload bytes "${process.argv[2]}" is not a positive integer\n`);
  process.exit(2);
}
const receivers: Record<string, BulkReceiver> = {
  raw: await startRawReceiver(bytes, false),
  rawAssembled: await startRawReceiver(bytes, true),
  noise: await startLibp2pReceiver('noise', bytes),
  tls: await startLibp2pReceiver('tls', bytes),
};
process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(receivers).map(([k, r]) => [k, r.address]))) + '\n');
process.stdin.resume();
process.stdin.on('end', () => {
  void Promise.all(Object.values(receivers).map((r) => r.stop())).finally(() => process.exit(0));
});
