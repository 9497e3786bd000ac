import express, { type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-trail';
import type { TokenExchange } from '../auth/exchange';
import type { NonceService } from '../auth/nonces';
import type { CustomTokenMinter } from '../auth/custom-token-generator';
import type { DeviceCodes } from '../auth/device-codes';
import type { PushSender } from '../auth/push-sender';
import type { FirebaseTokenVerifier } from '../auth/firebase-token-verifier';
import type { Config } from '../config';
import type { SharedStore } from '../store/store';
import { cors, corsEnabled } from './cors';
import { rateLimit } from './rate-limit';
import { requireFirebaseAuth } from './require-firebase-auth';
import { type RequestObserver, requestLogger } from './request-logger';
import { securityHeaderSetter } from './security-headers';
import { type AdminDeps, adminRoutes } from './routes/admin';
import { deviceRoutes } from './routes/device';
import { type GoogleRouteDeps, googleRoutes } from './routes/google';
import { authzHandler, authzRoutes } from './routes/authz';
import { healthRoutes } from './routes/health';
import { meRoutes } from './routes/me';
import { type MetricsEndpoint, metricsRoutes } from './routes/metrics';
import { nonceRoutes } from './routes/nonce';
import { oauthTokenRoutes } from './routes/oauth-token';
import { openApiRoutes } from './routes/openapi';
import { type PushRelayDeps, pushRoutes } from './routes/push';
import { tokenRoutes } from './routes/token';
import { ROUTING } from './routing';
import { DEFAULT_REALM, sendError } from './send-error';
import { rs256Scheduler } from '../jwt/rs256';
import type { RequestListener } from 'node:http';
import { fastMe } from './fast-me';
import { fastAuthz } from './fast-authz';
import { fastExchange } from './fast-exchange';
import { type FastRoute, fastEdge, withFastLane } from './fast-lane';
import { clientIpOf } from './client-ip';

export interface AppDeps {
  logger: Logger;
  exchange: Pick<TokenExchange, 'exchange'>;
  firebaseVerifier: FirebaseTokenVerifier;
  minter: CustomTokenMinter;
  nonces: NonceService;
  /** Shared state: rate-limit counters (and, through exchange/nonces, replay marks and nonces). */
  store: SharedStore;
  /** Present when ADMIN_API_TOKEN is set: mounts /v1/admin/*. */
  admin?: Omit<AdminDeps, 'logger' | 'store'>;
  /**
   * Sends pushes through FCM HTTP v1 (configured mode) or local mode's recording fake. Device sign-in
   * (`deviceCodes`) exists only with it.
   */
  push?: PushSender;
  /** Device sign-in with a pushed one-time code: mounts /v1/device/challenge and /v1/device/verify. */
  deviceCodes?: Pick<DeviceCodes, 'challenge' | 'verify'>;
  /** Present when PUSH_API_TOKEN is set: mounts POST /v1/push/send. */
  pushRelay?: Omit<PushRelayDeps, 'logger' | 'store'>;
  /** Present when GOOGLE_OAUTH_CLIENT_ID is set: mounts /v1/google/access-token and /v1/google/link. */
  vault?: GoogleRouteDeps['vault'];
  /** The tamper-evident audit trail: routes record device sign-ins, unlinks and admin revokes; /readyz reports it. */
  audit?: AuditLog;
  /** Extra routes mounted before the 404 handler (local mode's emulated Google). */
  extraRoutes?: Router;
  /**
   * Metrics (METRICS_ENABLED): `observeRequest` sees every finished request (the duration histogram);
   * `endpoint`, when present, mounts GET /metrics on this app (absent when METRICS_PORT serves it).
   */
  metrics?: { observeRequest?: RequestObserver; endpoint?: MetricsEndpoint };
}

export type AppConfig = Pick<Config, 'maxBodyBytes' | 'hardening' | 'device' | 'authz' | 'cors'>;

/** The app's JSON body parser (MAX_BODY_BYTES, objects and arrays only); the fast exchange parses with the same. */
function jsonBody(config: AppConfig) {
  return express.json({ limit: config.maxBodyBytes, strict: true });
}

/** A per-IP limit on the store (its counters live there: two limiters of one name share one budget). */
function limiter(config: AppConfig, deps: AppDeps, name: string, perMinute: number) {
  return rateLimit({ store: deps.store, name, perMinute, logger: deps.logger, onStoreError: config.hardening.rateLimitOnStoreError });
}

/** One budget per client IP for both doors to the exchange (POST /v1/token/google and POST /oauth/token). */
function exchangeLimiter(config: AppConfig, deps: AppDeps) {
  return limiter(config, deps, 'exchange', config.hardening.rateLimitExchangePerMinute);
}

/** The forward-auth handler of the app's routes and of the fast lane. */
function authz(config: AppConfig, deps: AppDeps) {
  return { verifier: deps.firebaseVerifier, settings: config.authz, logger: deps.logger };
}

/** A fresh express app: no module-level state, everything comes from config and deps. */
export function createApp(config: AppConfig, deps: AppDeps): Express {
  const { hardening } = config;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Paths match exactly (see ./routing: every router does the same), so a proxy rule on a path holds.
  app.set('case sensitive routing', ROUTING.caseSensitive);
  app.set('strict routing', ROUTING.strict);
  // req.ip believes X-Forwarded-For only through the proxies TRUST_PROXY names; none by default.
  app.set('trust proxy', hardening.trustProxy.length > 0 ? [...hardening.trustProxy] : false);
  // Helmet's headers and Cache-Control: no-store, precomputed, then the request log (and the metrics' request
  // histogram), in one middleware: one router step per request for both (BENCHMARKS.md: middleware costs).
  const setSecurityHeaders = securityHeaderSetter();
  const logRequest = requestLogger(deps.logger, deps.metrics?.observeRequest);
  app.use((req, res, next) => {
    // Requests arriving together let signature checks go to libuv's pool (src/jwt/rs256.ts).
    rs256Scheduler.noteRequest();
    setSecurityHeaders(res);
    logRequest(req, res, next);
  });
  // Forward-auth reads no body (Envoy may forward the original request's): before the body parser, so a body
  // never turns its answer into a 400 or 413, which a proxy would not relay as a refusal of the token. And before
  // CORS: it answers proxies, for which any 2xx is a pass, so the original request's preflight (Envoy, Traefik's
  // preserveRequestMethod forward OPTIONS with Origin) must get forward-auth's verdict, never CORS's token-less 204.
  authzRoutes(authz(config, deps), app);
  // CORS_ORIGINS (and local mode's loopback origins): answers allowed preflights, marks allowed answers.
  if (corsEnabled(config.cors)) app.use(cors(config.cors));
  const requireAuth = requireFirebaseAuth({ verifier: deps.firebaseVerifier, realm: DEFAULT_REALM, logger: deps.logger });
  // The hot routes, which read no body, come first, on the app itself: they never pass the body parser, a nested
  // router's dispatch or the routers below.
  meRoutes(requireAuth, app);
  app.use(healthRoutes(deps.minter, deps.store, deps.audit));
  if (deps.metrics?.endpoint) app.use(metricsRoutes(deps.metrics.endpoint, deps.logger));
  app.use(openApiRoutes());
  app.use(jsonBody(config));

  const limit = (name: string, perMinute: number) => limiter(config, deps, name, perMinute);
  const exchangeLimit = exchangeLimiter(config, deps);
  app.use(tokenRoutes({ exchange: deps.exchange, limit: exchangeLimit }));
  app.use(oauthTokenRoutes({ exchange: deps.exchange, limit: exchangeLimit, maxBodyBytes: config.maxBodyBytes, logger: deps.logger }));
  app.use(nonceRoutes(deps.nonces, limit('nonce', hardening.rateLimitNoncePerMinute)));
  if (deps.deviceCodes) {
    app.use(
      deviceRoutes({
        device: deps.deviceCodes,
        firebaseVerifier: deps.firebaseVerifier,
        limit: limit('device', config.device.rateLimitPerIpPerMinute),
        logger: deps.logger,
        audit: deps.audit,
      }),
    );
  }
  if (deps.vault) app.use(googleRoutes({ vault: deps.vault, requireAuth, audit: deps.audit }));
  if (deps.admin) app.use(adminRoutes({ ...deps.admin, logger: deps.logger, store: deps.store, audit: deps.audit }));
  if (deps.pushRelay) app.use(pushRoutes({ ...deps.pushRelay, logger: deps.logger, store: deps.store }));
  if (deps.extraRoutes) app.use(deps.extraRoutes);

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found', error_description: 'no such route' });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    sendError(res, err, { logger: deps.logger });
  });
  return app;
}

/**
 * The fast lane's routes (src/http/fast-lane.ts): `GET /v1/me`, forward-auth and `POST /v1/token/google` on
 * node:http, each in its plain case, with the app's own handlers, parser and limiter.
 */
export function fastRoutes(config: AppConfig, deps: AppDeps): FastRoute[] {
  const edge = fastEdge({ logger: deps.logger, observe: deps.metrics?.observeRequest, setSecurityHeaders: securityHeaderSetter() });
  const cors = corsEnabled(config.cors);
  return [
    fastMe({ verifier: deps.firebaseVerifier, logger: deps.logger, edge, corsEnabled: cors }),
    fastAuthz(authzHandler(authz(config, deps)), edge),
    fastExchange({
      exchange: deps.exchange,
      jsonBody: jsonBody(config),
      maxBodyBytes: config.maxBodyBytes,
      limit: exchangeLimiter(config, deps).check,
      clientIp: clientIpOf(config.hardening.trustProxy),
      logger: deps.logger,
      edge,
      corsEnabled: cors,
    }),
  ];
}

/**
 * The server's request listener: the fast lane in front of the app, which answers everything else. Tests that
 * drive the app itself (supertest) see the same answers through express (test/http/fast-*.test.ts compare them).
 */
export function createRequestListener(config: AppConfig, deps: AppDeps): RequestListener {
  return withFastLane(createApp(config, deps), fastRoutes(config, deps));
}
