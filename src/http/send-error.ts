import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { FirebridgeError, MethodNotAllowedError, MissingCredentialsError, RateLimitedError } from '../errors';
import { requestLog } from './request-logger';

export const DEFAULT_REALM = 'firebridge';

/** What the edge answers for an error: never a stack trace, never a 5xx detail. */
export interface ErrorReply {
  status: number;
  error: string;
  description: string;
}

interface HttpParserError {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
  limit?: unknown;
}

/** Maps any thrown value to a reply. 5xx descriptions are generic; the detail goes to the log. */
export function toErrorReply(err: unknown): ErrorReply {
  if (err instanceof FirebridgeError) {
    // Internal errors (a setting, a Google call) keep status 500: a generic answer, as for any other failure.
    // A few name their 500 (vault_integrity); the rest answer server_error.
    if (err.status === 500) return { status: 500, error: err.oauthError, description: 'internal error' };
    if (err.status >= 500) {
      return { status: err.status, error: err.oauthError, description: 'the service is temporarily unavailable; retry later' };
    }
    return { status: err.status, error: err.oauthError, description: err.message };
  }
  const parserError = err as HttpParserError | null;
  switch (parserError?.type) {
    case 'entity.too.large':
      return {
        status: 413,
        error: 'invalid_request',
        description: `request body is larger than ${String(parserError.limit)} bytes`,
      };
    case 'entity.parse.failed':
      return { status: 400, error: 'invalid_request', description: 'request body is not valid JSON' };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, error: 'invalid_request', description: 'unsupported body encoding or charset' };
    default:
      break;
  }
  // The router's refusal of a path parameter with a bad %-escape (`/v1/authz/%zz`): the client's mistake, never a
  // 500 (whose log line would carry the raw segment, which may be anything, a token included).
  if (err instanceof URIError && parserError?.status === 400) {
    return { status: 400, error: 'invalid_request', description: 'the request path has an invalid percent-encoding' };
  }
  if (typeof parserError?.status === 'number' && parserError.status >= 400 && parserError.status < 500 && parserError.expose) {
    return { status: parserError.status, error: 'invalid_request', description: 'the request could not be read' };
  }
  return { status: 500, error: 'server_error', description: 'internal error' };
}

/**
 * A quoted-string per RFC 7230 §3.2.6: `"` and `\` are backslash-escaped (quoted-pair), so a
 * description quoting a claim name reads as it was written; characters a header cannot carry well
 * (control characters, DEL, anything outside ASCII) become `?`.
 */
export function quoted(value: string): string {
  return `"${value.replace(/[^\t\x20-\x7e]/gu, '?').replace(/["\\]/g, '\\$&')}"`;
}

/**
 * The RFC 6750 challenge. With no error (the request carried no credentials) it is just the realm.
 */
export function bearerChallenge(realm: string, reply?: ErrorReply): string {
  const parts = [`realm=${quoted(realm)}`];
  if (reply && (reply.error === 'invalid_token' || reply.error === 'invalid_request')) {
    parts.push(`error=${quoted(reply.error)}`, `error_description=${quoted(reply.description)}`);
  }
  return `Bearer ${parts.join(', ')}`;
}

export interface SendErrorOptions {
  logger: Logger;
  /** Set on protected routes: adds WWW-Authenticate to 401 (and 400) answers. */
  realm?: string;
}

/** Writes the JSON error `{error, error_description}` and logs server-side failures in full. */
export function sendError(res: ServerResponse, err: unknown, options: SendErrorOptions): void {
  const reply = toErrorReply(err);
  // The request's own logger where the request logger runs, so these lines carry its reqId.
  const logger = requestLog(res, options.logger);
  if (reply.status >= 500) {
    logger.error(
      { err: err instanceof Error ? { type: err.name, message: err.message, stack: err.stack } : String(err) },
      'request failed',
    );
    if (reply.status === 503) res.setHeader('Retry-After', '5');
  } else {
    const code = err instanceof FirebridgeError ? err.code : reply.error;
    logger.info({ status: reply.status, code }, 'request refused');
    if (err instanceof RateLimitedError) res.setHeader('Retry-After', String(err.retryAfterSeconds));
    if (err instanceof MethodNotAllowedError) res.setHeader('Allow', err.allow.join(', '));
  }
  if (options.realm !== undefined && (reply.status === 401 || reply.status === 400)) {
    const noCredentials = err instanceof MissingCredentialsError;
    res.setHeader('WWW-Authenticate', bearerChallenge(options.realm, noCredentials ? undefined : reply));
  }
  if (res.headersSent) return;
  sendJson(res, reply.status, JSON.stringify({ error: reply.error, error_description: reply.description }));
}

/**
 * A JSON answer, with the headers express's res.json writes in this app (no ETag: the app disables it); on
 * node:http's response, so the fast GET /v1/me (src/http/fast-me.ts) answers exactly as the express routes do.
 */
export function sendJson(res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
