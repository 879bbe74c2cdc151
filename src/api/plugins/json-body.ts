import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { HooklineError } from '../../errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The deepest nesting a request body may have; deeper is refused before it is walked. */
export const MAX_JSON_DEPTH = 64;

/** Depth of brackets in JSON text, ignoring those inside strings; stops early once over `max`. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** A route that takes no body, or an object whose fields are all optional. */
function requiresNothing(schema: unknown): boolean {
  if (schema === undefined) return true;
  const s = schema as { type?: unknown; required?: unknown[] };
  return s.type === 'object' && (s.required === undefined || s.required.length === 0);
}

/**
 * JSON bodies: strict UTF-8 (invalid bytes are a 400, not silently replaced),
 * a depth limit, and prototype-poisoning keys refused, as Fastify's own parser does.
 */
export function registerJsonBody(app: FastifyInstance): void {
  // Only JSON: Fastify's default text/plain parser would hand routes a string (a confusing 422);
  // without it such bodies get a clear 415.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(new HooklineError('MALFORMED_JSON', 'The request body is not valid UTF-8.'), undefined);
      return;
    }
    if (text.trim() === '') {
      // Clients often send Content-Type: application/json on every request; a GET or DELETE has no
      // body to parse, and a POST whose fields are all optional (retry, rotate-secret, test) means
      // "the defaults", as `curl -X POST -H 'content-type: application/json' …` expects.
      if (req.method === 'GET' || req.method === 'DELETE') {
        done(null, undefined);
        return;
      }
      if (req.method === 'POST' && requiresNothing(req.routeOptions.schema?.body)) {
        done(null, {});
        return;
      }
      done(
        new HooklineError('MALFORMED_JSON', 'The request body is empty; send a JSON object.'),
        undefined,
      );
      return;
    }
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      done(
        new HooklineError(
          'BAD_REQUEST',
          `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels.`,
        ),
        undefined,
      );
      return;
    }
    try {
      done(
        null,
        sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }),
      );
    } catch (err) {
      const detail = err instanceof SyntaxError ? ` ${err.message}` : '';
      done(
        new HooklineError('MALFORMED_JSON', `The request body is not valid JSON.${detail}`, {
          cause: err,
        }),
        undefined,
      );
    }
  });
}
