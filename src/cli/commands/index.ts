// The list of subcommands. Each module exports `register(program)`; add one line per command.
import type { Command } from 'commander';
import { register as train } from './train.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  train,];
import { register as topology } from './topology.js'; commands.push(topology);
