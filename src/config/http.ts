import { ConfigError } from '../errors';
import { type Env, int } from './parse';
import { ConfigProblems } from './problems';

/** Limits of the HTTP server itself (src/http/http-server.ts): slow clients and connection floods. */
export interface HttpServerSettings {
  /** HTTP_HEADERS_TIMEOUT_MS: a client must have sent its request headers within this time. */
  headersTimeoutMs: number;
  /** HTTP_REQUEST_TIMEOUT_MS: a client must have sent its whole request (headers and body) within this time. */
  requestTimeoutMs: number;
  /** HTTP_KEEP_ALIVE_TIMEOUT_MS: an idle keep-alive connection is closed after this time. */
  keepAliveTimeoutMs: number;
  /** HTTP_MAX_CONNECTIONS: connections beyond this many are dropped as they arrive. */
  maxConnections: number;
}

export function httpServerSettings(env: Env): HttpServerSettings {
  const problems = new ConfigProblems();
  const read = <T>(parse: () => T, fallback: T): T => problems.read(parse, fallback);
  const headersTimeoutMs = read(() => int(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 300_000), 10_000);
  const requestTimeoutMs = read(() => int(env, 'HTTP_REQUEST_TIMEOUT_MS', 15_000, 100, 600_000), 15_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    // The headers are part of the request: Node refuses a headers timeout longer than the request's.
    problems.add(
      new ConfigError('HTTP_HEADERS_TIMEOUT_MS', `must not exceed HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs}), got ${headersTimeoutMs}`),
    );
  }
  const settings = {
    headersTimeoutMs,
    requestTimeoutMs,
    // Never 0: to Node that means idle keep-alive connections stay open for ever.
    keepAliveTimeoutMs: read(() => int(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 5_000, 100, 600_000), 5_000),
    maxConnections: read(() => int(env, 'HTTP_MAX_CONNECTIONS', 10_000, 1, 1_000_000), 10_000),
  };
  problems.throwIfAny();
  return settings;
}
