import { ConfigError } from './config.js';

/** A failure to listen, as one line naming the flag to change (`--port`, or a worker's `--metrics-port`). */
export function listenError(err: unknown, host: string, port: number, flag = '--port'): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE') {
    return new ConfigError(
      `${where} is already in use (another Hookline?): stop that process, or pick another port with ${flag}`,
      { cause: err },
    );
  }
  if (code === 'EADDRNOTAVAIL')
    return new ConfigError(`--host ${host} is not an address of this machine`, { cause: err });
  if (code === 'EACCES')
    return new ConfigError(
      `not allowed to listen on ${where}: choose a port above 1023 with ${flag}`,
      { cause: err },
    );
  return err;
}
