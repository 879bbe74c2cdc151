import pino from 'pino';
import type { Config } from './config.js';
import { chooseLogFormat, prettyDestination } from './log-format.js';
import { redactText, redactValue, serializeError } from './log-redact.js';

export type Logger = pino.Logger;

/**
 * What every Hookline logger does to a record before it is written (docs/security.md, "Logs"):
 * errors through serializeError, every field through redactValue, every line through
 * redactText. Children (Fastify's per-request loggers) inherit all three.
 */
export const redactingOptions: Pick<pino.LoggerOptions, 'serializers' | 'formatters' | 'hooks'> = {
  serializers: { err: serializeError, error: serializeError },
  formatters: { log: (record) => redactValue(record) as Record<string, unknown> },
  hooks: {
    logMethod(args, method) {
      // pino takes the message of an error logged without one from the error itself, after
      // every hook and formatter: give it the redacted message instead.
      const [first, second] = args as unknown[];
      const err = first instanceof Error ? first : (first as { err?: unknown } | null)?.err;
      if (second === undefined && err instanceof Error) {
        const { message } = serializeError(err) as { message: string };
        return method.apply(this, [first instanceof Error ? { err } : first, message] as never);
      }
      return method.apply(this, args);
    },
    streamWrite: redactText,
  },
};

/**
 * Logs on standard error, so standard output stays for what commands print (keys, results):
 * JSON lines, or readable lines on a terminal (see src/log-format.ts). `destination` replaces
 * standard error (tests capture the log with it).
 */
export function createLogger(
  config: Pick<Config, 'logLevel'> & Partial<Pick<Config, 'logFormat'>>,
  destination?: pino.DestinationStream,
): Logger {
  const format = chooseLogFormat(config.logFormat, process.stderr.isTTY === true);
  const dest = destination ?? (format === 'pretty' ? prettyDestination(2) : pino.destination(2));
  return pino({ level: config.logLevel, base: { service: 'hookline' }, ...redactingOptions }, dest);
}
