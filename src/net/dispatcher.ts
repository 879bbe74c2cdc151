/**
 * The HTTP client the worker sends deliveries with: an undici Agent (a pool per
 * origin, keep-alive). This is where the SSRF guard is enforced at send time:
 * the connector resolves the host itself and connects only to the checked address.
 */
import { Agent, type Dispatcher } from 'undici';
import type { Config } from '../config.js';

/** Error code set on a connection refused by the guard; the worker records it as `blocked_destination`. */
export const BLOCKED_DESTINATION = 'HOOKLINE_BLOCKED_DESTINATION';

export function createDeliveryDispatcher(_config: Pick<Config, 'dev' | 'allowCidrs'>): Dispatcher {
  // TODO(issue 4): a connect.lookup that resolves once, refuses blocked addresses
  // (throwing an error with code BLOCKED_DESTINATION) and pins the checked one.
  return new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    connections: 64,
    pipelining: 1,
  });
}
