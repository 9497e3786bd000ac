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
import { securityHeaderSetter, securityHeaders } from '../src/http/security-headers';
import { createLogger } from '../src/logger';
import { MemoryStore } from '../src/store/memory-store';
import { FakeGoogle } from '../testkit/fake-google';
import { bridgeFor } from '../testkit/harness';
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

/** A function sending `app` one GET and resolving when the response ends (written to no socket). */
function whole(app: (req: IncomingMessage, res: ServerResponse) => void, path: string, authorization: string): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      const req = new IncomingMessage(socket);
      req.method = 'GET';
      req.url = path;
      req.headers = { host: '127.0.0.1:8080', authorization, 'user-agent': 'wrk', accept: '*/*' };
      const res = new ServerResponse(req);
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      res.end = ((...args: unknown[]) => {
        const out = end(...args);
        if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}`);
        resolve();
        return out;
      }) as typeof res.end;
      app(req, res);
    });
}

async function main(): Promise<void> {
  // The whole app, as the server builds it, against a bare express route with the same body.
  const fake = await FakeGoogle.start('bench-project-1');
  const bridge = bridgeFor(fake, { env: { LOG_LEVEL: 'warn' } });
  await bridge.deps.firebaseKeys.warm();
  const idToken = await fake.firebaseIdToken({ sub: 'google:110169484474386276334', user_id: 'google:110169484474386276334', email: 'ada@example.com', name: 'Ada Lovelace' });
  const claims = JSON.parse(Buffer.from(idToken.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
  const bareApp = express();
  bareApp.disable('x-powered-by');
  bareApp.set('etag', false);
  const bareBody = { uid: claims.sub, claims };
  bareApp.get('/v1/me', (_req, res) => {
    res.json(bareBody);
  });
  const meHit = whole(bridge.app as never, '/v1/me', `Bearer ${idToken}`);
  await meHit();
  await meHit(); // second use: cached from now on

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
    after: (() => {
      // As src/http/app.ts composes them: one middleware.
      const set = securityHeaderSetter();
      const log = requestLogger(warn);
      return driver((req, res, next) => {
        set(res);
        log(req, res, next);
      });
    })(),
    bareApp: whole(bareApp as never, '/v1/me', `Bearer ${idToken}`),
    meHit,
    authzHit: whole(bridge.app as never, '/v1/authz', `Bearer ${idToken}`),
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
    ['the stack now: precomputed headers and the request logger in one middleware', 'after', 'in front of /v1/me now'],
  ];
  process.stdout.write(`# middleware cost per request (${new Date().toISOString()}, node ${process.version}; medians of ${SAMPLES} interleaved samples)\n\n`);
  process.stdout.write(`An express app with one route and no middleware: ${base.toFixed(2)} µs per request (${fmt(1e6 / base)}/s), the baseline.\n\n`);
  process.stdout.write('| middleware | cost per request (above the baseline) | where it is now |\n| --- | --- | --- |\n');
  for (const [label, key, note] of rows) process.stdout.write(`| ${label} | ${(us(key) - base).toFixed(2)} µs | ${note} |\n`);
  process.stdout.write(
    `\nWhole requests, the response written to no socket (Node's HTTP parsing and socket writes left out, the same for both):\n\n` +
      '| app | µs per request | vs the bare route |\n| --- | --- | --- |\n' +
      `| bare express route, res.json of the same body | ${us('bareApp').toFixed(2)} | 1.00× |\n` +
      `| firebridge createApp, GET /v1/me, cache hit (LOG_LEVEL=warn) | ${us('meHit').toFixed(2)} | ${(us('meHit') / us('bareApp')).toFixed(2)}× |\n` +
      `| firebridge createApp, GET /v1/authz, cache hit (LOG_LEVEL=warn) | ${us('authzHit').toFixed(2)} | ${(us('authzHit') / us('bareApp')).toFixed(2)}× |\n`,
  );
  await fake.close();
  await store.close();
  socket.destroy();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
