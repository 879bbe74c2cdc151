import pino from 'pino';
import type { Config } from './config.js';
import { chooseLogFormat, prettyDestination } from './log-format.js';

export type Logger = pino.Logger;

/**
 * Logs on standard error, so standard output stays for what commands print (keys, results):
 * JSON lines, or readable lines on a terminal (see src/log-format.ts).
 */
export function createLogger(
  config: Pick<Config, 'logLevel'> & Partial<Pick<Config, 'logFormat'>>,
): Logger {
  const format = chooseLogFormat(config.logFormat, process.stderr.isTTY === true);
  const destination = format === 'pretty' ? prettyDestination(2) : pino.destination(2);
  return pino({ level: config.logLevel, base: { service: 'hookline' } }, destination);
}
