/**
 * What the developer commands (trigger, deliveries tail, listen) share: they talk
 * to a running Hookline over its HTTP API, like any other client, so they work
 * against any server process and need no database access.
 */
import { Option, type Command } from 'commander';
import { createClient, HooklineApiError, type HooklineClient } from '../client/client.js';
import { redactText } from '../log-redact.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

export interface RemoteOptions {
  server?: string;
  key?: string;
}

/** Adds --server and --key (with their environment variables) to a command. */
export function withRemote(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--server <url>',
        `Hookline server URL; env HOOKLINE_SERVER (default: ${DEFAULT_SERVER})`,
      ),
    )
    .addOption(new Option('--key <key>', 'API key; env HOOKLINE_API_KEY'));
}

export function serverOf(opts: RemoteOptions, env = process.env): string {
  return (opts.server ?? env.HOOKLINE_SERVER ?? DEFAULT_SERVER).replace(/\/+$/, '');
}

/** A client for the server and key given by flags or environment; exits with a hint when no key is known. */
export function remoteClient(
  opts: RemoteOptions,
  env = process.env,
): { client: HooklineClient; server: string } {
  const key = opts.key ?? env.HOOKLINE_API_KEY;
  if (!key) {
    process.stderr.write('hookline: an API key is needed: --key hk_… or HOOKLINE_API_KEY=hk_…\n');
    process.exit(2);
  }
  const server = serverOf(opts, env);
  return { client: createClient({ baseUrl: server, apiKey: key }), server };
}

/** Colour only when a terminal is attached and NO_COLOR is unset. */
export function painter(stream: NodeJS.WriteStream = process.stdout) {
  const on = Boolean(stream.isTTY) && !process.env.NO_COLOR;
  const wrap = (code: number) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
  return {
    on,
    green: wrap(32),
    red: wrap(31),
    yellow: wrap(33),
    dim: wrap(2),
    bold: wrap(1),
    cyan: wrap(36),
  };
}

/** The first errno-style code (ECONNREFUSED, ENOTFOUND…) in an error's cause chain. */
function causeCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  }
  return undefined;
}

/** An API error as one line for a person; `server` names where a connection failed. */
export function describeError(err: unknown, server?: string): string {
  // What a server or a URL echoes can hold a credential (docs/security.md, "Logs").
  return redactText(describeUnmasked(err, server));
}

function describeUnmasked(err: unknown, server?: string): string {
  if (err instanceof HooklineApiError && err.code === 'NETWORK_ERROR' && server) {
    // undici says only "fetch failed"; what a person needs is where, why, and what to check.
    const why =
      causeCode(err.cause) ?? (err.cause instanceof Error ? err.cause.message : 'no answer');
    return `cannot reach ${server} (${why}): is \`hookline serve\` running there? Set --server or HOOKLINE_SERVER otherwise.`;
  }
  if (err instanceof HooklineApiError) {
    const fields = Array.isArray(err.details)
      ? (err.details as Array<{ field?: string; message?: string }>)
          .map((d) => `\n  ${d.field}: ${d.message}`)
          .join('')
      : '';
    return `${err.status ? `${err.status} ` : ''}${err.code}: ${err.message}${fields}`;
  }
  return err instanceof Error ? err.message : String(err);
}
