// `gossipfl psk new <file>`: writes a new pre-shared key for a private network. Copy the same
// file to every machine of the run and pass it with the peer's PSK option.
import type { Command } from 'commander';
import { writeNewPskFile } from './keys.js';

export function register(program: Command): void {
  const psk = program.command('psk').description('pre-shared keys for private gossipfl networks');
  psk
    .command('new')
    .description('write a new pre-shared key file (mode 0600); every peer of the run needs the same file')
    .argument('<file>', 'where to write the key (must not exist)')
    .action((file: string) => {
      writeNewPskFile(file);
      process.stdout.write(`wrote ${file}; copy it to every machine of the run\n`);
    });
}
