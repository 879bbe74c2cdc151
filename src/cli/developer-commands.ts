/**
 * The developer commands: they talk to a running server over the HTTP API.
 */
import type { Command } from 'commander';
import { registerTrigger } from './trigger.js';
import { registerTail } from './tail.js';
import { registerListen } from './listen.js';

export function registerDeveloperCommands(program: Command): void {
  registerTrigger(program);
  registerTail(program.command('deliveries').description('Inspect deliveries.'));
  registerListen(program);
}
