/**
 * Resolving a webhook's host and checking every answer against the SSRF rules,
 * shared by the save-time guard (src/net/guard.ts) and the connector that opens
 * delivery connections (src/net/dispatcher.ts).
 */
import { lookup } from 'node:dns/promises';
import type { Config } from '../config.js';
import {
  blockedReason,
  compileAllowList,
  describeBlocked,
  parseHostAddress,
  type AllowList,
  type BlockedReason,
} from '../core/ssrf.js';

/** Error code of a destination refused by the guard; the worker records it as `blocked_destination`. */
export const BLOCKED_DESTINATION = 'HOOKLINE_BLOCKED_DESTINATION';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Turns a host name into addresses. The system resolver in production; tests inject their own. */
export type ResolveHost = (hostname: string) => Promise<ResolvedAddress[]>;

/** getaddrinfo, every answer (A and AAAA), in the resolver's order. */
export const systemResolve: ResolveHost = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** A destination the rules refuse. `code` is what the delivery worker looks for. */
export class BlockedDestinationError extends Error {
  readonly code = BLOCKED_DESTINATION;
  constructor(
    readonly hostname: string,
    readonly reason: BlockedReason | null,
    message?: string,
  ) {
    super(
      message ?? `blocked destination: ${hostname}${reason ? ` (${describeBlocked(reason)})` : ''}`,
    );
    this.name = 'BlockedDestinationError';
  }
}

/**
 * What the SSRF guard reads of the configuration. `resolveHost` is for tests only, not a
 * setting: it resolves host names (on save and on send) instead of the system resolver, so a
 * test can play DNS answers such as rebinding. A Config built by test/support/config.ts may
 * carry it; loadConfig never sets it.
 */
export type GuardConfig = Pick<Config, 'dev' | 'allowCidrs'> & { resolveHost?: ResolveHost };

// Configs live for a process; compiling the allow list once per array keeps the hot path cheap.
const compiled = new WeakMap<readonly string[], AllowList>();
export function allowListOf(config: Pick<Config, 'allowCidrs'>): AllowList {
  let list = compiled.get(config.allowCidrs);
  if (!list) {
    list = compileAllowList(config.allowCidrs);
    compiled.set(config.allowCidrs, list);
  }
  return list;
}

/**
 * Resolves `hostname` once and returns its addresses when every one of them is
 * allowed. A single refused answer refuses the host: a name that mixes a public
 * and a private address is how rebinding attacks start. IP literals (in any
 * legacy form) are judged as they are, without DNS. DNS errors are passed on.
 */
export async function resolveAllowed(
  hostname: string,
  config: GuardConfig,
): Promise<ResolvedAddress[]> {
  const allow = allowListOf(config);
  const literal = parseHostAddress(hostname);
  if (literal) {
    const reason = blockedReason(literal, allow);
    if (reason) throw new BlockedDestinationError(hostname, reason);
    return [{ address: literal.toString(), family: literal.kind() === 'ipv6' ? 6 : 4 }];
  }
  const answers = await (config.resolveHost ?? systemResolve)(hostname.replace(/\.$/, ''));
  if (answers.length === 0)
    throw new BlockedDestinationError(
      hostname,
      null,
      `blocked destination: ${hostname} has no address`,
    );
  for (const answer of answers) {
    // An answer that is not an IP address at all (a broken resolver) is refused too.
    const reason = blockedReason(answer.address, allow);
    if (reason) throw new BlockedDestinationError(hostname, reason);
  }
  return answers;
}
