/**
 * How log records look on standard error: JSON lines for machines (piped, collected), or one
 * readable line per record for a person at a terminal. Our own small formatter instead of
 * pino-pretty: no transport thread, and every line is written synchronously like pino's own
 * destination, so nothing is lost when the process exits.
 */
import { writeSync } from 'node:fs';

export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/** The format asked for (--log-format / HOOKLINE_LOG_FORMAT), else pretty on a terminal only. */
export function chooseLogFormat(asked: LogFormat | undefined, stderrIsTTY: boolean): LogFormat {
  return asked ?? (stderrIsTTY ? 'pretty' : 'json');
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};

// Fields every record has, shown in the line's head or not at all.
const HEAD = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service']);

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/**
 * One pino JSON record as `HH:MM:SS.mmm LEVEL message key=value …`, with an error's stack on
 * the lines after it. A line that is not a JSON object comes back as it was.
 */
export function prettyLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : json + '\n';
  }
  if (rec === null || typeof rec !== 'object') return json.endsWith('\n') ? json : json + '\n';
  const time =
    typeof rec.time === 'number' ? new Date(rec.time).toISOString().slice(11, 23) : '--:--:--.---';
  const level = LEVELS[rec.level as number] ?? String(rec.level);
  let stack = '';
  const fields: string[] = [];
  for (const [k, v] of Object.entries(rec)) {
    if (HEAD.has(k)) continue;
    const err = v as { message?: unknown; stack?: unknown } | null;
    if ((k === 'err' || k === 'error') && err && typeof err.stack === 'string') {
      stack = '\n    ' + err.stack.split('\n').join('\n    ');
      fields.push(`${k}=${fieldText(err.message)}`);
      continue;
    }
    fields.push(`${k}=${fieldText(v)}`);
  }
  const msg = typeof rec.msg === 'string' ? rec.msg : '';
  return `${time} ${level} ${msg}${fields.length ? '  ' + fields.join(' ') : ''}${stack}\n`;
}

/** A pino destination that writes each record to a file descriptor as a pretty line. */
export function prettyDestination(fd = 2): { write(chunk: string): boolean } {
  return {
    write(chunk: string) {
      // pino writes one record (ending in \n) per call.
      for (const line of chunk.split('\n')) if (line) writeSync(fd, prettyLine(line));
      return true;
    },
  };
}
