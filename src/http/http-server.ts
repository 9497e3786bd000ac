import { type RequestListener, type Server, createServer } from 'node:http';
import type { HttpServerSettings } from '../config/http';

/**
 * How often Node looks for connections past HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS. Node
 * checks every 30 s by default, so a slow client would outlive a 10 s timeout by up to 30 s: check
 * at a tenth of the shorter timeout, at least every second (the check walks the open connections,
 * which HTTP_MAX_CONNECTIONS bounds) and at most every 25 ms.
 */
export function connectionsCheckingIntervalMs(settings: HttpServerSettings): number {
  const shorter = Math.min(settings.headersTimeoutMs, settings.requestTimeoutMs);
  return Math.min(1000, Math.max(25, Math.floor(shorter / 10)));
}

/**
 * The HTTP server with firebridge's limits instead of Node's defaults (60 s for headers, 5 min for a
 * request, no connection cap): a client that sends its headers or body slowly is answered 408 and
 * disconnected on time, idle keep-alive connections close, and connections past the cap are
 * dropped as they arrive. A request already received is never cut off by these timeouts while it
 * waits on Google (its own calls have timeouts), so they only bound what the client controls.
 */
export function createHttpServer(listener: RequestListener, settings: HttpServerSettings): Server {
  const server = createServer(
    {
      headersTimeout: settings.headersTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      keepAliveTimeout: settings.keepAliveTimeoutMs,
      connectionsCheckingInterval: connectionsCheckingIntervalMs(settings),
    },
    listener,
  );
  server.maxConnections = settings.maxConnections;
  return server;
}
