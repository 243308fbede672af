// The list of subcommands. Each module exports `register(program)`; add one line per command.
import type { Command } from 'commander';
import { register as train } from './train.js';
import { register as simulate } from './simulate.js';
import { register as topology } from './topology.js';
import { register as report } from './report.js';
import { register as psk } from '../../node/psk-command.js';
import { register as peer } from './peer.js';
import { register as cluster } from './cluster.js';
import { register as schema } from './schema.js';
import { register as sweep } from './sweep.js';
import { register as servePage } from './serve-page.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [simulate, sweep, train, peer, cluster, topology, report, schema, psk, servePage];
