/** Every CLI command, in the order `bathysphere --help` lists them. Features add theirs here. */
import { storeCommands } from '../store/cli';
import type { CliCommand } from './command';

export const commands: CliCommand[] = [...storeCommands];
