// Rewrites tests/protocol/vectors/*.json from the code. Run it only after a deliberate change of
// the protocol (and bump the version that change needs): `npx tsx tests/protocol/write-vectors.ts`.
import { writeFileSync } from 'node:fs';
import { allVectors } from './vectors.js';

for (const [file, content] of Object.entries(allVectors())) {
  const path = new URL(`./vectors/${file}`, import.meta.url);
  writeFileSync(path, JSON.stringify(content, null, 2) + '\n');
  process.stdout.write(`wrote tests/protocol/vectors/${file} (${Object.keys(content).length} vectors)\n`);
}
