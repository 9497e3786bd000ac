/**
 * The fixed cost of each middleware on the hot path, per request, in-process: an express app with just that
 * middleware in front of one route, driven through app(req, res) with real node:http IncomingMessage and
 * ServerResponse objects (no socket: the cost of writing the response is the same for every case and left out),
 * against the same app without it. Median of --samples interleaved samples.
 *   node --import tsx bench/middleware.ts [--ms 1000] [--samples 7]
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { rateLimit } from '../src/http/rate-limit';
import { requestLogger } from '../src/http/request-logger';
import { securityHeaders } from '../src/http/security-headers';
import { createLogger } from '../src/logger';
import { MemoryStore } from '../src/store/memory-store';
import { fmt, interleaved } from './common';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const MS = arg('ms', 1000);
const SAMPLES = arg('samples', 7);

const socket = new Socket();
const token = `eyJhbGciOiJSUzI1NiJ9.${'x'.repeat(900)}.${'y'.repeat(342)}`;

/** An app with `middleware` in front of GET /v1/me, and a function sending it one request. */
function driver(...middleware: RequestHandler[]): () => Promise<void> {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  let done: () => void = () => undefined;
  for (const m of middleware) app.use(m);
  app.get('/v1/me', (_req, res) => {
    res.statusCode = 200;
    done();
  });
  return () =>
    new Promise<void>((resolve) => {
      const req = new IncomingMessage(socket);
      req.method = 'GET';
      req.url = '/v1/me';
      req.headers = { host: '127.0.0.1:8080', authorization: `Bearer ${token}`, 'user-agent': 'wrk', accept: '*/*' };
      const res = new ServerResponse(req);
      done = () => {
        res.emit('finish'); // what the socket's write completion does: the request logger's line
        resolve();
      };
      app(req as express.Request, res as express.Response);
    });
}

async function main(): Promise<void> {
  const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });
  const info = createLogger('info', sink);
  const warn = createLogger('warn', sink);
  const store = new MemoryStore(Date.now);
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };
  const cases = {
    none: driver(),
    helmet: driver(helmet()),
    noStore: driver(noStore),
    securityHeaders: driver(securityHeaders()),
    loggerWarn: driver(requestLogger(warn)),
    loggerInfo: driver(requestLogger(info)),
    json: driver(express.json({ limit: 65536, strict: true })),
    rateLimit: driver(rateLimit({ store, name: 'bench', perMinute: 1e9, logger: warn })),
    before: driver(helmet(), requestLogger(warn), noStore, express.json({ limit: 65536, strict: true })),
    after: driver(securityHeaders(), requestLogger(warn)),
  };
  const r = await interleaved(Object.fromEntries(Object.entries(cases).map(([k, f]) => [k, () => f()])), MS, SAMPLES);
  const us = (k: keyof typeof cases) => 1e6 / (r[k] as { perSecond: number }).perSecond;
  const base = us('none');
  const rows: Array<[string, keyof typeof cases, string]> = [
    ['helmet() (13 small middlewares setting 13 headers)', 'helmet', 'replaced by the precomputed headers below'],
    ['Cache-Control: no-store as its own middleware', 'noStore', 'merged into the precomputed headers'],
    ["precomputed headers: helmet's 13 and no-store, one middleware (securityHeaders)", 'securityHeaders', 'stays: the headers are required'],
    ['request logger, LOG_LEVEL=warn (X-Request-Id, no line)', 'loggerWarn', 'stays: X-Request-Id on every response, reqId on every line'],
    ['request logger, LOG_LEVEL=info (one line per request)', 'loggerInfo', 'stays: the request log is the default; warn drops the line'],
    ['express.json() on a GET without a body', 'json', 'no longer on /v1/me, /v1/authz, /healthz, /readyz'],
    ['rate limit (memory store), per request', 'rateLimit', 'only on the routes it protects (exchange, nonce, device), never on /v1/me'],
    ['the stack before: helmet, request logger, no-store, body parser', 'before', 'in front of /v1/me before this change (routers not counted)'],
    ['the stack now: precomputed headers, request logger', 'after', 'in front of /v1/me now'],
  ];
  process.stdout.write(`# middleware cost per request (${new Date().toISOString()}, node ${process.version}; medians of ${SAMPLES} interleaved samples)\n\n`);
  process.stdout.write(`An express app with one route and no middleware: ${base.toFixed(2)} µs per request (${fmt(1e6 / base)}/s), the baseline.\n\n`);
  process.stdout.write('| middleware | cost per request (above the baseline) | where it is now |\n| --- | --- | --- |\n');
  for (const [label, key, note] of rows) process.stdout.write(`| ${label} | ${(us(key) - base).toFixed(2)} µs | ${note} |\n`);
  await store.close();
  socket.destroy();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
