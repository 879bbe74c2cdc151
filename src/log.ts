import pino from 'pino';
import type { Config } from './config.js';

export type Logger = pino.Logger;

/** JSON logs on standard error, so standard output stays for what commands print (keys, results). */
export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { service: 'hookline' } }, pino.destination(2));
}
