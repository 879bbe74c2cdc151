/**
 * Bounds on what a client controls before any route runs: header bytes and
 * count, URL length, how long a request may take to arrive. Body size, JSON
 * depth and list sizes are bounded elsewhere (bodyLimit in app.ts and per
 * publish route, src/api/plugins/json-body.ts, the route schemas).
 *
 * Node's HTTP parser refuses oversized headers and slow requests itself, before
 * Fastify sees a request; the clientError handler below answers those in the
 * error format of docs/api.md ("Errors") instead of Fastify's own.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifyServerOptions,
} from 'fastify';
import { HooklineError, type ErrorCode } from '../../errors.js';

export interface ClientLimits {
  /** Bytes of request line plus headers (Node's maxHeaderSize). */
  maxHeaderBytes: number;
  /** Header lines per request. */
  maxHeaders: number;
  /** Characters of the request target (path and query). */
  maxUrlLength: number;
  /** The whole request, headers and body, must arrive within this. */
  requestTimeoutMs: number;
  /** The headers must arrive within this (slowloris). */
  headersTimeoutMs: number;
  /** How often Node checks the two timeouts above; a timeout fires up to this much late. */
  timeoutCheckIntervalMs: number;
}

export const defaultClientLimits: ClientLimits = {
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 100,
  maxUrlLength: 8 * 1024,
  // A 32 MiB batch on a slow uplink still fits; a connection trickling bytes does not stay forever.
  requestTimeoutMs: 120_000,
  headersTimeoutMs: 20_000,
  timeoutCheckIntervalMs: 5_000,
};

/** The Fastify constructor options that carry the limits (the HTTP server is created by Fastify). */
export function clientLimitServerOptions(limits: ClientLimits): {
  requestTimeout: number;
  http: http.ServerOptions;
  clientErrorHandler: NonNullable<FastifyServerOptions['clientErrorHandler']>;
  frameworkErrors: (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => void;
} {
  return {
    frameworkErrors,
    requestTimeout: limits.requestTimeoutMs,
    http: {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
    },
    clientErrorHandler,
  };
}

/** A raw HTTP answer in the error format (docs/api.md, "Errors"), for errors raised before there is a request object. */
function rawAnswer(code: ErrorCode, message?: string): string {
  const err = new HooklineError(code, message);
  const body = JSON.stringify(err.toBody());
  return `HTTP/1.1 ${err.status} ${http.STATUS_CODES[err.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Node's parser errors (oversized headers, timeouts, garbage) answered in the error format of docs/api.md. */
function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let answer: string;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') answer = rawAnswer('REQUEST_TIMEOUT');
  else if (err.code === 'HPE_HEADER_OVERFLOW') answer = rawAnswer('HEADERS_TOO_LARGE');
  else answer = rawAnswer('BAD_REQUEST', 'The request is not valid HTTP.');
  if (socket.writable) socket.end(answer);
  socket.destroy();
}

/**
 * Errors the router raises before any hook runs: a path parameter longer than
 * maxParamLength (no id is that long, so: not found) and a malformed URL (400).
 * Fastify's own answers to these are not in the error format of docs/api.md.
 */
function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const mapped =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new HooklineError('NOT_FOUND', 'Not found: a path segment is longer than any id.')
      : new HooklineError(
          'BAD_REQUEST',
          err.code === 'FST_ERR_BAD_URL'
            ? 'The URL is not valid (bad percent-encoding?).'
            : err.message,
        );
  void reply.code(mapped.status).send(mapped.toBody());
}

/** Checks Node does not make on its own: header count and URL length, as clear 431 and 414 answers. */
export function registerClientLimits(app: FastifyInstance, limits: ClientLimits): void {
  app.addHook('onRequest', async (request) => {
    // rawHeaders is [name, value, name, value, …].
    if (request.raw.rawHeaders.length / 2 > limits.maxHeaders) {
      throw new HooklineError(
        'HEADERS_TOO_LARGE',
        `A request may carry at most ${limits.maxHeaders} headers.`,
      );
    }
    if (request.url.length > limits.maxUrlLength) {
      throw new HooklineError(
        'URI_TOO_LONG',
        `The URL may be at most ${limits.maxUrlLength} characters.`,
      );
    }
  });
}
