/** Every CLI command, in the order `bathysphere --help` lists them. Features add theirs here. */
import { javaCommands } from '../jvm/cli';
import { debugSimCommands } from '../jvm/debugSimCli';
import { erlangCommands } from '../erlang/cli';
import { storeCommands } from '../store/cli';
import type { CliCommand } from './command';

export const commands: CliCommand[] = [
  ...storeCommands,
  ...erlangCommands,
  ...javaCommands,
  ...debugSimCommands,
];
